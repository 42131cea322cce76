package codectx

import "context"

// Lazy is implemented by sources that are expensive to start, such as the
// language servers lsp-router runs itself: Gather asks them only after the
// sources before them in the order have finished, and only when those left
// the symbol, the hover or the references unanswered. A request the
// editor's language servers (or Serena) fully answered therefore starts no
// process of lsp-router's own.
type Lazy interface {
	Lazy() bool
}

// PartsProvider is implemented by Lazy sources that can answer only some
// parts: such a source is asked only when one of those is unanswered.
type PartsProvider interface {
	LazyParts() []string
}

// Optional is implemented by sources that exist for some requests only:
// Gather leaves out, without a report, a source whose Available is false
// for the request's context.
type Optional interface {
	Available(ctx context.Context) bool
}

type editorKey struct{}

// WithEditor returns a context that carries the editor's source: the
// language servers the editor already runs, asked through the editor. The
// LSP server attaches it to each request of an editor that offers context;
// EditorSlot then stands for it in the order of sources.
func WithEditor(ctx context.Context, s Source) context.Context {
	return context.WithValue(ctx, editorKey{}, s)
}

// EditorFrom returns the editor source attached by WithEditor, or nil.
func EditorFrom(ctx context.Context) Source {
	s, _ := ctx.Value(editorKey{}).(Source)
	return s
}

// EditorSlot is the place of the editor's language servers in the order
// of sources (after Serena, before lsp-router's own language servers). The
// engine is built once per configuration, but the editor's source belongs
// to one editor session, so the slot delegates to the source carried by
// the request's context and is absent when there is none (the CLI, or an
// editor that does not offer context).
type EditorSlot struct{}

var (
	_ Source   = EditorSlot{}
	_ Optional = EditorSlot{}
)

// EditorSourceName is the name the editor's source reports under.
const EditorSourceName = "editor"

// Name implements Source.
func (EditorSlot) Name() string { return EditorSourceName }

// Available implements Optional.
func (EditorSlot) Available(ctx context.Context) bool { return EditorFrom(ctx) != nil }

func (EditorSlot) src(ctx context.Context) (Source, error) {
	if s := EditorFrom(ctx); s != nil {
		return s, nil
	}
	return nil, ErrUnsupported
}

// Symbol implements Source.
func (e EditorSlot) Symbol(ctx context.Context, q Query) (*Symbol, error) {
	s, err := e.src(ctx)
	if err != nil {
		return nil, err
	}
	return s.Symbol(ctx, q)
}

// Hover implements Source.
func (e EditorSlot) Hover(ctx context.Context, q Query, sym *Symbol) (string, error) {
	s, err := e.src(ctx)
	if err != nil {
		return "", err
	}
	return s.Hover(ctx, q, sym)
}

// References implements Source.
func (e EditorSlot) References(ctx context.Context, q Query, sym *Symbol, limit int) ([]Reference, error) {
	s, err := e.src(ctx)
	if err != nil {
		return nil, err
	}
	return s.References(ctx, q, sym, limit)
}

// Diagnostics implements Source.
func (e EditorSlot) Diagnostics(ctx context.Context, q Query, sym *Symbol) ([]Diagnostic, error) {
	s, err := e.src(ctx)
	if err != nil {
		return nil, err
	}
	return s.Diagnostics(ctx, q, sym)
}

func isLazy(s Source) bool {
	l, ok := s.(Lazy)
	return ok && l.Lazy()
}

func isAbsent(ctx context.Context, s Source) bool {
	o, ok := s.(Optional)
	return ok && !o.Available(ctx)
}

// answeredBefore reports whether the sources before index i answered every
// part the source at i could give of the symbol, the hover and the
// references (an empty but successful answer counts: the editor's server
// said there is nothing).
func answeredBefore(sources []Source, results []sourceResult, i int) bool {
	var answered [3]bool
	for j := range i {
		r := &results[j]
		if !r.asked {
			continue
		}
		answered[0] = answered[0] || r.errs[0] == nil && r.symbol != nil
		answered[1] = answered[1] || r.errs[1] == nil && r.reports[1].OK
		answered[2] = answered[2] || r.errs[2] == nil && r.reports[2].OK
	}
	parts := []string{PartSymbol, PartHover, PartReferences}
	if p, ok := sources[i].(PartsProvider); ok {
		parts = p.LazyParts()
	}
	for _, part := range parts {
		switch part {
		case PartSymbol:
			if !answered[0] {
				return false
			}
		case PartHover:
			if !answered[1] {
				return false
			}
		case PartReferences:
			if !answered[2] {
				return false
			}
		}
	}
	return true
}
