package codectx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sourcegraph/conc"
)

// Part names used in SourceReport.Part.
const (
	PartSymbol      = "symbol"
	PartHover       = "hover"
	PartReferences  = "references"
	PartDiagnostics = "diagnostics"
	PartSurrounding = "surrounding"
)

// GatherOptions tunes Gather. Zero values select the defaults.
type GatherOptions struct {
	// SymbolTimeout bounds each source's Symbol call (default 5s).
	SymbolTimeout time.Duration
	// PartTimeout bounds each Hover, References and Diagnostics call
	// (default 5s).
	PartTimeout time.Duration
	// ReferenceLimit caps the references asked of each source (default 20).
	ReferenceLimit int
	// NearLines widens the symbol's range (or the cursor line when there is
	// no symbol) by this many lines when keeping diagnostics (default 3).
	NearLines int
	// SurroundingLines is how many lines around the cursor Context.Surrounding
	// keeps when no symbol was found and no source provides it (default 20).
	SurroundingLines int
	// Sequential runs every call one after another instead of
	// concurrently. It exists to measure what concurrency buys and to make
	// logs easy to read when debugging a source.
	Sequential bool
}

func (o GatherOptions) withDefaults() GatherOptions {
	if o.SymbolTimeout <= 0 {
		o.SymbolTimeout = 5 * time.Second
	}
	if o.PartTimeout <= 0 {
		o.PartTimeout = 5 * time.Second
	}
	if o.ReferenceLimit <= 0 {
		o.ReferenceLimit = 20
	}
	if o.NearLines <= 0 {
		o.NearLines = 3
	}
	if o.SurroundingLines <= 0 {
		o.SurroundingLines = 20
	}
	return o
}

// sourceResult holds everything one source answered.
type sourceResult struct {
	symbol  *Symbol
	hover   string
	refs    []Reference
	diags   []Diagnostic
	reports [4]SourceReport // symbol, hover, references, diagnostics
	errs    [4]error
	asked   bool
}

// Gather collects the context for q from sources, which are given in order
// of preference (Serena first, the editor's language servers next, then
// lsp-router's own, the syntax and the buffer last).
//
// Sources that are absent for this request (Optional) are left out. Every
// other source is asked concurrently and best-effort, except Lazy ones,
// which are asked afterwards and only when needed (see Lazy): a source that fails,
// panics or hangs never cancels the others, and each call has its own
// deadline, after which Gather stops waiting for it even if the source
// ignores its context. The symbol comes from the first source, in order,
// that found one; hover, references and diagnostics each come from the first
// source that answered them with something. Context.Sources reports every
// call. Gather only fails to produce anything when ctx itself is done.
func Gather(ctx context.Context, sources []Source, q Query, opts GatherOptions) Context {
	opts = opts.withDefaults()
	var present []Source
	for _, s := range sources {
		if !isAbsent(ctx, s) {
			present = append(present, s)
		}
	}
	sources = present
	results := make([]sourceResult, len(sources))

	// Eager sources first, all at once; lazy ones (lsp-router's own
	// language servers) after them, each only when the sources before it
	// left a part unanswered.
	ask := func(i int, concurrent bool) {
		results[i].asked = true
		askSource(ctx, sources[i], q, opts, &results[i], concurrent)
	}
	if opts.Sequential {
		for i, s := range sources {
			if !isLazy(s) {
				ask(i, false)
			}
		}
	} else {
		var wg conc.WaitGroup
		for i, s := range sources {
			if !isLazy(s) {
				wg.Go(func() { ask(i, true) })
			}
		}
		wg.Wait()
	}
	for i, s := range sources {
		if isLazy(s) && !answeredBefore(sources, results, i) && ctx.Err() == nil {
			ask(i, !opts.Sequential)
		}
	}

	out := Context{Answered: map[string]string{}}
	for i := range results {
		r := &results[i]
		if !r.asked {
			continue
		}
		name := sources[i].Name()
		if out.Symbol == nil && r.errs[0] == nil && r.symbol != nil {
			out.Symbol = r.symbol
			out.Answered[PartSymbol] = name
		}
		if out.Hover == "" && r.errs[1] == nil && r.hover != "" {
			out.Hover = r.hover
			out.Answered[PartHover] = name
		}
		if out.References == nil && r.errs[2] == nil && len(r.refs) > 0 {
			out.References = r.refs
			out.Answered[PartReferences] = name
		}
		out.Sources = append(out.Sources, r.reports[:]...)
	}
	// Diagnostics are filtered to the region of the final symbol before
	// choosing, so a source whose diagnostics are all elsewhere in the file
	// does not hide nearby ones from the next source.
	for i := range results {
		r := &results[i]
		if !r.asked || r.errs[3] != nil {
			continue
		}
		if near := nearDiagnostics(r.diags, q, out.Symbol, opts.NearLines); len(near) > 0 {
			out.Diagnostics = near
			out.Answered[PartDiagnostics] = sources[i].Name()
			break
		}
	}
	if out.Symbol != nil && out.Symbol.Body == "" && out.Symbol.Path == q.Path && q.Text != "" {
		sym := *out.Symbol
		sym.Body = TextInRange(q.Text, sym.Range)
		out.Symbol = &sym
	}
	if out.Symbol == nil {
		out.Surrounding = gatherSurrounding(ctx, sources, q, opts, &out)
	}
	return out
}

// askSource asks one source for every part: the symbol first, because the
// other parts are about it, then the rest concurrently when concurrent.
func askSource(ctx context.Context, s Source, q Query, opts GatherOptions, r *sourceResult, concurrent bool) {
	name := s.Name()
	r.symbol, r.reports[0], r.errs[0] = call(ctx, name, PartSymbol, opts.SymbolTimeout, func(ctx context.Context) (*Symbol, error) {
		return s.Symbol(ctx, q)
	})
	sym := r.symbol
	if r.errs[0] != nil {
		sym = nil
	}
	hover := func() {
		r.hover, r.reports[1], r.errs[1] = call(ctx, name, PartHover, opts.PartTimeout, func(ctx context.Context) (string, error) {
			return s.Hover(ctx, q, sym)
		})
	}
	refs := func() {
		r.refs, r.reports[2], r.errs[2] = call(ctx, name, PartReferences, opts.PartTimeout, func(ctx context.Context) ([]Reference, error) {
			return s.References(ctx, q, sym, opts.ReferenceLimit)
		})
		if len(r.refs) > opts.ReferenceLimit {
			r.refs = r.refs[:opts.ReferenceLimit]
		}
	}
	diags := func() {
		r.diags, r.reports[3], r.errs[3] = call(ctx, name, PartDiagnostics, opts.PartTimeout, func(ctx context.Context) ([]Diagnostic, error) {
			return s.Diagnostics(ctx, q, sym)
		})
	}
	if !concurrent {
		hover()
		refs()
		diags()
		return
	}
	var wg conc.WaitGroup
	wg.Go(hover)
	wg.Go(refs)
	wg.Go(diags)
	wg.Wait()
}

type callResult[T any] struct {
	v   T
	err error
}

// call runs fn with its own deadline and returns when fn does or when the
// deadline passes, whichever comes first: a source that ignores its context
// is abandoned (its goroutine finishes on its own into a buffered channel)
// rather than allowed to hold up the request. A panic in fn becomes an
// error.
func call[T any](ctx context.Context, source, part string, timeout time.Duration, fn func(context.Context) (T, error)) (T, SourceReport, error) {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan callResult[T], 1)
	go func() {
		var res callResult[T]
		defer func() {
			if p := recover(); p != nil {
				res.err = fmt.Errorf("%s panicked: %v", source, p)
			}
			ch <- res
		}()
		res.v, res.err = fn(cctx)
	}()
	var res callResult[T]
	select {
	case res = <-ch:
	case <-cctx.Done():
		res.err = cctx.Err()
	}
	if res.err != nil && errors.Is(res.err, context.DeadlineExceeded) && ctx.Err() == nil {
		res.err = fmt.Errorf("%s %s: no answer within %s: %w", source, part, timeout, res.err)
	}
	rep := SourceReport{Source: source, Part: part, OK: res.err == nil, Duration: time.Since(start)}
	if res.err != nil {
		rep.Error = res.err.Error()
	}
	return res.v, rep, res.err
}

// nearDiagnostics keeps the diagnostics of q's file that touch the symbol's
// range, or the cursor line when there is no symbol, widened by near lines.
func nearDiagnostics(ds []Diagnostic, q Query, sym *Symbol, near int) []Diagnostic {
	from, to := q.Position.Line, q.Position.Line
	if q.Selection != nil {
		from, to = q.Selection.Start.Line, q.Selection.End.Line
	}
	if sym != nil && sym.Path == q.Path {
		from, to = sym.Range.Start.Line, sym.Range.End.Line
	}
	from, to = from-near, to+near
	var out []Diagnostic
	for _, d := range ds {
		if d.Path != "" && q.Path != "" && d.Path != q.Path {
			continue
		}
		if d.Range.End.Line < from || d.Range.Start.Line > to {
			continue
		}
		out = append(out, d)
	}
	return out
}

// gatherSurrounding asks the sources that can give the text around the
// cursor, in order, and falls back to q.Text when none can.
func gatherSurrounding(ctx context.Context, sources []Source, q Query, opts GatherOptions, out *Context) string {
	for _, s := range sources {
		sur, ok := s.(Surrounder)
		if !ok {
			continue
		}
		text, rep, err := call(ctx, s.Name(), PartSurrounding, opts.PartTimeout, func(ctx context.Context) (string, error) {
			return sur.Surrounding(ctx, q)
		})
		out.Sources = append(out.Sources, rep)
		if err == nil && text != "" {
			out.Answered[PartSurrounding] = s.Name()
			return text
		}
	}
	out.Answered[PartSurrounding] = "buffer"
	return Surrounding(q, opts.SurroundingLines, opts.SurroundingLines)
}
