package codectx

import (
	"context"
	"errors"
)

// BufferSource is the last-resort Source: it knows only what the editor
// sent with the request, the document text and the diagnostics. It never
// fails on a well-formed query and never blocks.
type BufferSource struct {
	// ContextLines is how many lines above and below the cursor Surrounding
	// returns when nothing is selected (default 20).
	ContextLines int
}

var _ Source = BufferSource{}

// Surrounder is implemented by sources that can provide the plain text
// around the cursor; Gather asks them when no source found a symbol.
type Surrounder interface {
	Surrounding(ctx context.Context, q Query) (string, error)
}

// Name implements Source.
func (BufferSource) Name() string { return "buffer" }

// Symbol implements Source: the buffer alone cannot tell symbols apart.
func (BufferSource) Symbol(context.Context, Query) (*Symbol, error) { return nil, ErrUnsupported }

// Hover implements Source: the buffer has no type information.
func (BufferSource) Hover(context.Context, Query, *Symbol) (string, error) {
	return "", ErrUnsupported
}

// References implements Source: the buffer cannot see other files.
func (BufferSource) References(context.Context, Query, *Symbol, int) ([]Reference, error) {
	return nil, ErrUnsupported
}

// Diagnostics implements Source with the diagnostics the editor sent,
// filling in the query's path where the editor left it out.
func (BufferSource) Diagnostics(_ context.Context, q Query, _ *Symbol) ([]Diagnostic, error) {
	out := make([]Diagnostic, 0, len(q.Diagnostics))
	for _, d := range q.Diagnostics {
		if d.Path == "" {
			d.Path = q.Path
		}
		out = append(out, d)
	}
	return out, nil
}

// Surrounding implements Surrounder: the selection, or the lines around
// the cursor.
func (b BufferSource) Surrounding(_ context.Context, q Query) (string, error) {
	if q.Text == "" {
		return "", errors.New("the editor sent no document text: open the file in the editor and retry")
	}
	n := b.ContextLines
	if n <= 0 {
		n = 20
	}
	return Surrounding(q, n, n), nil
}
