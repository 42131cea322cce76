package lsp_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
)

// The progress line shows "thinking…" during a reasoning block, never the
// reasoning itself, whatever the tag's case and however it is split.
func TestProgressHidesReasoning(t *testing.T) {
	engine := &stubEngine{}
	s := start(t, fakeeditor.FullCaps, engine)
	engine.run = func(ctx context.Context, req router.Request, progress router.ProgressFunc) (*router.Result, error) {
		// Wait for the begin notification so no report is folded into it.
		s.ed.WaitFor(5*time.Second, func() bool { return len(s.ed.Progress()) > 0 })
		for _, d := range []string{"<THINK>secret plan", " more secret</Thi", "nk>Visible answer"} {
			progress(router.Progress{Stage: router.StageGenerating, Model: "m", Service: "svc", Delta: d})
			time.Sleep(150 * time.Millisecond) // past the report throttle
		}
		return &router.Result{Model: "m", Service: "svc", Answer: "Visible answer"}, nil
	}
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n\nfunc F() {}\n")
	if _, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(2, 5, 2, 5), "")); err != nil {
		t.Fatal(err)
	}
	s.ed.WaitFor(5*time.Second, func() bool {
		ev := s.ed.Progress()
		return len(ev) > 0 && ev[len(ev)-1].Kind == "end"
	})
	var msgs []string
	for _, e := range s.ed.Progress() {
		msgs = append(msgs, e.Message)
	}
	all := strings.Join(msgs, " | ")
	if strings.Contains(all, "secret") || strings.Contains(strings.ToLower(all), "<think") || strings.Contains(all, "nk>") {
		t.Fatalf("reasoning reached the progress line: %s", all)
	}
	if !strings.Contains(all, "m: thinking…") || !strings.Contains(all, "m: …Visible answer") {
		t.Fatalf("progress = %s", all)
	}
}

// A failure reaches the editor as one line that says what failed and what
// to do, not as the chain of wrapped errors.
func TestCommandFailureIsOneUserLine(t *testing.T) {
	chain := fmt.Errorf("explain: documentation request: %w", &llm.Error{Kind: llm.KindOllama, Endpoint: "http://127.0.0.1:11434", Op: "chat",
		Err: fmt.Errorf("dial tcp 127.0.0.1:11434: %w", syscall.ECONNREFUSED)})
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: func(context.Context, router.Request, router.ProgressFunc) (*router.Result, error) {
		return nil, chain
	}})
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n\nfunc F() {}\n")
	_, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(2, 5, 2, 5), ""))
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if strings.Contains(msg, "documentation request") || strings.Contains(msg, "dial tcp") ||
		!strings.Contains(msg, "Ollama at http://127.0.0.1:11434 is not reachable (connection refused)") || !strings.Contains(msg, "start the server") {
		t.Fatalf("message %q", msg)
	}
}
