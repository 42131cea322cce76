package codectx

import (
	"strings"
	"unicode/utf16"
)

// SplitLines splits text into lines without their terminators ("\n" or
// "\r\n"). A trailing newline does not produce an extra empty line.
func SplitLines(text string) []string {
	lines := strings.Split(text, "\n")
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// UTF16Len is the length of s in UTF-16 code units, the unit LSP columns use.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		// Invalid bytes decode as U+FFFD, one unit, as editors show them.
		n += utf16.RuneLen(r)
	}
	return n
}

// TextInRange returns the text covered by r, or "" when r is empty,
// inverted or outside text.
func TextInRange(text string, r Range) string {
	start, err := Offset(text, r.Start)
	if err != nil {
		return ""
	}
	end, err := Offset(text, r.End)
	if err != nil {
		end = len(text)
	}
	if end <= start {
		return ""
	}
	return text[start:end]
}

// Contains reports whether p lies in r. The end is inclusive so that a
// cursor placed just after the last character of a symbol still selects it.
func (r Range) Contains(p Position) bool {
	return !p.Before(r.Start) && !r.End.Before(p)
}

// Before reports whether p comes strictly before o.
func (p Position) Before(o Position) bool {
	return p.Line < o.Line || (p.Line == o.Line && p.Character < o.Character)
}

// Surrounding returns the selection when q has a non-empty one, else the
// lines from before lines above the cursor to after lines below it. It
// works on q.Text only, so it never fails.
func Surrounding(q Query, before, after int) string {
	if q.Selection != nil && q.Selection.Start != q.Selection.End {
		return TextInRange(q.Text, *q.Selection)
	}
	lines := SplitLines(q.Text)
	if len(lines) == 0 {
		return ""
	}
	line := min(max(q.Position.Line, 0), len(lines)-1)
	from := max(line-before, 0)
	to := min(line+after, len(lines)-1)
	return strings.Join(lines[from:to+1], "\n")
}
