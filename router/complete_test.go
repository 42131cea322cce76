package router_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/completion"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/security/audit"
)

const completeSrc = "package main\n\nfunc add(a, b int) int {\n\t\n}\n"

// completeAt is the request with the cursor after the tab of line 4.
func completeAt(text string) router.CompletionRequest {
	return router.CompletionRequest{Path: "/ws/main.go", LanguageID: "go", Text: text,
		Offset: strings.Index(text, "{\n\t") + 3, WorkspaceRoot: "/ws"}
}

func completionOn(d *router.Deps) { d.Completion = router.CompletionOptions{Enabled: true} }

func TestCompleteOllamaNativeFIMPostProcessed(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FIMReply: "return a + b\n}\n\nfunc main() {}"})
	defer srv.Close()
	aud := &memAudit{}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 1)}}, func(d *router.Deps) {
		completionOn(d)
		d.Audit = aud
	})
	req := completeAt(completeSrc)
	req.Others = []completion.Document{{Path: "/ws/util.go", LanguageID: "go", Text: "package main\n\nfunc helper() {}\n", Edited: 2},
		{Path: "/outside/secret.go", LanguageID: "go", Text: "package nope\n", Edited: 3}}
	res, err := p.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "return a + b" || res.Model != "qwen2.5-coder:7b" {
		t.Fatalf("got %+v", res)
	}
	got := srv.FIMRequests()
	if len(got) != 1 || got[0].Path != "/api/generate" {
		t.Fatalf("requests %+v", got)
	}
	if !strings.HasSuffix(got[0].Prefix, "func add(a, b int) int {\n\t") || got[0].Suffix != "\n}\n" {
		t.Errorf("prefix %q suffix %q", got[0].Prefix, got[0].Suffix)
	}
	if !strings.Contains(got[0].Prefix, "// file: util.go\n") || strings.Contains(got[0].Prefix, "nope") {
		t.Errorf("snippets: %q", got[0].Prefix)
	}
	var types []audit.EventType
	for _, e := range aud.events {
		types = append(types, e.Type)
		if e.Type == audit.EventQuery && (e.Category != "completion" || e.Command != "complete" || e.Model != "qwen2.5-coder:7b") {
			t.Errorf("audit record %+v", e)
		}
	}
	if len(types) != 2 || types[0] != audit.EventQueryStart || types[1] != audit.EventQuery {
		t.Errorf("audit events %v", types)
	}
	// Typing through the suggestion is served from the cache.
	typed := strings.Replace(completeSrc, "{\n\t", "{\n\tretu", 1)
	req2 := completeAt(typed)
	req2.Offset += 4
	res2, err := p.Complete(context.Background(), req2)
	if err != nil || !res2.Cached || res2.Text != "rn a + b" {
		t.Fatalf("typing through: %+v %v", res2, err)
	}
	if n := len(srv.FIMRequests()); n != 1 {
		t.Fatalf("%d upstream requests, want the cache to answer", n)
	}
}

func TestCompleteLlamaCppInfillWithExtra(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{FIMReply: "return a + b"})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "llama.cpp", 1)}}, completionOn)
	req := completeAt(completeSrc)
	req.Others = []completion.Document{{Path: "/ws/util.go", LanguageID: "go", Text: "package main\n"}}
	if _, err := p.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := srv.FIMRequests()[0]
	if r.Path != "/infill" || r.Prefix != completeSrc[:req.Offset] || r.Suffix != completeSrc[req.Offset:] {
		t.Fatalf("%+v", r)
	}
	if len(r.Extra) != 1 || r.Extra[0].Filename != "util.go" {
		t.Errorf("input_extra %+v", r.Extra)
	}
}

func TestCompleteTemplateForOpenAIStyleServers(t *testing.T) {
	srv := llmtest.New(llm.KindVLLM, llmtest.Options{FIMReply: "return a + b"})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "vLLM", 1)}}, completionOn)
	req := completeAt(completeSrc)
	if _, err := p.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := srv.FIMRequests()[0]
	want := "<|fim_prefix|>" + completeSrc[:req.Offset] + "<|fim_suffix|>" + completeSrc[req.Offset:] + "<|fim_middle|>"
	if r.Path != "/v1/completions" || r.Prompt != want {
		t.Fatalf("prompt %q\nwant   %q", r.Prompt, want)
	}
}

func TestCompleteRedactsSecrets(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FIMReply: "return a + b"})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 1)}}, completionOn)
	src := "package main\n\nconst key = \"AKIAIOSFODNN7EXAMPLE\"\n\nfunc add(a, b int) int {\n\t\n}\n"
	if _, err := p.Complete(context.Background(), completeAt(src)); err != nil {
		t.Fatal(err)
	}
	if r := srv.FIMRequests()[0]; strings.Contains(r.Prefix, "AKIAIOSFODNN7EXAMPLE") {
		t.Fatalf("the secret reached the model: %q", r.Prefix)
	}
}

func TestCompleteNeverUsesChatOnlyModels(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{
		{ID: "llama3.2:3b", Family: "llama", ParameterSize: "3.2B", ContextLength: 131072, Loaded: true},
		{ID: "qwen2.5-coder:1.5b", Family: "qwen2", ParameterSize: "1.5B", ContextLength: 32768},
		{ID: "qwen2.5-coder:32b", Family: "qwen2", ParameterSize: "32.8B", ContextLength: 32768, Loaded: true},
	}, FIMReply: "x"})
	defer srv.Close()
	svcs := &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 1)}}
	p := newPipeline(t, svcs, completionOn)
	res, err := p.Complete(context.Background(), completeAt(completeSrc))
	if err != nil {
		t.Fatal(err)
	}
	// Loaded first, though big; the chat-only llama3.2 never.
	if res.Model != "qwen2.5-coder:32b" {
		t.Fatalf("model %q", res.Model)
	}
	chatOnly := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{
		{ID: "llama3.2:3b", Family: "llama", ParameterSize: "3.2B", ContextLength: 131072, Loaded: true}}})
	defer chatOnly.Close()
	p2 := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(chatOnly, "Ollama", 1)}}, completionOn)
	if _, err := p2.Complete(context.Background(), completeAt(completeSrc)); err == nil || !strings.Contains(err.Error(), "fill-in-the-middle") {
		t.Fatalf("err = %v", err)
	}
	if n := len(chatOnly.FIMRequests()); n != 0 {
		t.Fatalf("a chat-only model was asked %d times", n)
	}
}

func TestCompleteNamedModelAndDisabled(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{
		{ID: "qwen2.5-coder:1.5b", Family: "qwen2", ParameterSize: "1.5B", ContextLength: 32768, Loaded: true},
		{ID: "starcoder2:3b", Family: "starcoder2", ParameterSize: "3B", ContextLength: 16384},
	}, FIMReply: "x := 1"})
	defer srv.Close()
	svcs := &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 1)}}
	p := newPipeline(t, svcs, func(d *router.Deps) {
		d.Completion = router.CompletionOptions{Enabled: true, Model: "starcoder2:3b"}
	})
	res, err := p.Complete(context.Background(), completeAt(completeSrc))
	if err != nil || res.Model != "starcoder2:3b" {
		t.Fatalf("%+v %v", res, err)
	}
	off := newPipeline(t, svcs, nil)
	if _, err := off.Complete(context.Background(), completeAt(completeSrc)); !errors.Is(err, router.ErrCompletionDisabled) {
		t.Fatalf("err = %v", err)
	}
}

func TestCompleteCancelClosesUpstream(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FirstTokenDelay: time.Minute})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 1)}}, completionOn)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := p.Complete(ctx, completeAt(completeSrc)); done <- err }()
	for len(srv.FIMRequests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	select {
	case <-srv.ClientGone():
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request stayed open")
	}
}

// hoverSource is a language server that knows one signature.
type hoverSource struct{ at codectx.Position }

func (h *hoverSource) Name() string { return "fake-ls" }
func (h *hoverSource) Symbol(context.Context, codectx.Query) (*codectx.Symbol, error) {
	return nil, codectx.ErrUnsupported
}
func (h *hoverSource) Hover(_ context.Context, q codectx.Query, _ *codectx.Symbol) (string, error) {
	h.at = q.Position
	return "```go\nfunc strings.Fields(s string) []string\n```\n\nFields splits the string s around white space.", nil
}
func (h *hoverSource) References(context.Context, codectx.Query, *codectx.Symbol, int) ([]codectx.Reference, error) {
	return nil, codectx.ErrUnsupported
}
func (h *hoverSource) Diagnostics(context.Context, codectx.Query, *codectx.Symbol) ([]codectx.Diagnostic, error) {
	return nil, codectx.ErrUnsupported
}

func TestCompleteGivesTheCalledFunctionsSignature(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FIMReply: "s)"})
	defer srv.Close()
	hs := &hoverSource{}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 1)}}, func(d *router.Deps) {
		completionOn(d)
		d.Sources = []codectx.Source{codectx.BufferSource{}, hs}
	})
	src := "package main\n\nimport \"strings\"\n\nfunc f(s string) []string {\n\treturn strings.Fields(\n}\n"
	off := strings.Index(src, "Fields(") + len("Fields(")
	res, err := p.Complete(context.Background(), router.CompletionRequest{Path: "/ws/main.go", LanguageID: "go", Text: src, Offset: off, WorkspaceRoot: "/ws"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "s)" {
		t.Errorf("suggestion %q", res.Text)
	}
	if hs.at != (codectx.Position{Line: 5, Character: 16}) {
		t.Errorf("hover asked at %+v, want the name Fields", hs.at)
	}
	r := srv.FIMRequests()[0]
	if !strings.Contains(r.Prefix, "// Fields: func strings.Fields(s string) []string\n") || strings.Contains(r.Prefix, "splits") {
		t.Errorf("prefix %q: want the signature only", r.Prefix)
	}
}
