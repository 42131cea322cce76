package edits

import (
	"regexp"
	"strings"
)

// pyLine describes one physical line of Python source.
type pyLine struct {
	// logical is true when the line starts a logical line (it is not
	// inside brackets or a triple-quoted string opened earlier).
	logical bool
	// last is, for a logical start, the index of the last physical line
	// of that logical line.
	last    int
	blank   bool // empty or only a comment
	comment bool // only a comment
	indent  int  // width of leading whitespace, a tab counting as 8 columns' worth of one level
}

// scanPython classifies the lines of Python source, following brackets,
// strings (including triple-quoted ones) and backslash continuations.
func scanPython(lines []string) []pyLine {
	out := make([]pyLine, len(lines))
	var sc pyScanner
	start := -1
	for li, l := range lines {
		t := strings.TrimSpace(l)
		pl := pyLine{indent: indentWidth(l)}
		if sc.depth == 0 && sc.triple == "" && !sc.cont {
			pl.logical = true
			pl.blank = t == "" || strings.HasPrefix(t, "#")
			pl.comment = strings.HasPrefix(t, "#")
			start = li
		}
		sc.cont = false
		for i := 0; i < len(l); i++ {
			i = sc.step(l, i)
		}
		out[li] = pl
		if start >= 0 {
			out[start].last = li
		}
	}
	return out
}

// pyScanner is scanPython's state between characters and lines.
type pyScanner struct {
	depth  int    // bracket depth
	triple string // open triple quote, "" if none
	cont   bool   // backslash continuation
}

// step reads the character at l[i] and returns the index of the last
// character it consumed.
func (sc *pyScanner) step(l string, i int) int {
	c := l[i]
	if sc.triple != "" {
		if strings.HasPrefix(l[i:], sc.triple) {
			i += 2
			sc.triple = ""
		} else if c == '\\' {
			i++
		}
		return i
	}
	switch c {
	case '#':
		i = len(l)
	case '"', '\'':
		q := string(c)
		if strings.HasPrefix(l[i:], q+q+q) {
			sc.triple = q + q + q
			return i + 2
		}
		for i++; i < len(l) && l[i] != c; i++ {
			if l[i] == '\\' {
				i++
			}
		}
	case '(', '[', '{':
		sc.depth++
	case ')', ']', '}':
		if sc.depth > 0 {
			sc.depth--
		}
	case '\\':
		if i == len(l)-1 {
			sc.cont = true
		}
	}
	return i
}

func indentWidth(l string) int {
	w := 0
	for _, c := range l {
		switch c {
		case ' ':
			w++
		case '\t':
			w += 8 - w%8
		default:
			return w
		}
	}
	return w
}

var pyHeader = regexp.MustCompile(`^(?:async\s+)?(def|class)\s+(` + ident + `)\s*[(:\[]`)

// pythonDefs finds functions, methods and classes by indentation.
func pythonDefs(lines []string) []def {
	info := scanPython(lines)
	var defs []def
	type open struct {
		name   string
		indent int
	}
	var classes []open // enclosing classes, innermost last
	for li, l := range lines {
		pl := info[li]
		if !pl.logical || pl.blank {
			continue
		}
		for len(classes) > 0 && classes[len(classes)-1].indent >= pl.indent {
			classes = classes[:len(classes)-1]
		}
		m := pyHeader.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		d := def{name: m[2], kind: "func", start: li, indent: leadingWS(l), depth: len(classes)}
		if m[1] == "class" {
			d.kind = "class"
		}
		if len(classes) > 0 {
			d.container = classes[len(classes)-1].name
			if d.kind == "func" {
				d.kind = "method"
			}
		}
		d.end, d.complete = pythonEnd(lines, info, li)
		d.attach, d.docFrom, d.docTo = attachments(lines, li, true)
		// Decorators and comments must sit at the header's indentation.
		for d.attach < li && indentWidth(lines[d.attach]) != pl.indent {
			d.attach++
		}
		d.docFrom, d.docTo = max(d.docFrom, d.attach), max(d.docTo, d.attach)
		defs = append(defs, d)
		if d.kind == "class" {
			classes = append(classes, open{d.name, pl.indent})
		}
	}
	return defs
}

// pythonEnd returns the last line of the block whose header starts at
// line h, and whether the block has a body.
func pythonEnd(lines []string, info []pyLine, h int) (int, bool) {
	hdrEnd := info[h].last
	if !strings.HasSuffix(strings.TrimSpace(stripPyComment(lines[hdrEnd])), ":") {
		// One-line body after the colon ("def f(): return 1").
		return hdrEnd, strings.Contains(lines[hdrEnd], ":")
	}
	end := hdrEnd
	for li := hdrEnd + 1; li < len(lines); li++ {
		pl := info[li]
		if !pl.logical || pl.blank {
			continue
		}
		if pl.indent <= info[h].indent {
			break
		}
		end = pl.last
		li = pl.last
	}
	return end, end > hdrEnd
}

// stripPyComment removes a trailing # comment outside strings (roughly:
// good enough to find the colon that ends a header).
func stripPyComment(l string) string {
	var q byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case q != 0:
			if c == '\\' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#':
			return l[:i]
		}
	}
	return l
}

// pyDocstring returns the line span [from, to] of the docstring of the
// Python definition d, or ok=false when it has none. bodyStart is the first
// line of the body (where a docstring would go).
func pyDocstring(lines []string, d def) (from, to int, ok bool) {
	info := scanPython(lines)
	hdrEnd := info[d.start].last
	for li := hdrEnd + 1; li <= d.end && li < len(lines); li++ {
		pl := info[li]
		if !pl.logical || pl.blank {
			continue
		}
		t := strings.TrimLeft(strings.TrimSpace(lines[li]), "rRuUbB")
		if strings.HasPrefix(t, `"`) || strings.HasPrefix(t, `'`) {
			return li, pl.last, true
		}
		return 0, 0, false
	}
	return 0, 0, false
}
