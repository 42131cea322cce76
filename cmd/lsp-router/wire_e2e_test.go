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

// A 2048-token model answers a short question: the answer's reserve is a
// quarter of the window, not the whole max_answer_tokens (2048).
func TestCLISmallWindowAnswersAndTooSmallExits3(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "Hello.",
		Models: []llmtest.Model{{ID: "qwen2.5-coder:1.5b", Family: "qwen2", ParameterSize: "1.5B", ContextLength: 2048,
			Loaded: true, LoadedContext: 2048, Digest: strings.Repeat("b", 64)}}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o640)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9", "--col", "6", "hi")
	if code != 0 || !strings.Contains(out, "Hello.") {
		t.Fatalf("ask hi on a 2048-token model: exit %d\n%s\n%s", code, out, errOut)
	}
	chats := srv.Chats()
	o, _ := chats[len(chats)-1].Raw["options"].(map[string]any)
	if o["num_predict"] != float64(512) || o["num_ctx"] != float64(2048) {
		t.Errorf("options %v: want num_predict 512 (a quarter of the window) and num_ctx 2048", o)
	}
	// A question that cannot fit: the documented exit code 3, and the
	// advice to lower generation.max_answer_tokens.
	q := strings.Repeat("explain every word of this ", 800)
	out, errOut, code = runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9", "--col", "6", q)
	if code != exitNoService || !strings.Contains(errOut, "max_answer_tokens") {
		t.Errorf("nothing can answer: exit %d, want %d (README), and advice on max_answer_tokens:\n%s", code, exitNoService, tail(out+errOut))
	}
}

// Models refused by security.model_pins: the message names them and the
// pins, not "no local LLM service ... ollama serve", and the exit code is 3.
func TestCLIPinRefusalNamesThePins(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "Hello.",
		Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", Family: "qwen2", ParameterSize: "7.6B", ContextLength: 32768,
			Loaded: true, Digest: strings.Repeat("a", 64)}}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("verify_checksums = true\n[security.model_pins]\n\"llama3.2:1b\" = \"sha256:"+strings.Repeat("b", 64)+"\"\n")...), 0o600)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o640)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9", "--col", "6")
	msg := out + errOut
	if code != exitNoService || strings.Contains(msg, "ollama serve") || !strings.Contains(msg, "qwen2.5-coder:7b") ||
		!strings.Contains(msg, "model_pins") || !strings.Contains(msg, "lsp-router models --pin") {
		t.Fatalf("exit %d\n%s", code, msg)
	}
	if srv.Generations() != 0 {
		t.Errorf("a refused model was asked")
	}
}

// GPT4All reports no window (discovery assumes its default 2048) and
// answers a prompt that does not fit with an empty HTTP 500. Near the
// window that is "too long", not a server failure: the request moves to the
// reduced prompt (here the question alone is too long for it, so nothing
// can answer: exit 3 and advice on the window), and the same too-long
// request is never sent again.
func TestCLIGPT4AllEmpty500IsTooLong(t *testing.T) {
	md := llmtest.DefaultModel(llm.KindGPT4All)
	md.ContextLength = 400 // the window it really runs with, smaller than the assumed 2048
	srv := llmtest.New(llm.KindGPT4All, llmtest.Options{Reply: "It reverses the words.", Models: []llmtest.Model{md}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindGPT4All, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o640)
	// About 670 words: over the real 400, and near the assumed 2048 tokens
	// with the answer's 512.
	q := "why does it " + strings.Repeat("reverse the words ", 170)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9", "--col", "6", q)
	if code != exitNoService || !strings.Contains(errOut, "GPT4All answers when the prompt does not fit") || !strings.Contains(errOut, "context_length") {
		t.Fatalf("exit %d, want %d with a too-long message, not a server failure:\n%s", code, exitNoService, tail(out+errOut))
	}
	if g := srv.ChatRequests(); g != 1 {
		t.Fatalf("%d chat requests: the too-long prompt must not be sent again", g)
	}
	// A short question fits GPT4All's default window and is answered.
	out, errOut, code = runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9", "--col", "6", "why?")
	if code != 0 || !strings.Contains(out, "It reverses the words.") {
		t.Fatalf("short question: exit %d\n%s", code, tail(out+errOut))
	}
}

// tail keeps the end of a long output for a failure message.
func tail(s string) string {
	if len(s) > 1500 {
		return "..." + s[len(s)-1500:]
	}
	return s
}
