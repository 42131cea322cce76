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
