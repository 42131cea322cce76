package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// hostile is an answer that would retitle the terminal window and clear the
// screen, with the model's reasoning in an upper-case tag.
const hostile = "<THINK>the user must not see this</THINK>Safe \x1b]0;pwned\x07answer\x1b[2J with\u202e text.\r\n"

func controlFree(s string) bool {
	return !strings.ContainsAny(s, "\x1b\x07\r\u202e\u009b")
}

func TestCLIAskStripsControlSequencesAndReasoning(t *testing.T) {
	for _, chunk := range []int{0, 3} { // word by word, and sequences split across chunks
		srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: hostile, ChunkSize: chunk})
		dir := t.TempDir()
		cfg := onlyService(t, dir, llm.KindLlamaCpp, srv.URL)
		file := filepath.Join(dir, "main.go")
		os.WriteFile(file, []byte(helloGo), 0o644)
		out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "10", "--col", "2")
		srv.Close()
		if code != 0 || !controlFree(out) || !controlFree(errOut) {
			t.Fatalf("chunk %d: exit %d, control sequences reach the terminal:\nstdout %q\nstderr %q", chunk, code, out, errOut)
		}
		if !strings.Contains(out, "Safe answer with text.") || strings.Contains(out, "must not see") || strings.Contains(strings.ToLower(out), "think") {
			t.Fatalf("chunk %d: stdout %q", chunk, out)
		}
	}
}

func TestCLIAskJSONKeepsTheData(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: hostile})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindLlamaCpp, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--json", "--action", "explain", "--file", file, "--line", "10", "--col", "2")
	var got askJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
	}
	if !strings.Contains(got.Answer, "\x1b]0;pwned\x07answer\x1b[2J") || strings.Contains(got.Answer, "must not see") {
		t.Fatalf("answer %q", got.Answer)
	}
}

func TestCLIDiscoverStripsControlSequencesFromModelNames(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{{ID: "evil\x1b]0;pwned\x07\x1b[2Jmodel:7b", ContextLength: 8192}}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	for _, cmd := range []string{"discover", "models"} {
		out, errOut, code := runCLI(t, dir, "--config", cfg, cmd)
		if code != 0 || !controlFree(out) || !strings.Contains(out, "evil0;pwnedmodel:7b") && !strings.Contains(out, "evilmodel:7b") {
			t.Fatalf("%s: exit %d\nstdout %q\nstderr %q", cmd, code, out, errOut)
		}
	}
	out, _, _ := runCLI(t, dir, "--config", cfg, "discover", "--json")
	if !strings.Contains(out, `evil\u001b]0;pwned\u0007\u001b[2Jmodel:7b`) {
		t.Fatalf("--json must keep the name as data: %s", out)
	}
}

func TestCLIAskFailureIsOneLineAndAJSONErrorObject(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{FailWith: llmtest.FailInternal})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindLlamaCpp, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	args := []string{"--action", "explain", "--file", file, "--line", "10", "--col", "2"}
	out, errOut, code := runCLI(t, dir, append([]string{"--config", cfg, "ask"}, args...)...)
	if code != exitFailure || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 ||
		!strings.Contains(errOut, "no local model could answer") || !strings.Contains(errOut, "HTTP 500") {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	out, errOut, code = runCLI(t, dir, append([]string{"--config", cfg, "ask", "--json"}, args...)...)
	var e struct{ Error, Hint string }
	if err := json.Unmarshal([]byte(out), &e); err != nil || code != exitFailure || !strings.Contains(e.Error, "HTTP 500") || e.Hint == "" {
		t.Fatalf("exit %d, %v\nstdout %q\nstderr %q", code, err, out, errOut)
	}

	// No service at all: exit 3 and an object that says what to do.
	none := onlyService(t, t.TempDir(), llm.KindOllama, "http://127.0.0.1:1")
	out, errOut, code = runCLI(t, dir, append([]string{"--config", none, "ask", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &e); err != nil || code != exitNoService || !strings.Contains(e.Error, "no local LLM service") || !strings.Contains(e.Hint, "lsp-router discover") {
		t.Fatalf("exit %d, %v\nstdout %q\nstderr %q", code, err, out, errOut)
	}
}

// withGeneration appends a [generation] table to a config from onlyService.
func withGeneration(t *testing.T, cfg, table string) string {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(b, []byte("\n[generation]\n"+table+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCLIEndlessStreamsAreCut(t *testing.T) {
	cases := []struct {
		name  string
		opts  llmtest.Options
		table string
		want  []string
	}{
		{"endless answer", llmtest.Options{Flood: llmtest.FloodEndless}, "max_answer_tokens = 100",
			[]string{"the answer exceeded 64 KiB", "raise generation.max_answer_tokens"}},
		{"keep-alives only", llmtest.Options{Flood: llmtest.FloodReplyThenEmptyChunks, Reply: "Partial", ChunkDelay: 5 * time.Millisecond}, `idle_timeout = "300ms"`,
			[]string{"idle timeout of 300ms", "keep-alives"}},
		{"never-ending line", llmtest.Options{Flood: llmtest.FloodLongLine}, "",
			[]string{"without a line break", "chat API"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := llmtest.New(llm.KindOllama, c.opts)
			defer srv.Close()
			dir := t.TempDir()
			cfg := withGeneration(t, onlyService(t, dir, llm.KindOllama, srv.URL), c.table)
			file := filepath.Join(dir, "main.go")
			os.WriteFile(file, []byte(helloGo), 0o644)
			out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "10", "--col", "2")
			if code != exitFailure || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Fatalf("stderr %q lacks %q", errOut, w)
				}
			}
			// At most one capped answer per attempt reached the terminal.
			if len(out) > 4*(64<<10) {
				t.Fatalf("%d bytes of output", len(out))
			}
		})
	}
}
