package langserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// BenchmarkGatherStdlib measures gathering the whole context (symbol,
// hover, references, diagnostics) for bufio's (*Reader).readErr, a method
// with ten references, with gopls warm on the standard library module,
// asking the parts one after another versus concurrently.
//
//	go test -run '^$' -bench GatherStdlib -count 5 ./langserver/
func BenchmarkGatherStdlib(b *testing.B) {
	gopls := goplsPath(b)
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "src", "bufio", "bufio.go")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("standard library sources not available: %v", err)
	}
	text := string(data)
	q := codectx.Query{Path: path, Text: text, Version: 1, LanguageID: "go",
		Position: posOf(b, text, "func (b *Reader) readErr() error {", "b.err = nil")}
	backend := New(Config{Table: Table{"go": {{gopls}}}, Logger: quietLogger()})
	defer backend.Close()
	sources := []codectx.Source{backend, codectx.BufferSource{}}
	opts := codectx.GatherOptions{SymbolTimeout: 5 * time.Minute, PartTimeout: 5 * time.Minute, ReferenceLimit: 20}
	ctx := context.Background()

	// Warm gopls up: load the std module and answer every part once.
	warm := codectx.Gather(ctx, sources, q, opts)
	if warm.Symbol == nil || warm.Symbol.NamePath != "Reader/readErr" || warm.Hover == "" {
		b.Fatalf("warm-up gathered %+v", warm)
	}
	b.Logf("references: %d", len(warm.References))

	for _, mode := range []struct {
		name       string
		sequential bool
	}{{"sequential", true}, {"concurrent", false}} {
		o := opts
		o.Sequential = mode.sequential
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				c := codectx.Gather(ctx, sources, q, o)
				if c.Symbol == nil || len(c.References) == 0 {
					b.Fatalf("gathered %+v", c)
				}
			}
		})
	}
}
