package router_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// knownSymbol is a source that knows the symbol's range, as the editor's
// language servers do.
type knownSymbol struct{ sym codectx.Symbol }

func (k knownSymbol) Name() string { return "editor" }
func (k knownSymbol) Symbol(context.Context, codectx.Query) (*codectx.Symbol, error) {
	s := k.sym
	return &s, nil
}
func (k knownSymbol) Hover(context.Context, codectx.Query, *codectx.Symbol) (string, error) {
	return "func target(x int) int", nil
}
func (k knownSymbol) References(context.Context, codectx.Query, *codectx.Symbol, int) ([]codectx.Reference, error) {
	return nil, nil
}
func (k knownSymbol) Diagnostics(context.Context, codectx.Query, *codectx.Symbol) ([]codectx.Diagnostic, error) {
	return nil, nil
}

// BenchmarkRefactorLargeFile measures the engine's work for a refactor of
// one small function in files of 1k, 10k and 100k tokens, the symbol's
// range known from the editor.
func BenchmarkRefactorLargeFile(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "```go\nfunc target(x int) int {\n\treturn x + 2\n}\n```\n",
				Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 262144}}})
			defer srv.Close()
			var src strings.Builder
			src.WriteString("package main\n\n// target adds one.\nfunc target(x int) int {\n\treturn x + 1\n}\n\n")
			for i := 0; src.Len() < n*4; i++ {
				fmt.Fprintf(&src, "// f%d doubles.\nfunc f%d(x int) int {\n\treturn x * %d\n}\n\n", i, i, i%9+2)
			}
			sym := codectx.Symbol{Name: "target", NamePath: "target", Kind: "Function", Path: "/ws/main.go",
				Range:          codectx.Range{Start: codectx.Position{Line: 3}, End: codectx.Position{Line: 5, Character: 1}},
				SelectionRange: codectx.Range{Start: codectx.Position{Line: 3, Character: 5}, End: codectx.Position{Line: 3, Character: 11}}}
			p := newPipeline(b, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) {
				d.Sources = []codectx.Source{knownSymbol{sym}, &router.SyntaxSource{}, codectx.BufferSource{}}
				d.MaxAnswerTokens = 512
			})
			req := request(router.ActionRefactor, "add two")
			req.Query.Text = src.String()
			req.Query.Position = codectx.Position{Line: 4, Character: 1}
			b.ResetTimer()
			for range b.N {
				if _, err := p.Run(context.Background(), req, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
