package edits

import (
	"strings"

	"github.com/lsp-router/lsp-router/router/syntax"
)

// indentStyle is how a text indents: with tabs, or with unit spaces per
// level.
type indentStyle struct {
	tabs bool
	unit int // spaces per level when !tabs
}

// indentCounter gathers the indentation statistics of a text line by line
// for detectIndent.
type indentCounter struct {
	tabs, spaces, prev int
	deltas             [9]int // by difference 1..8; an array, as this runs over whole files
}

// add counts one line: one pass over its indentation, no calls per line.
func (c *indentCounter) add(l string) {
	n, hasTab := 0, false
	for ; n < len(l) && (l[n] == ' ' || l[n] == '\t'); n++ {
		hasTab = hasTab || l[n] == '\t'
	}
	if n == len(l) || !nonSpaceASCII(l[n]) && strings.TrimSpace(l[n:]) == "" {
		return // blank
	}
	switch {
	case n > 0 && l[0] == '\t':
		c.tabs++
	case n > 0:
		c.spaces++
	}
	if !hasTab {
		if d := n - c.prev; d > 0 && d <= 8 {
			c.deltas[d]++
		}
		c.prev = n
	}
}

func (c *indentCounter) style() (indentStyle, bool) {
	if c.tabs == 0 && c.spaces == 0 {
		return indentStyle{}, false
	}
	if c.tabs >= c.spaces {
		return indentStyle{tabs: true}, true
	}
	best, n := 4, 0
	for d, k := range c.deltas {
		if k == 0 {
			continue
		}
		if k > n || (k == n && d < best) {
			best, n = d, k
		}
	}
	return indentStyle{unit: best}, true
}

// detectIndent guesses the indentation style of lines: tabs when most
// indented lines start with a tab, otherwise the most common positive
// difference between the indentation of consecutive lines (2, 4, 8...).
func detectIndent(lines []string) (indentStyle, bool) {
	var c indentCounter
	for _, l := range lines {
		c.add(l)
	}
	return c.style()
}

// fileIndent is detectIndent of a whole file, read from its text without
// splitting it into lines when it has no carriage return (all splits it as
// splitLines does, for the texts that have one).
func fileIndent(text string, all func() []string) (indentStyle, bool) {
	if strings.IndexByte(text, '\r') >= 0 {
		return detectIndent(all())
	}
	var c indentCounter
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			c.add(text)
			break
		}
		c.add(text[:i])
		text = text[i+1:]
	}
	return c.style()
}

// nonSpaceASCII reports whether c is an ASCII byte other than white space,
// so a line holding it after its indentation is not blank.
func nonSpaceASCII(c byte) bool {
	return c < 0x80 && c != ' ' && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r'
}

// level splits leading whitespace into indentation levels of style s and
// left-over spaces (alignment, or a JSDoc " *").
func (s indentStyle) level(ws string) (levels, rest int) {
	for _, c := range ws {
		if c == '\t' {
			levels++
			rest = 0
		} else {
			rest++
		}
	}
	if !s.tabs && s.unit > 0 {
		levels += rest / s.unit
		rest %= s.unit
	} else if s.tabs && rest >= 4 {
		// Spaces mixed into a tab-indented text: take 4 as a level.
		levels += rest / 4
		rest %= 4
	}
	return levels, rest
}

func (s indentStyle) render(levels, rest int) string {
	if levels < 0 {
		levels = 0
	}
	if s.tabs {
		return strings.Repeat("\t", levels) + strings.Repeat(" ", rest)
	}
	u := s.unit
	if u == 0 {
		u = 4
	}
	return strings.Repeat(" ", levels*u+rest)
}

// reindent moves lines so that the line at index base lands at the
// indentation target (whitespace of the original file), keeping the
// relative indentation of the others, converted from the answer's style to
// the file's. baseWS is the whitespace that the base line is taken to have
// in the answer (normally its own).
func reindent(lines []string, baseWS, target string, from, to indentStyle) []string {
	baseLevels, _ := from.level(baseWS)
	tLevels, tRest := to.level(target)
	out := make([]string, len(lines))
	for i, l := range lines {
		body := strings.TrimLeft(l, " \t")
		if body == "" {
			out[i] = ""
			continue
		}
		lv, rest := from.level(syntax.LeadingWS(l))
		rel := lv - baseLevels
		if rel < 0 {
			rel, rest = 0, 0
		}
		out[i] = to.render(tLevels+rel, tRest+rest) + body
	}
	return out
}

// dedent removes the indentation common to all non-blank lines.
func dedent(lines []string) []string {
	common := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ws := syntax.LeadingWS(l)
		if first {
			common, first = ws, false
			continue
		}
		for !strings.HasPrefix(ws, common) {
			common = common[:len(common)-1]
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		out[i] = strings.TrimPrefix(l, common)
	}
	return out
}
