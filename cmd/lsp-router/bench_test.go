package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// BenchmarkExecuteCommand runs an explain command through the whole server
// in-process (LSP codec, engine, LLM client) against an instant double,
// with a 10k-token function and no language server: the router's own cost.
func BenchmarkExecuteCommand(b *testing.B) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 131072, Loaded: true}}})
	defer srv.Close()
	dir := b.TempDir()
	cfgPath := onlyService(b, dir, llm.KindOllama, srv.URL)
	os.WriteFile(cfgPath, append(must(os.ReadFile(cfgPath)), []byte("\n[language_servers.go]\nenabled = false\n")...), 0o600)
	cfg, err := config.LoadFile(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	serverEnd, clientEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := &env{}
	e.setupLog()
	go lsp.Serve(ctx, jsonrpc2.NewHeaderStream(serverEnd), lsp.Options{Config: cfg, NewEngine: engineFactory(e), Version: "bench"})
	ed := fakeeditor.Connect(ctx, clientEnd, fakeeditor.FullCaps)
	if _, err := ed.Initialize(ctx, dir, nil); err != nil {
		b.Fatal(err)
	}
	var src strings.Builder
	src.WriteString("package main\n\nimport \"strings\"\n\nfunc reverseWords(s string) string {\n")
	for i := 0; src.Len() < 40000; i++ {
		fmt.Fprintf(&src, "\ts = strings.Repeat(s, %d)\n", i)
	}
	src.WriteString("\treturn s\n}\n")
	path := filepath.Join(dir, "main.go")
	ed.Open(ctx, path, "go", src.String())
	args := ed.Args(path, codectx.Range{Start: codectx.Position{Line: 5, Character: 1}, End: codectx.Position{Line: 5, Character: 1}}, "")
	b.ResetTimer()
	for range b.N {
		if _, err := ed.Execute(ctx, "lsp-router.explain", args); err != nil {
			b.Fatal(err)
		}
	}
}
