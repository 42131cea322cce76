package lsp_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
)

// fakeLoader stands in for the files: the test sets what Load returns and
// the stamp that says whether the files changed.
type fakeLoader struct {
	mu         sync.Mutex
	stamp      string
	tokens     int // generation.max_answer_tokens of the loaded config
	err        error
	loads      int
	workspaces []string
}

func (l *fakeLoader) set(stamp string, tokens int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stamp, l.tokens, l.err = stamp, tokens, err
}

func (l *fakeLoader) Load(ws string) (*config.Config, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.loads++
	l.workspaces = append(l.workspaces, ws)
	if l.err != nil {
		return nil, l.err
	}
	cfg := config.Default()
	cfg.Generation.MaxAnswerTokens = l.tokens
	return cfg, nil
}

func (l *fakeLoader) Stamp(string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stamp
}

func (l *fakeLoader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loads
}

func TestConfigIsReadAgainOnlyWhenItsFilesChange(t *testing.T) {
	loader := &fakeLoader{stamp: "a", tokens: 100}
	var mu sync.Mutex
	var built []int
	engine := &stubEngine{run: echoText}
	serverEnd, clientEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go lsp.Serve(ctx, jsonrpc2.NewHeaderStream(serverEnd), lsp.Options{
		Loader: loader,
		NewEngine: func(cfg *config.Config, _, _ string) (router.Engine, error) {
			mu.Lock()
			built = append(built, cfg.Generation.MaxAnswerTokens)
			mu.Unlock()
			return engine, nil
		},
		Version: "test",
	})
	ed := fakeeditor.Connect(ctx, clientEnd, fakeeditor.FullCaps)
	defer ed.Close()
	root := t.TempDir()
	if _, err := ed.Initialize(ctx, root, nil); err != nil {
		t.Fatal(err)
	}
	models := func() error {
		_, err := ed.Execute(ctx, "lsp-router.models")
		return err
	}
	builds := func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), built...)
	}
	for range 3 {
		if err := models(); err != nil {
			t.Fatal(err)
		}
	}
	if n := loader.count(); n != 1 || loader.workspaces[0] != root {
		t.Errorf("unchanged files read %d times, for %v (want once, for %s)", n, loader.workspaces, root)
	}

	// A broken file: refused, read once for the change, not again.
	loader.set("b", 100, &config.Error{Problems: []config.Problem{{File: filepath.Join(root, "c.toml"), Line: 3, Key: "generation.idle_timeout", Message: `"soon" is not a duration`}}})
	for range 2 {
		err := models()
		if err == nil || !strings.Contains(err.Error(), `c.toml:3: generation.idle_timeout: "soon" is not a duration`) || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("broken file: %v", err)
		}
	}
	if n := loader.count(); n != 2 {
		t.Errorf("reads = %d, want 2", n)
	}
	// The message is a notification: it may land just after the refusal.
	ed.WaitFor(5*time.Second, func() bool { return len(ed.MessagesContaining("soon")) > 0 })
	if len(ed.MessagesContaining("soon")) != 1 {
		t.Errorf("the problem is not shown once: %+v", ed.Messages())
	}

	// Fixed with other values: the engine is rebuilt before the command.
	loader.set("c", 200, nil)
	if err := models(); err != nil {
		t.Fatal(err)
	}
	// Touched without a change: read again, not rebuilt.
	loader.set("d", 200, nil)
	if err := models(); err != nil {
		t.Fatal(err)
	}
	if got := builds(); len(got) != 2 || got[0] != 100 || got[1] != 200 {
		t.Errorf("engines built for %v, want [100 200]", got)
	}
	// Any other error (unreadable file) refuses too.
	loader.set("e", 200, errors.New("config file x: permission denied"))
	if err := models(); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("unreadable file: %v", err)
	}
}
