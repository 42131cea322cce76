package router

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/syntax"
)

// SyntaxSource finds the symbol at the cursor by parsing the buffer (Go with
// go/parser; Python, TypeScript and JavaScript by their structure). It
// stands between the language-server backends and the plain buffer: without
// a language server, edits still target the whole definition.
//
// Editors ask repeatedly about a document that has not changed (a code
// action, then the command), so the last answers are kept per text.
type SyntaxSource struct {
	mu    sync.Mutex
	cache map[syntaxKey]*codectx.Symbol
}

type syntaxKey struct {
	text uint64
	line int
	path string
}

// syntaxCacheSize bounds the cache; it is cleared when full, which is
// simpler than an LRU and enough for the access pattern above.
const syntaxCacheSize = 256

var syntaxSeed = maphash.MakeSeed()

var _ codectx.Source = (*SyntaxSource)(nil)

// Name implements codectx.Source.
func (*SyntaxSource) Name() string { return "syntax" }

// Lazy implements codectx.Lazy: parsing a large buffer is wasted when a
// source before it (the editor's language servers) found the symbol.
func (*SyntaxSource) Lazy() bool { return true }

// LazyParts implements codectx.PartsProvider: only the symbol.
func (*SyntaxSource) LazyParts() []string { return []string{codectx.PartSymbol} }

// Symbol implements codectx.Source.
func (s *SyntaxSource) Symbol(_ context.Context, q codectx.Query) (*codectx.Symbol, error) {
	key := syntaxKey{text: maphash.String(syntaxSeed, q.Text), line: q.Position.Line, path: q.Path}
	s.mu.Lock()
	sym, ok := s.cache[key]
	s.mu.Unlock()
	if !ok {
		sym, _ = syntax.SymbolAt(q.Path, q.Text, q.LanguageID, q.Position)
		s.mu.Lock()
		if s.cache == nil || len(s.cache) >= syntaxCacheSize {
			s.cache = map[syntaxKey]*codectx.Symbol{}
		}
		s.cache[key] = sym
		s.mu.Unlock()
	}
	if sym == nil {
		return nil, codectx.ErrUnsupported
	}
	cp := *sym
	return &cp, nil
}

// Hover implements codectx.Source: parsing alone gives no type information.
func (*SyntaxSource) Hover(context.Context, codectx.Query, *codectx.Symbol) (string, error) {
	return "", codectx.ErrUnsupported
}

// References implements codectx.Source: one buffer shows no other files.
func (*SyntaxSource) References(context.Context, codectx.Query, *codectx.Symbol, int) ([]codectx.Reference, error) {
	return nil, codectx.ErrUnsupported
}

// Diagnostics implements codectx.Source: the buffer source relays the editor's.
func (*SyntaxSource) Diagnostics(context.Context, codectx.Query, *codectx.Symbol) ([]codectx.Diagnostic, error) {
	return nil, codectx.ErrUnsupported
}
