package codectx

import (
	"context"
	"sync/atomic"
	"testing"
)

// lazyFake counts the calls it received: a lazy source that is asked
// stands for a language server lsp-router had to start.
type lazyFake struct {
	gatherFake
	calls atomic.Int32
}

func (l *lazyFake) Lazy() bool { return true }

func (l *lazyFake) Symbol(ctx context.Context, q Query) (*Symbol, error) {
	l.calls.Add(1)
	return l.gatherFake.Symbol(ctx, q)
}

func TestGatherSkipsLazySourceWhenEditorAnswered(t *testing.T) {
	for _, seq := range []bool{false, true} {
		editor := &gatherFake{name: EditorSourceName, sym: gatherSymA(), hover: "func A()", refs: []Reference{{Snippet: "A()"}}}
		own := &lazyFake{gatherFake: gatherFake{name: "langserver", sym: gatherSymA(), hover: "own hover"}}
		ctx := WithEditor(context.Background(), editor)
		c := Gather(ctx, []Source{EditorSlot{}, own, BufferSource{}}, gatherQuery(), GatherOptions{Sequential: seq})
		if own.calls.Load() != 0 {
			t.Fatalf("sequential=%v: the own language server was asked although the editor answered everything", seq)
		}
		if c.Hover != "func A()" || len(c.References) != 1 || c.Symbol == nil {
			t.Fatalf("sequential=%v: context = %+v, want the editor's answers", seq, c)
		}
		if _, ok := findReport(c, "langserver", PartSymbol); ok {
			t.Fatalf("a source that was not asked must not be reported: %+v", c.Sources)
		}
		if r, ok := findReport(c, EditorSourceName, PartHover); !ok || !r.OK {
			t.Fatalf("editor hover report = %+v, %v", r, ok)
		}
		if got := c.AnsweredSummary(); got != "symbol editor, hover editor, references editor" {
			t.Fatalf("answered = %q", got)
		}
	}
}

func TestGatherAsksLazySourceForWhatTheEditorMissed(t *testing.T) {
	// The editor has no language server for this file: every part fails.
	editor := &gatherFake{name: EditorSourceName, fail: ErrUnsupported}
	own := &lazyFake{gatherFake: gatherFake{name: "langserver", sym: gatherSymA(), hover: "own hover", refs: []Reference{{Snippet: "x"}}}}
	ctx := WithEditor(context.Background(), editor)
	c := Gather(ctx, []Source{EditorSlot{}, own, BufferSource{}}, gatherQuery(), GatherOptions{})
	if own.calls.Load() != 1 {
		t.Fatalf("own language server asked %d times, want once", own.calls.Load())
	}
	if c.Hover != "own hover" || len(c.References) != 1 {
		t.Fatalf("context = %+v, want the own server's answers", c)
	}
	if c.Answered[PartHover] != "langserver" || c.Answered[PartSymbol] != "langserver" {
		t.Fatalf("answered = %v", c.Answered)
	}
	if r, ok := findReport(c, EditorSourceName, PartSymbol); !ok || r.OK || r.Error == "" {
		t.Fatalf("the editor's missing answer must be reported: %+v", c.Sources)
	}
}

func TestGatherLeavesOutAbsentEditor(t *testing.T) {
	own := &lazyFake{gatherFake: gatherFake{name: "langserver", sym: gatherSymA(), hover: "own hover"}}
	c := Gather(context.Background(), []Source{EditorSlot{}, own, BufferSource{}}, gatherQuery(), GatherOptions{})
	if _, ok := findReport(c, EditorSourceName, PartSymbol); ok {
		t.Fatalf("no editor source in the context, yet it was reported: %+v", c.Sources)
	}
	if own.calls.Load() != 1 || c.Hover != "own hover" {
		t.Fatalf("without the editor the own server must answer: calls=%d ctx=%+v", own.calls.Load(), c)
	}
}

// symbolOnlyLazy is a lazy source that can give only the symbol, like the
// syntax fallback.
type symbolOnlyLazy struct{ lazyFake }

func (*symbolOnlyLazy) LazyParts() []string { return []string{PartSymbol} }

func TestGatherAsksSymbolOnlySourceOnlyWithoutSymbol(t *testing.T) {
	syntax := &symbolOnlyLazy{lazyFake{gatherFake: gatherFake{name: "syntax", sym: gatherSymA()}}}
	// The editor found the symbol but has no hover: the syntax source,
	// which could not help with hover, is not asked.
	editor := &gatherFake{name: EditorSourceName, sym: gatherSymA()}
	ctx := WithEditor(context.Background(), editor)
	Gather(ctx, []Source{EditorSlot{}, syntax, BufferSource{}}, gatherQuery(), GatherOptions{})
	if n := syntax.calls.Load(); n != 0 {
		t.Fatalf("the syntax source was asked %d times although the symbol was known", n)
	}
	// Without the editor it is.
	c := Gather(context.Background(), []Source{EditorSlot{}, syntax, BufferSource{}}, gatherQuery(), GatherOptions{})
	if syntax.calls.Load() != 1 || c.Answered[PartSymbol] != "syntax" {
		t.Fatalf("calls=%d answered=%v", syntax.calls.Load(), c.Answered)
	}
}
