package completion

import (
	"strings"
)

// PostOptions tune Process.
type PostOptions struct {
	Language string
	// MaxLines cuts the suggestion after that many lines (0: no limit).
	MaxLines int
	// Stop are extra stop strings (the template's).
	Stop []string
}

// Process turns a model's middle into the suggestion to show: it stops at
// stop tokens, cuts at the end of the current block (brackets, or
// indentation for indentation-scoped languages), drops what repeats the
// text after the cursor, caps the lines and trims trailing blank space. An
// empty result means nothing is shown.
func Process(middle, prefix, suffix string, o PostOptions) string {
	s := strings.ReplaceAll(middle, "\r\n", "\n")
	s = cutAtStops(s, o.Stop)
	s = cutAtStops(s, AllStops())
	if strings.Contains(s, "[REDACTED:") {
		// The model copied a placeholder for a secret it never saw:
		// inserting it would put garbage into the code.
		return ""
	}
	s = midLine(s, prefix, o.Language)
	if indentScoped(o.Language) {
		s = cutByIndent(s, prefix)
	} else {
		s = cutByBrackets(s)
	}
	s = dropSuffixRepeat(s, suffix)
	if o.MaxLines > 0 {
		lines := strings.SplitAfter(s, "\n")
		if len(lines) > o.MaxLines {
			s = strings.Join(lines[:o.MaxLines], "")
		}
	}
	s = strings.TrimRight(s, " \t\n")
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return s
}

// midLine keeps a suggestion made in the middle of a line (code before
// the cursor on its line) to that line, unless the line opens a block the
// next lines fill: a bracket left open, or a ':' in an indentation-scoped
// language. Completing the statement is what the user is doing there.
func midLine(s, prefix, language string) string {
	cur := prefix[strings.LastIndexByte(prefix, '\n')+1:]
	first, _, multi := strings.Cut(s, "\n")
	if !multi || strings.TrimSpace(cur) == "" {
		return s
	}
	line := cur + first
	if indentScoped(language) && strings.HasSuffix(stripHashComment(strings.TrimRight(line, " \t")), ":") {
		return s
	}
	if bracketDepth(line) > 0 {
		return s
	}
	return first
}

func cutAtStops(s string, stops []string) string {
	for _, st := range stops {
		if st == "" {
			continue
		}
		if i := strings.Index(s, st); i >= 0 {
			s = s[:i]
		}
	}
	return s
}

// indentScoped lists languages whose blocks end by indentation.
func indentScoped(language string) bool {
	switch language {
	case "python", "yaml", "nim", "haskell", "fsharp", "coffeescript", "pug", "sass":
		return true
	}
	return false
}

// cutByBrackets ends the suggestion after the line that closes a bracket
// opened before the cursor (the enclosing block ends there), or after the
// line that closes the last brace the suggestion opened itself (its own
// block is complete). Brackets inside strings and comments are skipped.
func cutByBrackets(s string) string {
	depth, braced := 0, false
	sc := scanner{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			sc.endLine()
			if depth < 0 || (braced && depth == 0) {
				return s[:i]
			}
			continue
		}
		if !sc.code(s, i) {
			continue
		}
		switch c {
		case '{':
			braced = true
			depth++
		case '(', '[':
			depth++
		case '}', ')', ']':
			depth--
		}
	}
	return s
}

// scanner tracks strings and comments well enough for C-like languages:
// strings in double, single or back quotes (back quotes span lines),
// line comments and block comments.
type scanner struct {
	quote        byte
	lineComment  bool
	blockComment bool
	escaped      bool
}

func (sc *scanner) endLine() {
	sc.lineComment = false
	if sc.quote == '"' || sc.quote == '\'' {
		sc.quote = 0 // an unterminated literal does not span lines
	}
	sc.escaped = false
}

// code reports whether s[i] is code (not inside a string or comment),
// advancing the state.
func (sc *scanner) code(s string, i int) bool {
	c := s[i]
	switch {
	case sc.lineComment:
		return false
	case sc.blockComment:
		if c == '/' && i > 0 && s[i-1] == '*' {
			sc.blockComment = false
		}
		return false
	case sc.quote != 0:
		if sc.escaped {
			sc.escaped = false
		} else if c == '\\' && sc.quote != '`' {
			sc.escaped = true
		} else if c == sc.quote {
			sc.quote = 0
		}
		return false
	}
	switch c {
	case '"', '\'', '`':
		sc.quote = c
		return false
	case '/':
		if i+1 < len(s) && s[i+1] == '/' {
			sc.lineComment = true
			return false
		}
		if i+1 < len(s) && s[i+1] == '*' {
			sc.blockComment = true
			return false
		}
	}
	return true
}

// cutByIndent ends the suggestion before the first later line that leaves
// the cursor's block: a line indented less than the cursor's line, or, when
// the cursor's line opens a block (ends with ':'), a line indented no
// deeper than it.
func cutByIndent(s, prefix string) string {
	cur := prefix[strings.LastIndexByte(prefix, '\n')+1:]
	lines := strings.SplitAfter(s, "\n")
	if len(lines) < 2 {
		return s
	}
	base := indentWidth(cur)
	if strings.TrimSpace(cur) == "" {
		// The cursor sits in indentation: the suggestion's first line
		// starts the statement at the cursor's column.
		base = indentWidth(cur + lines[0])
	}
	firstLine := strings.TrimRight(cur+lines[0], " \t\n")
	opens := strings.HasSuffix(stripHashComment(firstLine), ":")
	out := lines[0]
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			out += l
			continue
		}
		w := indentWidth(l)
		if w < base || (opens && w <= base) {
			break
		}
		if !opens && w == base && startsNewTopLevel(l) && base == 0 {
			break
		}
		// A block opened later ends the same way: only the first line's
		// block decides, deeper blocks are inside it.
		out += l
	}
	return out
}

// startsNewTopLevel: at module level, a new def/class after the statement
// at the cursor is another definition, not part of this one.
func startsNewTopLevel(l string) bool {
	t := strings.TrimSpace(l)
	return strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "class ") || strings.HasPrefix(t, "async def ") || strings.HasPrefix(t, "@")
}

func stripHashComment(l string) string {
	if i := strings.Index(l, " #"); i >= 0 {
		return strings.TrimRight(l[:i], " \t")
	}
	return l
}

// indentWidth counts leading white space, a tab as 4 columns.
func indentWidth(l string) int {
	w := 0
	for _, c := range l {
		switch c {
		case ' ':
			w++
		case '\t':
			w += 4
		default:
			return w
		}
	}
	return w
}

// dropSuffixRepeat removes the end of the suggestion that the text after
// the cursor already has: whole trailing lines that repeat the suffix's
// first lines, and on a one-line suggestion the closing characters the
// editor already put after the cursor (")", "}", "\"").
func dropSuffixRepeat(s, suffix string) string {
	if s == "" || suffix == "" {
		return s
	}
	sufTrim := strings.TrimLeft(suffix, " \t\n")
	if sufTrim == "" {
		return s
	}
	if strings.HasPrefix(sufTrim, strings.TrimSpace(s)) && strings.Contains(s, "\n") {
		// Every line of the suggestion is already there.
		return ""
	}
	// The rest of the cursor's line: a suggestion must not repeat it at
	// its end.
	restOfLine, _, _ := strings.Cut(suffix, "\n")
	restOfLine = strings.TrimSpace(restOfLine)
	lines := strings.SplitAfter(s, "\n")
	// Trailing whole lines that match the suffix's start.
	for k := 1; k < len(lines); k++ {
		tail := strings.TrimSpace(strings.Join(lines[k:], ""))
		head := strings.Join(lines[:k], "")
		// The repeat is dropped only when what stays closes every bracket
		// it opened: a "}" that ends the suggestion's own block is not the
		// suffix's "}".
		if tail != "" && strings.HasPrefix(sufTrim, tail) && lineAligned(sufTrim, tail) && bracketDepth(head) <= 0 {
			s = head
			break
		}
	}
	if restOfLine != "" {
		trimmed := strings.TrimRight(s, " \t\n")
		if strings.HasSuffix(trimmed, restOfLine) {
			s = strings.TrimSuffix(trimmed, restOfLine)
		} else if !strings.Contains(trimmed, "\n") {
			// The editor closed a pair after the cursor ("foo(|)"): drop
			// the suggestion's closing run that matches its start.
			for n := min(len(restOfLine), len(trimmed)); n > 0; n-- {
				if closers(restOfLine[:n]) && strings.HasSuffix(trimmed, restOfLine[:n]) {
					s = strings.TrimSuffix(trimmed, restOfLine[:n])
					break
				}
			}
		}
	}
	return s
}

// lineAligned reports whether tail, a prefix of suf, ends at the end of one
// of suf's lines (a whole-line repeat, not a coincidence mid-line).
func lineAligned(suf, tail string) bool {
	rest := suf[len(tail):]
	return rest == "" || strings.HasPrefix(strings.TrimLeft(rest, " \t"), "\n")
}

// closers reports whether s is made only of closing brackets and quotes.
func closers(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune(")]}\"'`;,", c) {
			return false
		}
	}
	return true
}

// bracketDepth is the net count of brackets s opens, outside strings and
// comments.
func bracketDepth(s string) int {
	depth := 0
	sc := scanner{}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			sc.endLine()
			continue
		}
		if !sc.code(s, i) {
			continue
		}
		switch s[i] {
		case '{', '(', '[':
			depth++
		case '}', ')', ']':
			depth--
		}
	}
	return depth
}
