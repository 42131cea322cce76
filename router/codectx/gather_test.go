package codectx

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// gatherFake answers from fields; block makes a call hang until released
// (ignoring its context, the worst case), fail makes every call fail.
type gatherFake struct {
	name    string
	sym     *Symbol
	hover   string
	refs    []Reference
	diags   []Diagnostic
	fail    error
	block   chan struct{}
	panics  bool
	gotSyms chan *Symbol
}

func (f *gatherFake) Name() string { return f.name }

func (f *gatherFake) wait() error {
	if f.panics {
		panic("boom")
	}
	if f.block != nil {
		<-f.block
	}
	return f.fail
}

func (f *gatherFake) Symbol(ctx context.Context, q Query) (*Symbol, error) {
	if err := f.wait(); err != nil {
		return nil, err
	}
	if f.sym == nil {
		return nil, ErrUnsupported
	}
	return f.sym, nil
}

func (f *gatherFake) Hover(ctx context.Context, q Query, sym *Symbol) (string, error) {
	if f.gotSyms != nil {
		f.gotSyms <- sym
	}
	return f.hover, f.wait()
}

func (f *gatherFake) References(ctx context.Context, q Query, sym *Symbol, limit int) ([]Reference, error) {
	return f.refs, f.wait()
}

func (f *gatherFake) Diagnostics(ctx context.Context, q Query, sym *Symbol) ([]Diagnostic, error) {
	return f.diags, f.wait()
}

const gatherText = "package p\n\nfunc A() {\n\tx := 1\n\t_ = x\n}\n\nfunc B() {}\n"

func gatherQuery() Query {
	return Query{Path: "/w/p.go", Text: gatherText, Position: Position{Line: 3, Character: 1}, WorkspaceRoot: "/w"}
}

func gatherSymA() *Symbol {
	return &Symbol{Name: "A", NamePath: "A", Kind: "Function", Path: "/w/p.go",
		Range: Range{Start: Position{2, 0}, End: Position{5, 1}}}
}

func findReport(c Context, source, part string) (SourceReport, bool) {
	for _, r := range c.Sources {
		if r.Source == source && r.Part == part {
			return r, true
		}
	}
	return SourceReport{}, false
}

func TestGatherPrefersFirstSourceAndFillsBody(t *testing.T) {
	serena := &gatherFake{name: "serena", sym: gatherSymA(), hover: ""}
	gopls := &gatherFake{name: "gopls", sym: &Symbol{Name: "other"}, hover: "func A()",
		refs: []Reference{{Location: Location{Path: "/w/q.go"}}}}
	c := Gather(context.Background(), []Source{serena, gopls, BufferSource{}}, gatherQuery(), GatherOptions{})
	if c.Symbol == nil || c.Symbol.Name != "A" {
		t.Fatalf("symbol = %+v, want A from serena", c.Symbol)
	}
	if want := "func A() {\n\tx := 1\n\t_ = x\n}"; c.Symbol.Body != want {
		t.Errorf("body = %q, want %q", c.Symbol.Body, want)
	}
	if c.Hover != "func A()" {
		t.Errorf("hover = %q: an empty answer from serena must fall through to gopls", c.Hover)
	}
	if len(c.References) != 1 {
		t.Errorf("references = %v", c.References)
	}
	if c.Surrounding != "" {
		t.Errorf("surrounding set although a symbol was found")
	}
	if len(c.Sources) != 12 {
		t.Errorf("got %d reports, want 12 (3 sources x 4 parts)", len(c.Sources))
	}
	if r, _ := findReport(c, "buffer", PartSymbol); r.OK || r.Error == "" {
		t.Errorf("buffer symbol report = %+v, want not OK with a reason", r)
	}
}

func TestGatherFailingAndHangingSourcesYieldPartialContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hanging := &gatherFake{name: "serena", sym: gatherSymA(), block: release}
	failing := &gatherFake{name: "gopls", fail: errors.New("gopls crashed")}
	q := gatherQuery()
	q.Diagnostics = []Diagnostic{{Range: Range{Start: Position{4, 1}, End: Position{4, 2}}, Message: "unused"}}
	opts := GatherOptions{SymbolTimeout: 50 * time.Millisecond, PartTimeout: 50 * time.Millisecond}
	c := Gather(context.Background(), []Source{hanging, failing, BufferSource{ContextLines: 1}}, q, opts)

	if c.Symbol != nil {
		t.Fatalf("symbol from a hanging source: %+v", c.Symbol)
	}
	if len(c.Diagnostics) != 1 || c.Diagnostics[0].Path != q.Path {
		t.Errorf("diagnostics = %+v, want the editor's one with its path filled", c.Diagnostics)
	}
	if c.Surrounding != "func A() {\n\tx := 1\n\t_ = x" {
		t.Errorf("surrounding = %q", c.Surrounding)
	}
	r, ok := findReport(c, "serena", PartSymbol)
	if !ok || r.OK || !strings.Contains(r.Error, "no answer within") {
		t.Errorf("serena symbol report = %+v, want a timeout", r)
	}
	r, _ = findReport(c, "gopls", PartHover)
	if r.OK || !strings.Contains(r.Error, "gopls crashed") {
		t.Errorf("gopls hover report = %+v", r)
	}
	r, _ = findReport(c, "buffer", PartSurrounding)
	if !r.OK {
		t.Errorf("buffer surrounding report = %+v", r)
	}
}

func TestGatherRecoversPanics(t *testing.T) {
	c := Gather(context.Background(), []Source{&gatherFake{name: "bad", panics: true}, BufferSource{}}, gatherQuery(), GatherOptions{})
	r, _ := findReport(c, "bad", PartSymbol)
	if r.OK || !strings.Contains(r.Error, "panicked") {
		t.Errorf("report = %+v", r)
	}
	if c.Surrounding == "" {
		t.Errorf("no surrounding from the buffer")
	}
}

func TestGatherPassesEachSourceItsOwnSymbol(t *testing.T) {
	got := make(chan *Symbol, 1)
	s := &gatherFake{name: "gopls", sym: gatherSymA(), gotSyms: got}
	Gather(context.Background(), []Source{s}, gatherQuery(), GatherOptions{Sequential: true})
	if sym := <-got; sym == nil || sym.Name != "A" {
		t.Errorf("hover got symbol %+v", sym)
	}
}

func TestGatherDiagnosticsNearSymbol(t *testing.T) {
	far := Diagnostic{Path: "/w/p.go", Range: Range{Start: Position{40, 0}, End: Position{40, 1}}, Message: "far"}
	near := Diagnostic{Path: "/w/p.go", Range: Range{Start: Position{7, 0}, End: Position{7, 1}}, Message: "near"}
	other := Diagnostic{Path: "/w/q.go", Range: Range{Start: Position{3, 0}, End: Position{3, 1}}, Message: "other file"}
	s := &gatherFake{name: "gopls", sym: gatherSymA(), diags: []Diagnostic{far, near, other}}
	c := Gather(context.Background(), []Source{s}, gatherQuery(), GatherOptions{NearLines: 2})
	if len(c.Diagnostics) != 1 || c.Diagnostics[0].Message != "near" {
		t.Errorf("diagnostics = %+v, want only the one within 2 lines of A", c.Diagnostics)
	}
}

func TestTextHelpers(t *testing.T) {
	text := "a😀b\r\nxyz\n"
	if got := TextInRange(text, Range{Start: Position{0, 1}, End: Position{1, 2}}); got != "😀b\r\nxy" {
		t.Errorf("TextInRange = %q", got)
	}
	if UTF16Len("a😀") != 3 {
		t.Errorf("UTF16Len")
	}
	if l := SplitLines(text); len(l) != 2 || l[0] != "a😀b" {
		t.Errorf("SplitLines = %q", l)
	}
	q := Query{Text: "l0\nl1\nl2\nl3\n", Position: Position{Line: 2}}
	if got := Surrounding(q, 1, 5); got != "l1\nl2\nl3" {
		t.Errorf("Surrounding = %q", got)
	}
	q.Selection = &Range{Start: Position{0, 1}, End: Position{1, 1}}
	if got := Surrounding(q, 1, 1); got != "0\nl" {
		t.Errorf("Surrounding with selection = %q", got)
	}
}
