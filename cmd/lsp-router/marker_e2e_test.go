package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
