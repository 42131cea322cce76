package edits

import (
	"errors"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/codectx"
)

func pos(l, c int) codectx.Position { return codectx.Position{Line: l, Character: c} }
func rng(l1, c1, l2, c2 int) codectx.Range {
	return codectx.Range{Start: pos(l1, c1), End: pos(l2, c2)}
}

func TestApplyUTF16(t *testing.T) {
	// "👋" is two UTF-16 units, "é" one: column 9 is right after the emoji.
	text := "s := \"é👋x\"\nnext\n"
	got, err := Apply(text, []TextEdit{{Range: rng(0, 9, 0, 10), NewText: "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "s := \"é👋y\"\nnext\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Column 8 falls between the two halves of the surrogate pair.
	if _, err := Apply(text, []TextEdit{{Range: rng(0, 8, 0, 8), NewText: "!"}}); err == nil || !strings.Contains(err.Error(), "inside a character") {
		t.Fatalf("want an error for a position inside a character, got %v", err)
	}
}

func TestApplyCRLFAndEnd(t *testing.T) {
	text := "a\r\nbb\r\n"
	// The end of line 1 is before its \r.
	got, err := Apply(text, []TextEdit{{Range: rng(1, 0, 1, 2), NewText: "cc"}, {Range: rng(2, 0, 2, 0), NewText: "d\r\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\r\ncc\r\nd\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := Apply(text, []TextEdit{{Range: rng(1, 3, 1, 3)}}); err == nil {
		t.Fatal("a column past the end of the line must be refused (stale document)")
	}
	if _, err := Apply(text, []TextEdit{{Range: rng(5, 0, 5, 0)}}); err == nil {
		t.Fatal("a line past the end must be refused")
	}
}

func TestApplyRejectsOverlaps(t *testing.T) {
	text := "one\ntwo\nthree\n"
	_, err := Apply(text, []TextEdit{{Range: rng(0, 0, 1, 2), NewText: "x"}, {Range: rng(1, 0, 2, 0), NewText: "y"}})
	if err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("want overlap error, got %v", err)
	}
	// Edits in reverse order and an insertion at a boundary are fine.
	got, err := Apply(text, []TextEdit{{Range: rng(2, 0, 2, 5), NewText: "3"}, {Range: rng(0, 0, 0, 3), NewText: "1"}, {Range: rng(1, 0, 1, 0), NewText: ">"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "1\n>two\n3\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestUnifiedDiffRoundTrip(t *testing.T) {
	old := "package p\n\nfunc A() {}\n\nfunc B() int {\n\treturn 1\n}\n\nfunc C() {}\n"
	new := "package p\n\nfunc A() {}\n\nfunc B() int {\n\treturn 2\n}\n\nfunc C() {}\n\nfunc D() {}\n"
	d := UnifiedDiff("p.go", old, new)
	if !strings.HasPrefix(d, "--- a/p.go\n+++ b/p.go\n@@ -3,7 +3,9 @@\n") {
		t.Fatalf("unexpected header:\n%s", d)
	}
	for _, want := range []string{"-\treturn 1\n", "+\treturn 2\n", "+func D() {}\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	// The diff, fed back as a model answer, reproduces the new text.
	edits, err := FromAnswer(ActionFix, d, File{Path: "p.go", Text: old}, codectx.Symbol{Name: "B"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Apply(old, edits)
	if err != nil {
		t.Fatal(err)
	}
	if got != new {
		t.Fatalf("round trip:\n%s", UnifiedDiff("p.go", new, got))
	}
	if UnifiedDiff("p.go", old, old) != "" {
		t.Fatal("equal texts must give an empty diff")
	}
	if d := UnifiedDiff("x", "a", "b"); !strings.Contains(d, "\\ No newline at end of file") {
		t.Fatalf("missing no-newline marker:\n%s", d)
	}
}

func TestRefusalsAreTyped(t *testing.T) {
	file := File{Path: "x.go", Text: "package x\n\nfunc F() int {\n\treturn 1\n}\n"}
	cases := []struct {
		action, answer string
		reason         Reason
		msg            string
	}{
		{ActionRefactor, "", ReasonEmptyAnswer, "empty answer"},
		{ActionRefactor, "```go\nfunc G() {}\n```", ReasonNoDefinition, "no code block defining F"},
		{ActionRefactor, "```go\nfunc F() int {\n\treturn 2\n", ReasonIncomplete, "cut off"},
		{"explain", "F returns one.", ReasonNotEditAction, "produces no edit"},
		{ActionDocument, "```go\nfunc F() int { return 1 }\n```", ReasonNoDoc, "no doc comment for F"},
		{ActionFix, "<<<<<<< SEARCH\n\treturn 1\n=======\n\treturn 2\n", ReasonIncomplete, "cut off"},
	}
	for _, c := range cases {
		edits, err := FromAnswer(c.action, c.answer, file, codectx.Symbol{Name: "F"})
		var re *RefusalError
		if !errors.As(err, &re) || re.Reason != c.reason || !strings.Contains(re.Error(), c.msg) || edits != nil {
			t.Errorf("%s %q: got %v (%v), want %s containing %q", c.action, c.answer, err, edits, c.reason, c.msg)
		}
	}
}

func TestLocateMissingSymbol(t *testing.T) {
	_, err := FromAnswer(ActionRefactor, "```go\nfunc Nope() {}\n```", File{Path: "x.go", Text: "package x\n"}, codectx.Symbol{Name: "Nope"})
	var re *RefusalError
	if !errors.As(err, &re) || re.Reason != ReasonNoSymbol {
		t.Fatalf("got %v", err)
	}
}

func TestTargetNames(t *testing.T) {
	cases := []struct {
		sym             codectx.Symbol
		name, container string
	}{
		{codectx.Symbol{Name: "(*UserService).CreateUser"}, "CreateUser", "UserService"},
		{codectx.Symbol{NamePath: "UserService/CreateUser"}, "CreateUser", "UserService"},
		{codectx.Symbol{Name: "create", NamePath: "a/Svc/create"}, "create", "Svc"},
		{codectx.Symbol{Name: "List[T].Push"}, "Push", "List"},
		{codectx.Symbol{Name: "f"}, "f", ""},
	}
	for _, c := range cases {
		n, ct := target(c.sym)
		if n != c.name || ct != c.container {
			t.Errorf("target(%+v) = %q, %q; want %q, %q", c.sym, n, ct, c.name, c.container)
		}
	}
}

func TestStripReasoning(t *testing.T) {
	cases := []struct {
		in, want string
		only     bool
	}{
		{"<think>a</think>b", "b", false},
		{"<THINKING>x</THINKING> y <think>z</think>w", " y w", false},
		{"reasoning without an opening tag</think>\nanswer", "\nanswer", false},
		{"<think>never ends", "", true},
		{"plain", "plain", false},
	}
	for _, c := range cases {
		got, only := stripReasoning(c.in)
		if got != c.want || only != c.only {
			t.Errorf("stripReasoning(%q) = %q, %v; want %q, %v", c.in, got, only, c.want, c.only)
		}
	}
}

func TestParseBlocksNested(t *testing.T) {
	ans := "````md\n```go\nfunc A() {}\n```\n````\n~~~\nx\n~~~\n```py\nunterminated"
	bs := parseBlocks(splitLines(ans))
	if len(bs) != 4 {
		t.Fatalf("got %d blocks: %+v", len(bs), bs)
	}
	if bs[0].lang != "go" || bs[0].nested || !bs[1].nested || bs[2].lines[0] != "x" || bs[3].closed {
		t.Fatalf("unexpected blocks: %+v", bs)
	}
}

func TestIndentDetection(t *testing.T) {
	st, ok := detectIndent([]string{"a:", "  b", "    c", "  d"})
	if !ok || st.tabs || st.unit != 2 {
		t.Fatalf("got %+v", st)
	}
	st, ok = detectIndent([]string{"func f() {", "\tx", "}"})
	if !ok || !st.tabs {
		t.Fatalf("got %+v", st)
	}
	got := reindent([]string{"def f():", "  return 1"}, "", "    ", indentStyle{unit: 2}, indentStyle{unit: 4})
	if got[0] != "    def f():" || got[1] != "        return 1" {
		t.Fatalf("got %q", got)
	}
}

func BenchmarkFromAnswerGo(b *testing.B) {
	c := loadGolden(&testing.T{}, "testdata/golden/go_refactor_whole_file.txtar")
	file := File{Path: c.path, Text: c.source}
	sym := codectx.Symbol{NamePath: c.symbol}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := FromAnswer(c.action, c.answer, file, sym); err != nil {
			b.Fatal(err)
		}
	}
}
