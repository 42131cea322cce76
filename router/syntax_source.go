package router

import (
	"context"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/edits"
)

// SyntaxSource finds the symbol at the cursor by parsing the buffer (Go with
// go/parser; Python, TypeScript and JavaScript by their structure). It
// stands between the language-server backends and the plain buffer: without
// a language server, edits still target the whole definition.
type SyntaxSource struct{}

var _ codectx.Source = SyntaxSource{}

// Name implements codectx.Source.
func (SyntaxSource) Name() string { return "syntax" }

// Symbol implements codectx.Source.
func (SyntaxSource) Symbol(_ context.Context, q codectx.Query) (*codectx.Symbol, error) {
	sym, ok := edits.SymbolAt(edits.File{Path: q.Path, Text: q.Text, Language: q.LanguageID}, q.Position)
	if !ok {
		return nil, codectx.ErrUnsupported
	}
	return sym, nil
}

// Hover implements codectx.Source: parsing alone gives no type information.
func (SyntaxSource) Hover(context.Context, codectx.Query, *codectx.Symbol) (string, error) {
	return "", codectx.ErrUnsupported
}

// References implements codectx.Source: one buffer shows no other files.
func (SyntaxSource) References(context.Context, codectx.Query, *codectx.Symbol, int) ([]codectx.Reference, error) {
	return nil, codectx.ErrUnsupported
}

// Diagnostics implements codectx.Source: the buffer source relays the editor's.
func (SyntaxSource) Diagnostics(context.Context, codectx.Query, *codectx.Symbol) ([]codectx.Diagnostic, error) {
	return nil, codectx.ErrUnsupported
}
