package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// TestExitEndsTheProcessWhileStdinStaysOpen: after shutdown and exit the
// process ends by itself, although the editor keeps its stdin open (it
// closes it only after seeing the process gone) and although a language
// server lsp-router started is stuck (it never answers initialize, so a
// graceful shutdown would wait seconds for it).
func TestExitEndsTheProcessWhileStdinStaysOpen(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok"})
	defer srv.Close()
	dir := t.TempDir()
	mark := filepath.Join(dir, "own-server-started")
	cfg := withGoServer(t, dir, srv.URL, mark)
	p := startServerWith(t, fakeeditor.FullCaps, "--config", cfg, "serve")
	ctx := context.Background()
	if _, err := p.ed.Initialize(ctx, dir, nil); err != nil {
		t.Fatalf("initialize: %v\n%s", err, p.stderr)
	}
	path := filepath.Join(dir, "list.go")
	if err := p.ed.Open(ctx, path, "go", listGo); err != nil {
		t.Fatal(err)
	}
	// A request that needs the language server starts it.
	args := p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 7, Character: 2}, End: codectx.Position{Line: 7, Character: 2}}, "")
	go func() { _, _ = p.ed.Execute(ctx, "lsp-router.explain", args) }()
	if !p.ed.WaitFor(20*time.Second, func() bool { _, err := os.Stat(mark); return err == nil }) {
		t.Fatalf("the language server was not started by the request; stderr:\n%s", p.stderr)
	}
	if err := p.ed.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.ed.Server.Exit(ctx); err != nil {
		t.Fatal(err)
	}
	var elapsed time.Duration
	select {
	case <-p.waited:
		elapsed = time.Since(start)
	case <-time.After(15 * time.Second):
		t.Fatalf("the process is still running 15s after exit; stderr:\n%s", p.stderr)
	}
	// Ordering: the process ended first; only now does the editor close
	// its end of the pipe.
	_ = p.ed.Close()
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after shutdown+exit; stderr:\n%s", code, p.stderr)
	}
	// The goal is 50 ms; the bound here only catches waiting for the stuck
	// server (5 s), with room for a loaded machine.
	if elapsed > 3*time.Second {
		t.Fatalf("exit took %s: it waited for the language server", elapsed)
	}
	t.Logf("exit -> process gone: %s, stdin open until then", elapsed.Round(100*time.Microsecond))
}

// withGoServer writes a config using the double at url whose Go language
// server is a script that leaves mark and then never answers.
func withGoServer(t *testing.T, dir, url, mark string) string {
	t.Helper()
	script := filepath.Join(dir, "own-gopls.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho started >> '"+mark+"'\nexec sleep 60\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := onlyService(t, dir, llm.KindOllama, url)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n[language_servers.go]\ncommand = [\"" + script + "\"]\n"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDiscoveryIsWarmedAfterInitialize: the services are probed right
// after initialize, before any command.
func TestDiscoveryIsWarmedAfterInitialize(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok"})
	defer srv.Close()
	p, _ := editorSession(t, srv.URL, llm.KindOllama, fakeeditor.FullCaps)
	if !p.ed.WaitFor(20*time.Second, func() bool { return srv.Requests() > 0 }) {
		t.Fatalf("no probe reached the service after initialize; stderr:\n%s", p.stderr)
	}
}

const listGo = `package list

// List is a list.
type List struct{ n int }

// Len returns the number of elements.
func (l *List) Len() int {
	return l.n
}

func use(l *List) int { return l.Len() }
`

// TestEditorContextStartsNoLanguageServerOfItsOwn drives the real binary
// with an editor that answers context requests: the prompt holds the
// editor's hover and references, and the configured Go language server
// (a script that leaves a mark) never starts.
func TestEditorContextStartsNoLanguageServerOfItsOwn(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It counts."})
	defer srv.Close()
	dir := t.TempDir()
	mark := filepath.Join(dir, "own-server-started")
	cfg := withGoServer(t, dir, srv.URL, mark)

	path := filepath.Join(dir, "list.go")
	u := fakeeditor.URI(path)
	asked := make(chan string, 16)
	caps := fakeeditor.FullCaps
	caps.PluginAnswers = true
	caps.Context = func(_ context.Context, method string, _ json.RawMessage) (any, error) {
		asked <- method
		out := "null"
		switch method {
		case lsp.MethodContextDocumentSymbol:
			out = `[{"name":"(*List).Len","kind":6,"range":{"start":{"line":6,"character":0},"end":{"line":8,"character":1}},"selectionRange":{"start":{"line":6,"character":15},"end":{"line":6,"character":18}}}]`
		case lsp.MethodContextHover:
			out = `{"contents":{"kind":"markdown","value":"HOVER-FROM-EDITOR func (l *List) Len() int"}}`
		case lsp.MethodContextReferences:
			out = `[{"uri":"` + u + `","range":{"start":{"line":10,"character":33},"end":{"line":10,"character":36}}}]`
		case lsp.MethodContextDiagnostics:
			out = `[]`
		}
		return jsonrpc2.RawMessage(out), nil
	}
	p := startServerWith(t, caps, "--config", cfg, "serve")
	ctx := context.Background()
	if _, err := p.ed.Initialize(ctx, dir, nil); err != nil {
		t.Fatalf("initialize: %v\n%s", err, p.stderr)
	}
	if err := os.WriteFile(path, []byte(listGo), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.ed.Open(ctx, path, "go", listGo); err != nil {
		t.Fatal(err)
	}
	args := p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 7, Character: 2}, End: codectx.Position{Line: 7, Character: 2}}, "")
	if _, err := p.ed.Execute(ctx, "lsp-router.explain", args); err != nil {
		t.Fatalf("explain: %v\n%s", err, p.stderr)
	}
	chats := srv.Chats()
	if len(chats) != 1 {
		t.Fatalf("%d chats, want 1", len(chats))
	}
	var prompt strings.Builder
	for _, m := range chats[0].Messages {
		prompt.WriteString(m.Content)
	}
	for _, want := range []string{"func (l *List) Len() int {\n\treturn l.n\n}", "HOVER-FROM-EDITOR", "func use(l *List) int { return l.Len() }"} {
		if !strings.Contains(prompt.String(), want) {
			t.Errorf("the prompt lacks %q:\n%s", want, prompt.String())
		}
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatalf("lsp-router started its own language server although the editor answered")
	}
	if !strings.Contains(p.stderr.String(), "symbol editor, hover editor, references editor") {
		t.Errorf("the log does not say the editor answered:\n%s", p.stderr)
	}
}

// TestDryRunNamesTheSourceOfEachPart: ask --dry-run says which source
// answered each part; with lsp-router's own Go server switched off the
// symbol comes from the syntax fallback, which is asked only then.
func TestDryRunNamesTheSourceOfEachPart(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "x"})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[language_servers.go]\nenabled = false\n")
	f.Close()
	file := filepath.Join(dir, "list.go")
	if err := os.WriteFile(file, []byte(listGo), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--dry-run", "--action", "explain", "--file", file, "--line", "8", "--col", "3")
	if code != 0 || !strings.Contains(out, "  answered: symbol syntax") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
}
