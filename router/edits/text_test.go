package edits

import (
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
