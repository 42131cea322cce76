package llm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func fimClient(t *testing.T, srv *llmtest.Server) llm.FIMClient {
	t.Helper()
	c, ok := llm.NewClient(srv.Service(), nil, llm.Options{}).(llm.FIMClient)
	if !ok {
		t.Fatal("the client does not fill in the middle")
	}
	return c
}

func TestFIMOllamaNativeSuffix(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FIMReply: "return a + b"})
	defer srv.Close()
	res, err := fimClient(t, srv).FIM(context.Background(), llm.FIMRequest{Model: "qwen2.5-coder:7b",
		Prefix: "func add(a, b int) int {\n\t", Suffix: "\n}\n", Prompt: "<|fim_prefix|>ignored", MaxTokens: 64, Stop: []string{"\n\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "return a + b" || res.Route != "/api/generate" {
		t.Fatalf("got %+v", res)
	}
	got := srv.FIMRequests()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	r := got[0]
	if r.Prefix != "func add(a, b int) int {\n\t" || r.Suffix != "\n}\n" {
		t.Errorf("prefix %q suffix %q", r.Prefix, r.Suffix)
	}
	if r.Raw["raw"] != false || r.Raw["stream"] != false {
		t.Errorf("raw %v stream %v: Ollama must apply the model's template to one answer", r.Raw["raw"], r.Raw["stream"])
	}
	opts, _ := r.Raw["options"].(map[string]any)
	if opts["num_predict"] != float64(64) {
		t.Errorf("options %v", opts)
	}
}

func TestFIMLlamaCppInfill(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{FIMReply: "x := 1"})
	defer srv.Close()
	res, err := fimClient(t, srv).FIM(context.Background(), llm.FIMRequest{Model: "m", Prefix: "pre", Suffix: "suf",
		Extra: []llm.FIMFile{{Filename: "other.go", Text: "package other"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := srv.FIMRequests()[0]
	if res.Text != "x := 1" || r.Path != "/infill" || r.Prefix != "pre" || r.Suffix != "suf" {
		t.Fatalf("res %+v req %+v", res, r)
	}
	if len(r.Extra) != 1 || r.Extra[0].Filename != "other.go" {
		t.Errorf("input_extra %+v", r.Extra)
	}
}

func TestFIMTemplateOverCompletions(t *testing.T) {
	srv := llmtest.New(llm.KindVLLM, llmtest.Options{FIMReply: "middle"})
	defer srv.Close()
	c := fimClient(t, srv)
	model := srv.Service().Models[0].ID
	if _, err := c.FIM(context.Background(), llm.FIMRequest{Model: model, Prefix: "a", Suffix: "b"}); err == nil {
		t.Fatal("a server without native FIM was sent a request without a template")
	}
	res, err := c.FIM(context.Background(), llm.FIMRequest{Model: model, Prefix: "a", Suffix: "b",
		Prompt: "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"})
	if err != nil {
		t.Fatal(err)
	}
	r := srv.FIMRequests()[0]
	if res.Text != "middle" || r.Path != "/v1/completions" || r.Prompt != "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>" {
		t.Fatalf("res %+v req %+v", res, r)
	}
	if _, has := r.Raw["suffix"]; has {
		t.Error("vLLM refuses suffix, yet it was sent")
	}
}

func TestFIMChatOnlyServerRefused(t *testing.T) {
	srv := llmtest.New(llm.KindGPT4All, llmtest.Options{})
	defer srv.Close()
	_, err := fimClient(t, srv).FIM(context.Background(), llm.FIMRequest{Model: "x", Prefix: "a", Prompt: "p"})
	if err == nil || !strings.Contains(err.Error(), "chat only") {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.FIMRequests()); n != 0 {
		t.Fatalf("%d requests reached a chat-only server", n)
	}
}

func TestFIMCancelClosesUpstream(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FirstTokenDelay: time.Minute})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := fimClient(t, srv).FIM(ctx, llm.FIMRequest{Model: "qwen2.5-coder:7b", Prefix: "a"})
		done <- err
	}()
	for len(srv.FIMRequests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v", err)
	}
	select {
	case <-srv.ClientGone():
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the connection close")
	}
	if srv.FIMCancelled() != 1 {
		t.Fatalf("cancelled = %d", srv.FIMCancelled())
	}
}

func TestFIMModelMissing(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	_, err := fimClient(t, srv).FIM(context.Background(), llm.FIMRequest{Model: "nope:1b", Prefix: "a"})
	if err == nil || !asLLMError(t, err).ModelNotFound {
		t.Fatalf("err = %v", err)
	}
}

func TestFIMOllamaModelWithoutInsert(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{{ID: "llama3.2:3b", NoInsert: true, Loaded: true}}})
	defer srv.Close()
	_, err := fimClient(t, srv).FIM(context.Background(), llm.FIMRequest{Model: "llama3.2:3b", Prefix: "a", Suffix: "b"})
	if err == nil || !strings.Contains(err.Error(), "does not support insert") {
		t.Fatalf("err = %v", err)
	}
}
