package edits

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// TestLineStartMatchesLineStarts checks the allocation-free line lookup
// against the plain scan on texts whose lines cross the 4 KB blocks it
// skips, including empty lines, CRLF and a missing final line break.
func TestLineStartMatchesLineStarts(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 20000; i++ {
		switch i % 7 {
		case 0:
			b.WriteString("\n")
		case 3:
			b.WriteString(strings.Repeat("x", 5000) + "\r\n")
		default:
			b.WriteString(strings.Repeat("y", i%13) + "\n")
		}
	}
	for _, text := range []string{"", "a", "a\n", "\n\n", b.String(), b.String() + "tail"} {
		starts := lineStarts(text)
		if got := lineCount(text); got != len(starts) {
			t.Fatalf("lineCount = %d, want %d", got, len(starts))
		}
		for line, want := range starts {
			if got := lineStart(text, line); got != want {
				t.Fatalf("lineStart(%d) = %d, want %d (text of %d bytes)", line, got, want, len(text))
			}
		}
		if got := lineStart(text, len(starts)); got != -1 {
			t.Fatalf("lineStart past the end = %d, want -1", got)
		}
	}
}

// TestApplyFarIntoLargeFile applies an edit near the end of a large file
// and one past its end, which must be refused with the document's size.
func TestApplyFarIntoLargeFile(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 30000; i++ {
		b.WriteString("line ü😀\n")
	}
	text := b.String()
	pos := codectx.Position{Line: 29999, Character: 5}
	got, err := Apply(text, []TextEdit{{Range: codectx.Range{Start: pos, End: codectx.Position{Line: 29999, Character: 6}}, NewText: "u"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, "line u😀\n") || len(got) != len(text)-1 {
		t.Fatalf("edit landed elsewhere: ...%q", got[len(got)-30:])
	}
	if _, err := Apply(text, []TextEdit{{Range: codectx.Range{Start: codectx.Position{Line: 30001}, End: codectx.Position{Line: 30001}}}}); err == nil ||
		!strings.Contains(err.Error(), "past the end of the document (30001 lines)") {
		t.Fatalf("edit past the end: err = %v", err)
	}
	if _, err := Apply(text, []TextEdit{{Range: codectx.Range{Start: codectx.Position{Line: 5, Character: 7}, End: codectx.Position{Line: 5, Character: 7}}}}); err == nil ||
		!strings.Contains(err.Error(), "inside a character") {
		t.Fatalf("edit inside a surrogate pair: err = %v", err)
	}
}

// detectIndentReference is detectIndent as first written, with a map and
// string helpers per line; the fast version must agree with it.
func detectIndentReference(lines []string) (indentStyle, bool) {
	tabs, spaces := 0, 0
	deltas := map[int]int{}
	prev := 0
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		switch {
		case strings.HasPrefix(ws, "\t"):
			tabs++
		case ws != "":
			spaces++
		}
		if !strings.Contains(ws, "\t") {
			if d := len(ws) - prev; d > 0 && d <= 8 {
				deltas[d]++
			}
			prev = len(ws)
		}
	}
	if tabs == 0 && spaces == 0 {
		return indentStyle{}, false
	}
	if tabs >= spaces {
		return indentStyle{tabs: true}, true
	}
	best, n := 4, 0
	for d, c := range deltas {
		if c > n || (c == n && d < best) {
			best, n = d, c
		}
	}
	return indentStyle{unit: best}, true
}

func TestDetectIndentMatchesReference(t *testing.T) {
	pieces := []string{"", " ", "  ", "    ", "\t", "\t\t", " \t", "\t  ", "        ", "   ", "\u00a0", "\u0085"}
	bodies := []string{"x", "", " ", "\v", "\u00a0", "\xc2", "y = 1"}
	r := uint64(7)
	next := func(n int) int { r = r*6364136223846793005 + 1442695040888963407; return int(r>>33) % n }
	for range 3000 {
		lines := make([]string, next(12))
		for i := range lines {
			lines[i] = pieces[next(len(pieces))] + pieces[next(len(pieces))] + bodies[next(len(bodies))]
		}
		got, ok := detectIndent(lines)
		want, wantOK := detectIndentReference(lines)
		if got != want || ok != wantOK {
			t.Fatalf("detectIndent(%q) = %+v %v, want %+v %v", lines, got, ok, want, wantOK)
		}
	}
}

func TestRegionLinesArePrefixOfSplit(t *testing.T) {
	for _, text := range []string{"a\nb\nc\n", "a\nb\nc", "a\n\n\nb\n", "a\r\nb\r\nc\r\n", "a\rb\nc\n"} {
		whole := splitLines(text)
		for end := 0; end < len(whole); end++ {
			lines, all := regionLines(text, rng(0, 0, end, 0))
			if len(lines) < end+1 || len(lines) > len(whole) {
				t.Fatalf("%q up to line %d: %d lines", text, end, len(lines))
			}
			for i := range lines {
				if lines[i] != whole[i] {
					t.Fatalf("%q up to line %d: line %d = %q, want %q", text, end, i, lines[i], whole[i])
				}
			}
			if got := all(); len(got) != len(whole) {
				t.Fatalf("%q: all() has %d lines, want %d", text, len(got), len(whole))
			}
		}
	}
}

// bigGoFile is a Go file with target at the top, a helper and an indented
// "existing code" comment at the bottom, far from target's range, and
// four-space indentation below a tab-indented target, so that the file's
// style comes from the lines after the range.
func bigGoFile() string {
	var b strings.Builder
	b.WriteString("package main\n\nimport \"fmt\"\n\nfunc target(x int) int {\n\treturn x + 1\n}\n\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "func f%d(x int) int {\n    return x * 2\n}\n\n", i)
	}
	b.WriteString("func helper(x int) int {\n    // ... existing code ...\n    return x\n}\n")
	return b.String()
}

// With target's range known and only the lines up to it split, the answer
// is still checked against the whole file: the helper it repeats is not
// added again, a comment that exists further down is not taken for a
// placeholder, the file's own indentation style is used and a new import
// is added.
func TestRefactorNearTopChecksTheWholeFile(t *testing.T) {
	text := bigGoFile()
	sym := codectx.Symbol{Name: "target", Kind: "Function", Range: rng(4, 0, 6, 1)}
	file := File{Path: "main.go", Text: text, Language: "go"}
	answer := "```go\nimport \"strings\"\n\nfunc target(x int) int {\n\t// ... existing code ...\n\treturn helper(x) + len(strings.TrimSpace(\" \"))\n}\n\nfunc helper(x int) int {\n\treturn x\n}\n```\n"
	tes, err := FromAnswer(ActionRefactor, answer, file, sym)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Apply(text, tes)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(got, "func helper("); n != 1 {
		t.Errorf("helper defined %d times", n)
	}
	if !strings.Contains(got, "func target(x int) int {\n    // ... existing code ...\n    return helper(x) + len(strings.TrimSpace(\" \"))\n}\n") {
		t.Errorf("target not replaced in the file's style:\n%s", got[:200])
	}
	if !strings.Contains(got[:100], "\"strings\"") {
		t.Errorf("import not added:\n%s", got[:100])
	}
}

// BenchmarkFromAnswerLargeFile refactors one small function of a 400 KB Go
// file (100k tokens), at the top of the file and at its bottom, with the
// symbol's range known as the editor gives it.
func BenchmarkFromAnswerLargeFile(b *testing.B) {
	var src strings.Builder
	src.WriteString("package main\n\n// target adds one.\nfunc target(x int) int {\n\treturn x + 1\n}\n\n")
	for i := 0; src.Len() < 400_000; i++ {
		fmt.Fprintf(&src, "// f%d doubles.\nfunc f%d(x int) int {\n\treturn x * %d\n}\n\n", i, i, i%9+2)
	}
	top := src.String()
	n := strings.Count(top, "\n")
	bottom := top + "// last adds one.\nfunc last(x int) int {\n\treturn x + 1\n}\n"
	answer := func(name string) string {
		return "```go\n// " + name + " adds two.\nfunc " + name + "(x int) int {\n\treturn x + 2\n}\n```\n"
	}
	for _, c := range []struct {
		name, text string
		sym        codectx.Symbol
	}{
		{"top", top, codectx.Symbol{Name: "target", Kind: "Function", Range: rng(3, 0, 5, 1)}},
		{"bottom", bottom, codectx.Symbol{Name: "last", Kind: "Function", Range: rng(n+1, 0, n+3, 1)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			file := File{Path: "main.go", Text: c.text, Language: "go"}
			a := answer(c.sym.Name)
			b.ReportAllocs()
			for range b.N {
				tes, err := FromAnswer(ActionRefactor, a, file, c.sym)
				if err != nil || len(tes) != 1 {
					b.Fatal(tes, err)
				}
			}
		})
	}
}
