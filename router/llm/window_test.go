package llm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func TestOllamaWindow(t *testing.T) {
	for _, tc := range []struct{ need, loaded, max, want int }{
		{need: 900, loaded: 8192, max: 32768, want: 8192},     // fits the loaded window: keep it
		{need: 8192, loaded: 8192, max: 32768, want: 8192},    // exactly
		{need: 8193, loaded: 8192, max: 32768, want: 16384},   // next power of two
		{need: 900, loaded: 0, max: 32768, want: 2048},        // not loaded: smallest fixed size
		{need: 2500, loaded: 0, max: 32768, want: 4096},       //
		{need: 30000, loaded: 0, max: 24576, want: 24576},     // never above the model's maximum
		{need: 900, loaded: 0, max: 1024, want: 1024},         // a model smaller than the smallest size
		{need: 5000, loaded: 4096, max: 0, want: 8192},        // maximum unknown
		{need: 100, loaded: 65536, max: 32768, want: 2048},    // a loaded window above the maximum is not trusted
		{need: 1 << 22, loaded: 0, max: 0, want: 1 << 20},     // bounded when nothing is known
		{need: 40000, loaded: 32768, max: 32768, want: 32768}, // too long anyway: the maximum
	} {
		if got := llm.OllamaWindow(tc.need, tc.loaded, tc.max); got != tc.want {
			t.Errorf("OllamaWindow(%d, %d, %d) = %d, want %d", tc.need, tc.loaded, tc.max, got, tc.want)
		}
	}
}

func numCtxOf(r llmtest.ChatRequest) int {
	o, _ := r.Raw["options"].(map[string]any)
	n, _ := o["num_ctx"].(float64)
	return int(n)
}

// The client keeps the window the model is loaded with for every prompt
// that fits it, whatever the prompt's size, so Ollama never reloads; a
// prompt that does not fit moves to the next fixed size, which the client
// then keeps.
func TestOllamaClientKeepsTheLoadedWindow(t *testing.T) {
	md := llmtest.DefaultModel(llm.KindOllama)
	md.LoadedContext = 8192
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{md}, Reply: "ok"})
	defer srv.Close()
	svc := srv.Service()
	svc.Models[0].LoadedContext = 8192 // what discovery reads from /api/ps
	c := llm.NewClient(svc, nil, fastOpts())
	for _, words := range []int{1, 300, 1200, 2500, 4000} {
		req := chatReq(llm.KindOllama, strings.Repeat("word ", words))
		req.MaxTokens = 2048
		if _, _, err := collect(t, c, context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range srv.Chats() {
		if n := numCtxOf(ch); n != 8192 {
			t.Fatalf("request %d sent num_ctx %d, want the loaded 8192", i, n)
		}
	}
	if srv.Reloads() != 0 {
		t.Fatalf("%d reloads", srv.Reloads())
	}
	big := chatReq(llm.KindOllama, strings.Repeat("word ", 9000))
	big.MaxTokens = 2048
	small := chatReq(llm.KindOllama, "hi")
	for _, req := range []llm.ChatRequest{big, small} {
		if _, _, err := collect(t, c, context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	chats := srv.Chats()
	if a, b := numCtxOf(chats[len(chats)-2]), numCtxOf(chats[len(chats)-1]); a != 16384 || b != 16384 || srv.Reloads() != 1 {
		t.Fatalf("after a long prompt: num_ctx %d then %d, %d reloads; want 16384 twice, one reload", a, b, srv.Reloads())
	}
}

// A caller that knows the prompt's size (ChatRequest.NumCtx) gets a fixed
// size, never that exact number: the old behaviour sent 2715, 2786, 2464...
func TestOllamaNumCtxIsNeverThePromptSize(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok"})
	defer srv.Close()
	svc := service(llm.KindOllama, srv) // not loaded: no window to keep
	c := llm.NewClient(svc, nil, fastOpts())
	for _, need := range []int{2715, 2786, 2464, 922, 4000} {
		req := chatReq(llm.KindOllama, "x")
		req.NumCtx = need
		if _, _, err := collect(t, c, context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int]bool{}
	for _, ch := range srv.Chats() {
		n := numCtxOf(ch)
		if n&(n-1) != 0 || n < llm.MinOllamaWindow {
			t.Errorf("num_ctx %d is not one of the fixed sizes", n)
		}
		seen[n] = true
	}
	if len(seen) != 1 {
		t.Errorf("num_ctx values %v: the first window (4096) holds every later request", seen)
	}
}

// GPT4All answers a prompt that does not fit with an empty HTTP 500. Near
// the window that is "too long" (the executor shrinks the prompt); far from
// it, it is a server failure and stays one.
func TestGPT4AllEmpty500IsTooLongOnlyNearTheWindow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError) // the exact answer: no body
	}))
	defer srv.Close()
	svc := llm.Service{Kind: llm.KindGPT4All, Endpoint: srv.URL, Status: llm.StatusOnline,
		Models: []llm.Model{{ID: "Llama 3 8B Instruct", ContextLength: 2048, Chat: true}}}
	c := llm.NewClient(svc, nil, fastOpts())
	req := func(words int) llm.ChatRequest {
		return llm.ChatRequest{Model: "Llama 3 8B Instruct", MaxTokens: 512,
			Messages: []llm.Message{{Role: "user", Content: strings.Repeat("word ", words)}}}
	}
	_, _, err := collect(t, c, context.Background(), req(5))
	if e := asLLMError(t, err); e.ContextTooLong || e.Status != 500 {
		t.Errorf("a short prompt's empty 500 counted as too long: %+v", e)
	}
	_, _, err = collect(t, c, context.Background(), req(1500))
	e := asLLMError(t, err)
	if !e.ContextTooLong || e.Retryable || !strings.Contains(e.Message, "window 2048") {
		t.Errorf("a prompt near the window: %+v", e)
	}
	// Without a window from discovery, GPT4All's default (2048) counts.
	svc.Models[0].ContextLength = 0
	_, _, err = collect(t, llm.NewClient(svc, nil, fastOpts()), context.Background(), req(1500))
	if e := asLLMError(t, err); !e.ContextTooLong {
		t.Errorf("default window not used: %+v", e)
	}
}

// Ollama behind Open WebUI cuts a prompt longer than its window without a
// word; the usage it reports shows it, and the client turns it into a
// too-long error so a shorter prompt is tried.
func TestOpenWebUISilentTruncationIsTooLong(t *testing.T) {
	md := llmtest.DefaultModel(llm.KindOpenWebUI)
	md.ContextLength = 2048 // what the Ollama behind it runs with
	srv := llmtest.New(llm.KindOpenWebUI, llmtest.Options{Models: []llmtest.Model{md}, Reply: "ok"})
	defer srv.Close()
	svc := srv.Service()
	svc.Models[0].ContextLength = 32768 // a wrong window, as the catalog would give
	c := llm.NewClient(svc, nil, fastOpts())
	if _, _, err := collect(t, c, context.Background(), chatReq(llm.KindOpenWebUI, strings.Repeat("word ", 1500))); err != nil {
		t.Fatalf("a prompt that fits: %v", err)
	}
	_, _, err := collect(t, c, context.Background(), chatReq(llm.KindOpenWebUI, strings.Repeat("word ", 6000)))
	e := asLLMError(t, err)
	if !e.ContextTooLong || !strings.Contains(e.Message, "truncated the prompt silently") || !strings.Contains(e.Message, "context_length") {
		t.Fatalf("silent truncation not reported: %+v", e)
	}
}

// KoboldCpp's chat is its OpenAI-compatible /v1/chat/completions
// (koboldcpp.py routes it beside the native /api/v1/generate, a plain
// completion API): the client must use that path.
func TestKoboldCppChatPath(t *testing.T) {
	srv := llmtest.New(llm.KindKoboldCpp, llmtest.Options{Reply: "ok"})
	defer srv.Close()
	got, _, err := collect(t, llm.NewClient(srv.Service(), nil, fastOpts()), context.Background(), chatReq(llm.KindKoboldCpp, "hi"))
	if err != nil || got != "ok" {
		t.Fatalf("%q %v", got, err)
	}
	if p := srv.Chats()[0].Path; p != "/v1/chat/completions" {
		t.Fatalf("chat went to %s", p)
	}
}
