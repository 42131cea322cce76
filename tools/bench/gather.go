package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/langserver"
	"github.com/lsp-router/lsp-router/router/codectx"
)

func init() {
	sections = append(sections, section{"context gathering with gopls", benchGather})
}

// benchGather gathers symbol, hover, references and diagnostics for
// bufio's (*Reader).readErr (ten references) with gopls warm, one part
// after another and concurrently.
func benchGather(s *suite) error {
	gopls, err := exec.LookPath("gopls")
	if err != nil {
		return fmt.Errorf("gopls not on PATH: go install golang.org/x/tools/gopls@v0.23.0")
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return err
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "src", "bufio", "bufio.go")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(data)
	decl := strings.Index(text, "func (b *Reader) readErr() error {")
	if decl < 0 {
		return fmt.Errorf("readErr not found in %s", path)
	}
	q := codectx.Query{Path: path, Text: text, Version: 1, LanguageID: "go",
		Position: codectx.PositionOf(text, decl+len("func (b *Reader) readErr() error {\n\t"))}
	backend := langserver.New(langserver.Config{Table: langserver.Table{"go": {{gopls}}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer backend.Close()
	sources := []codectx.Source{backend, codectx.BufferSource{}}
	opts := codectx.GatherOptions{SymbolTimeout: 5 * time.Minute, PartTimeout: 5 * time.Minute, ReferenceLimit: 20}
	ctx := context.Background()
	warm := codectx.Gather(ctx, sources, q, opts)
	if warm.Symbol == nil || len(warm.References) == 0 {
		return fmt.Errorf("warm-up gathered no symbol or references")
	}
	var seq, conc []float64
	for range s.reps(60) {
		for _, sequential := range []bool{true, false} {
			o := opts
			o.Sequential = sequential
			t0 := time.Now()
			c := codectx.Gather(ctx, sources, q, o)
			ms := float64(time.Since(t0).Microseconds()) / 1000
			if c.Symbol == nil {
				return fmt.Errorf("no symbol")
			}
			if sequential {
				seq = append(seq, ms)
			} else {
				conc = append(conc, ms)
			}
		}
	}
	note := fmt.Sprintf("bufio (*Reader).readErr, %d references", len(warm.References))
	s.add("context: gopls warm, parts one after another", "ms", seq, "", note)
	s.add("context: gopls warm, parts concurrently", "ms", conc, "", note)
	s.figures = append(s.figures, Figure{Name: "context: sequential / concurrent, median", Unit: "x", Median: quantile(seq, 0.5) / quantile(conc, 0.5), P99: quantile(seq, 0.99) / quantile(conc, 0.99), Runs: len(seq), Target: ">= 2x"})
	return nil
}
