package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// numCtxSent lists options.num_ctx of every native chat the double saw.
func numCtxSent(srv *llmtest.Server) []int {
	var out []int
	for _, c := range srv.Chats() {
		if o, _ := c.Raw["options"].(map[string]any); o != nil {
			if f, ok := o["num_ctx"].(float64); ok {
				out = append(out, int(f))
			}
		}
	}
	return out
}

// Five questions of different sizes to an Ollama that has the model loaded
// with an 8192-token window: every request keeps that window, so the real
// server never reloads the model (it does whenever num_ctx changes). A
// question too long for it moves to the next fixed size, which the next
// run, reading /api/ps again, keeps.
func TestCLIOllamaKeepsTheLoadedWindow(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words.",
		Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", Family: "qwen2", ParameterSize: "7.6B", ContextLength: 32768,
			Loaded: true, LoadedContext: 8192, Digest: strings.Repeat("a", 64)}}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o640)
	ask := func(words int) {
		t.Helper()
		q := "why does this reverse " + strings.Repeat("the words ", words) + "?"
		out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9", "--col", "6", q)
		if code != 0 {
			t.Fatalf("ask (%d words): exit %d\n%s\n%s", words, code, out, errOut)
		}
	}
	for _, words := range []int{1, 100, 400, 800, 1200} {
		ask(words)
	}
	sent := numCtxSent(srv)
	if len(sent) < 5 {
		t.Fatalf("num_ctx sent %v: want one per question", sent)
	}
	for _, n := range sent {
		if n != 8192 {
			t.Fatalf("num_ctx sent %v: want the loaded window 8192 every time", sent)
		}
	}
	if srv.Reloads() != 0 {
		t.Fatalf("the model was reloaded %d times", srv.Reloads())
	}
	// A question that needs more than 8192: the next power of two, once.
	ask(2500)
	ask(10)
	sent = numCtxSent(srv)
	last := sent[len(sent)-2:]
	if last[0] != 16384 || last[1] != 16384 || srv.Reloads() != 1 {
		t.Fatalf("after a long question num_ctx %v, reloads %d: want 16384 twice and one reload", sent, srv.Reloads())
	}
	t.Logf("num_ctx sent: %v", sent)
}
