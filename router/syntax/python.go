package syntax

import (
	"regexp"
	"strings"
)

// PyLine describes one physical line of Python source.
type PyLine struct {
	// Logical is true when the line starts a logical line (it is not
	// inside brackets or a triple-quoted string opened earlier).
	Logical bool
	// Last is, for a logical start, the index of the last physical line
	// of that logical line.
	Last    int
	Blank   bool // empty or only a comment
	Comment bool // only a comment
	Indent  int  // width of leading whitespace, a tab counting as 8 columns' worth of one level
}

// ScanPython classifies the lines of Python source, following brackets,
// strings (including triple-quoted ones) and backslash continuations.
func ScanPython(lines []string) []PyLine {
	out := make([]PyLine, len(lines))
	var sc pyScanner
	start := -1
	for li, l := range lines {
		t := strings.TrimSpace(l)
		pl := PyLine{Indent: indentWidth(l)}
		if sc.depth == 0 && sc.triple == "" && !sc.cont {
			pl.Logical = true
			pl.Blank = t == "" || strings.HasPrefix(t, "#")
			pl.Comment = strings.HasPrefix(t, "#")
			start = li
		}
		sc.cont = false
		for i := 0; i < len(l); i++ {
			i = sc.step(l, i)
		}
		out[li] = pl
		if start >= 0 {
			out[start].Last = li
		}
	}
	return out
}

// pyScanner is ScanPython's state between characters and lines.
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

// PythonDefs finds functions, methods and classes by indentation.
func PythonDefs(lines []string) []Def {
	info := ScanPython(lines)
	var defs []Def
	type open struct {
		name   string
		indent int
	}
	var classes []open // enclosing classes, innermost last
	for li, l := range lines {
		pl := info[li]
		if !pl.Logical || pl.Blank {
			continue
		}
		for len(classes) > 0 && classes[len(classes)-1].indent >= pl.Indent {
			classes = classes[:len(classes)-1]
		}
		m := pyHeader.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		d := Def{Name: m[2], Kind: "func", Start: li, Indent: LeadingWS(l), Depth: len(classes)}
		if m[1] == "class" {
			d.Kind = "class"
		}
		if len(classes) > 0 {
			d.Container = classes[len(classes)-1].name
			if d.Kind == "func" {
				d.Kind = "method"
			}
		}
		d.End, d.Complete = pythonEnd(lines, info, li)
		d.Attach, d.DocFrom, d.DocTo = Attachments(lines, li, true)
		// Decorators and comments must sit at the header's indentation.
		for d.Attach < li && indentWidth(lines[d.Attach]) != pl.Indent {
			d.Attach++
		}
		d.DocFrom, d.DocTo = max(d.DocFrom, d.Attach), max(d.DocTo, d.Attach)
		defs = append(defs, d)
		if d.Kind == "class" {
			classes = append(classes, open{d.Name, pl.Indent})
		}
	}
	return defs
}

// pythonEnd returns the last line of the block whose header starts at
// line h, and whether the block has a body.
func pythonEnd(lines []string, info []PyLine, h int) (int, bool) {
	hdrEnd := info[h].Last
	if !strings.HasSuffix(strings.TrimSpace(stripPyComment(lines[hdrEnd])), ":") {
		// One-line body after the colon ("def f(): return 1").
		return hdrEnd, strings.Contains(lines[hdrEnd], ":")
	}
	end := hdrEnd
	for li := hdrEnd + 1; li < len(lines); li++ {
		pl := info[li]
		if !pl.Logical || pl.Blank {
			continue
		}
		if pl.Indent <= info[h].Indent {
			break
		}
		end = pl.Last
		li = pl.Last
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

// PyDocstring returns the line span [from, to] of the docstring of the
// Python definition d, or ok=false when it has none. bodyStart is the first
// line of the body (where a docstring would go).
func PyDocstring(lines []string, d Def) (from, to int, ok bool) {
	info := ScanPython(lines)
	hdrEnd := info[d.Start].Last
	for li := hdrEnd + 1; li <= d.End && li < len(lines); li++ {
		pl := info[li]
		if !pl.Logical || pl.Blank {
			continue
		}
		t := strings.TrimLeft(strings.TrimSpace(lines[li]), "rRuUbB")
		if strings.HasPrefix(t, `"`) || strings.HasPrefix(t, `'`) {
			return li, pl.Last, true
		}
		return 0, 0, false
	}
	return 0, 0, false
}
