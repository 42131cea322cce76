package lsp_test

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
)

// TestEmptySettingsKeepTheInitializationOptions: eglot sends
// workspace/didChangeConfiguration with {} right after initialize; that
// must not rebuild the engine from the file configuration, which would drop
// the services given as initializationOptions.
func TestEmptySettingsKeepTheInitializationOptions(t *testing.T) {
	var mu sync.Mutex
	var endpoints []string
	serverEnd, clientEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	go lsp.Serve(ctx, jsonrpc2.NewHeaderStream(serverEnd), lsp.Options{
		Config: config.Default(),
		NewEngine: func(cfg *config.Config, _, _ string) (router.Engine, error) {
			mu.Lock()
			endpoints = append(endpoints, cfg.Services["ollama"].Endpoint)
			mu.Unlock()
			return &stubEngine{run: echoText}, nil
		},
		Version:  "test",
		CacheDir: filepath.Join(dir, "answers"),
	})
	ed := fakeeditor.Connect(ctx, clientEnd, fakeeditor.FullCaps)
	defer ed.Close()
	builds := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), endpoints...)
	}
	init := map[string]any{"services": map[string]any{"ollama": map[string]any{"endpoint": "http://127.0.0.1:49999"}}}
	if _, err := ed.Initialize(ctx, dir, init); err != nil {
		t.Fatal(err)
	}
	if !ed.WaitFor(5*time.Second, func() bool { return len(builds()) == 1 }) || builds()[0] != "http://127.0.0.1:49999" {
		t.Fatalf("builds after initialize: %v", builds())
	}
	for _, settings := range []any{map[string]any{}, nil} {
		if err := ed.Conn().Notify(ctx, "workspace/didChangeConfiguration", map[string]any{"settings": settings}); err != nil {
			t.Fatal(err)
		}
	}
	// A real change afterwards is the sync point: it rebuilds once.
	if err := ed.Conn().Notify(ctx, "workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"services": map[string]any{"ollama": map[string]any{"endpoint": "http://127.0.0.1:49998"}}}}); err != nil {
		t.Fatal(err)
	}
	if !ed.WaitFor(5*time.Second, func() bool { return len(builds()) >= 2 }) {
		t.Fatalf("no rebuild after a settings change: %v", builds())
	}
	if got := builds(); len(got) != 2 || got[1] != "http://127.0.0.1:49998" {
		t.Errorf("engine builds %v: empty settings must not rebuild", got)
	}
}
