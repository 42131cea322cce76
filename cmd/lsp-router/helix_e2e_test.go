package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// helloWithMarker is helloGo with the refactor instruction written as a
// marker comment above the function (line 9, 1-based), as a Helix or
// eglot user gives it.
var helloWithMarker = strings.Replace(helloGo, "func reverseWords", "// lsp-router: use slices.Reverse\nfunc reverseWords", 1)

// promptOf is the last message of the i-th chat the double received.
func promptOf(srv *llmtest.Server, i int) string {
	msgs := srv.Chats()[i].Messages
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Content)
	}
	return b.String()
}

func TestCLIRefactorTakesTheInstructionFromAMarkerComment(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer, Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloWithMarker), 0o644)

	// No instruction on the command line: the cursor is on the func line.
	_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "refactor", "--file", file, "--line", "10", "--col", "6", "--apply", "--force")
	b, _ := os.ReadFile(file)
	if code != 0 || string(b) != wantRefactored {
		t.Fatalf("apply: %d %s\n%s", code, errOut, b)
	}
	if p := promptOf(srv, 0); !strings.Contains(p, "use slices.Reverse") || strings.Contains(p, "lsp-router:") {
		t.Errorf("prompt:\n%s", p)
	}
	if !strings.Contains(errOut, "note: instruction from the lsp-router: comment on line 9") {
		t.Errorf("stderr: %s", errOut)
	}

	// Ask with neither a question nor a marker says how to give one.
	_, errOut, code = runCLI(t, dir, "--config", cfg, "ask", "--file", file, "--line", "3")
	if code == 0 || !strings.Contains(errOut, "// lsp-router: ") {
		t.Errorf("ask without question: %d %s", code, errOut)
	}
}

func TestEditorRefactorTakesTheInstructionFromAMarkerComment(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer})
	defer srv.Close()
	// An editor that cannot prompt (Helix): no showDocument, no plugin.
	caps := fakeeditor.FullCaps
	caps.ShowDocument = false
	p, dir := editorSession(t, srv.URL, llm.KindOllama, caps)
	ctx := context.Background()
	path := filepath.Join(dir, "main.go")
	os.WriteFile(path, []byte(helloWithMarker), 0o644)
	p.ed.Open(ctx, path, "go", helloWithMarker)
	// The cursor at the end of the marker line, where the user typed it.
	at := codectx.Position{Line: 8, Character: 33}
	if _, err := p.ed.Execute(ctx, "lsp-router.refactor", p.ed.Args(path, codectx.Range{Start: at, End: at}, "")); err != nil {
		t.Fatalf("execute: %v\n%s", err, p.stderr)
	}
	if text, _ := p.ed.Text(path); text != wantRefactored {
		t.Fatalf("buffer:\n%s", text)
	}
	if pr := promptOf(srv, 0); !strings.Contains(pr, "use slices.Reverse") || strings.Contains(pr, "lsp-router:") {
		t.Errorf("prompt:\n%s", pr)
	}
}

// TestEditorWithoutPromptOrShowDocumentAsksThroughAMarker is Helix's
// session: the question is a marker comment, and the answer, which Helix
// cannot show as a document, is a Markdown file in the cache directory
// that a one-line message names.
func TestEditorWithoutPromptOrShowDocumentAsksThroughAMarker(t *testing.T) {
	// The answer goes to $XDG_CACHE_HOME: a temporary one. Go's build cache
	// stays where it is (gopls would rebuild everything in a new one), and
	// gopls may still write its own cache there when the test ends, so the
	// folder is removed without failing the test.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Skipf("go env GOCACHE: %v", err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(gocache)))
	cache, err := os.MkdirTemp("", "lsp-router-cache")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cache) })
	t.Setenv("XDG_CACHE_HOME", cache)
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "Because `strings.Fields` also drops repeated spaces.\n\nDetails follow."})
	defer srv.Close()
	caps := fakeeditor.FullCaps
	caps.ShowDocument = false
	p, dir := editorSession(t, srv.URL, llm.KindOllama, caps)
	ctx := context.Background()
	path := filepath.Join(dir, "main.go")
	text := strings.Replace(helloGo, "\twords := strings.Fields(s)", "\t// lsp-router: why Fields and not Split?\n\twords := strings.Fields(s)", 1)
	os.WriteFile(path, []byte(text), 0o644)
	p.ed.Open(ctx, path, "go", text)
	at := codectx.Position{Line: 10, Character: 1}
	if _, err := p.ed.Execute(ctx, "lsp-router.ask", p.ed.Args(path, codectx.Range{Start: at, End: at}, "")); err != nil {
		t.Fatalf("execute: %v\n%s", err, p.stderr)
	}
	if pr := promptOf(srv, 0); !strings.Contains(pr, "why Fields and not Split?") || strings.Contains(pr, "lsp-router:") {
		t.Errorf("prompt:\n%s", pr)
	}
	var msg string
	p.ed.WaitFor(10*time.Second, func() bool {
		for _, m := range p.ed.Messages() {
			if strings.Contains(m.Message, "full answer: ") {
				msg = m.Message
				return true
			}
		}
		return false
	})
	want := "lsp-router ask (qwen2.5-coder:7b): Because `strings.Fields` also drops repeated spaces. (full answer: "
	if !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("message %q\nwant one line starting %q\nall: %+v", msg, want, p.ed.Messages())
	}
	file := strings.TrimSuffix(strings.TrimPrefix(msg, want), ")")
	if filepath.Dir(file) != filepath.Join(cache, "lsp-router", "answers") {
		t.Errorf("answer file %q is not in $XDG_CACHE_HOME/lsp-router/answers", file)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "Details follow.") {
		t.Errorf("answer file: %v %s", err, b)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("answer file mode: %v %v", st, err)
	}
	// The marker stays in the file: an answer changes no code.
	if got, _ := p.ed.Text(path); got != text {
		t.Errorf("buffer changed:\n%s", got)
	}
}
