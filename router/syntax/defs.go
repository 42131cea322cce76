// Package syntax finds definitions (functions, methods, classes, types) in
// Go, Python and TypeScript/JavaScript source by reading the text itself:
// go/parser for Go, with a tolerant brace scanner as fallback, indentation
// for Python, braces and header patterns for TypeScript. It tolerates what
// a model's answer looks like (prose around the code, code cut off), so
// the edits package uses it on answers as well as on files, and the
// router's syntax source uses it when no language server is available.
package syntax

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// Def is one definition found in a piece of source: a function, method,
// class, type or variable. Line numbers are indexes into the lines the
// definition was found in.
type Def struct {
	Name string
	// Container is the name of the enclosing class or, for a Go method,
	// the receiver's base type; "" at top level.
	Container string
	Kind      string // "func", "method", "class", "type", "var"
	// Attach is the first line of what belongs to the definition above
	// its header: doc comment and decorators. Attach == Start when none.
	Attach int
	// DocFrom and DocTo delimit the doc comment lines inside [Attach,
	// Start); DocFrom == DocTo when there is no doc comment.
	DocFrom, DocTo int
	Start          int // header line
	End            int // last line, inclusive
	Indent         string
	// Complete is false when the body never closes (an answer cut off by
	// the model's token limit) or, in Python, has no indented body.
	Complete bool
	// Depth is the nesting level: 0 for top-level definitions.
	Depth int
}

// Path is the definition's name path: "Container/Name", or "Name" at top
// level.
func (d Def) Path() string {
	if d.Container == "" {
		return d.Name
	}
	return d.Container + "/" + d.Name
}

// Language normalises an LSP language id or a file extension to one of
// "go", "python", "typescript" (which covers JavaScript) or "".
func Language(lang, path string) string {
	switch strings.ToLower(lang) {
	case "go", "golang":
		return "go"
	case "python", "py", "python3":
		return "python"
	case "typescript", "typescriptreact", "javascript", "javascriptreact", "ts", "tsx", "js", "jsx":
		return "typescript"
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".go":
		return "go"
	case ".py", ".pyi":
		return "python"
	case ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts":
		return "typescript"
	}
	return ""
}

// FindDefs finds the definitions in lines for the given language.
func FindDefs(lang string, lines []string) []Def {
	switch lang {
	case "go":
		if defs, ok := goDefs(lines); ok {
			return defs
		}
		return braceDefs(lines, goHeaders)
	case "python":
		return PythonDefs(lines)
	case "typescript":
		return braceDefs(lines, tsHeaders)
	}
	return nil
}

// RegionDefs finds the Go definitions in the lines of r and the comment
// lines right above it, with line numbers of the whole file; nil for other
// languages (a method there needs its class around it) or an unknown range.
// With the range known (from a language server or the editor), a 400 KB
// file need not be parsed again for one method.
func RegionDefs(lang string, lines []string, r codectx.Range) []Def {
	from, to := r.Start.Line, r.End.Line
	if lang != "go" || r == (codectx.Range{}) || from < 0 || to >= len(lines) || from > to {
		return nil
	}
	for from > 0 && strings.HasPrefix(strings.TrimSpace(lines[from-1]), "//") {
		from--
	}
	defs := FindDefs(lang, lines[from:to+1])
	for i := range defs {
		d := &defs[i]
		d.Attach += from
		d.DocFrom += from
		d.DocTo += from
		d.Start += from
		d.End += from
	}
	return defs
}

// goDefs parses lines with go/parser, as a file or as a fragment after a
// made-up package clause. It reports false when neither parses, so the
// caller can fall back to the tolerant brace scanner.
func goDefs(lines []string) ([]Def, bool) {
	src := strings.Join(lines, "\n") + "\n"
	fset := token.NewFileSet()
	shift := 0
	f, err := parser.ParseFile(fset, "a.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		fset = token.NewFileSet()
		shift = 1
		f, err = parser.ParseFile(fset, "a.go", "package p\n"+src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, false
		}
	}
	line := func(p token.Pos) int { return fset.Position(p).Line - 1 - shift }
	var defs []Def
	add := func(name, container, kind string, pos, end token.Pos, doc *ast.CommentGroup) {
		d := Def{Name: name, Container: container, Kind: kind, Start: line(pos), End: line(end), Complete: true}
		d.Attach, d.DocFrom, d.DocTo = d.Start, d.Start, d.Start
		if doc != nil {
			d.Attach, d.DocFrom = line(doc.Pos()), line(doc.Pos())
		}
		d.Indent = LeadingWS(lines[d.Start])
		if container != "" {
			d.Depth = 1
		}
		defs = append(defs, d)
	}
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			recv := ""
			kind := "func"
			if decl.Recv != nil && len(decl.Recv.List) > 0 {
				recv = receiverName(decl.Recv.List[0].Type)
				kind = "method"
			}
			add(decl.Name.Name, recv, kind, decl.Pos(), decl.End()-1, decl.Doc)
		case *ast.GenDecl:
			for _, spec := range decl.Specs {
				pos, end, doc := decl.Pos(), decl.End()-1, decl.Doc
				if decl.Lparen.IsValid() {
					pos, end = spec.Pos(), spec.End()-1
					doc = nil
				}
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					if decl.Lparen.IsValid() {
						doc = spec.Doc
					}
					add(spec.Name.Name, "", "type", pos, end, doc)
				case *ast.ValueSpec:
					if decl.Lparen.IsValid() {
						doc = spec.Doc
					}
					for _, n := range spec.Names {
						add(n.Name, "", "var", pos, end, doc)
					}
				}
			}
		}
	}
	return defs, true
}

// receiverName returns the base type name of a method receiver: "T" for
// T, *T, T[K] and *T[K].
func receiverName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

// LeadingWS returns the spaces and tabs s starts with.
func LeadingWS(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

// header recognises the first line of a definition in a brace language.
type header struct {
	re   *regexp.Regexp
	kind string
	// member headers only count directly inside a class body.
	member bool
}

const ident = `[\p{L}_$][\p{L}\p{N}_$]*`

var goHeaders = []header{
	{re: regexp.MustCompile(`^func\s+(?:\(\s*(?:\w+\s+)?\*?\s*(\w+)[^)]*\)\s*)?(\w+)\s*[\[(]`), kind: "func"},
	{re: regexp.MustCompile(`^type\s+()(\w+)\b`), kind: "type"},
}

var tsHeaders = []header{
	{re: regexp.MustCompile(`^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:async\s+)?function\s*\*?\s*()(` + ident + `)\s*[<(]`), kind: "func"},
	{re: regexp.MustCompile(`^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?class\s+()(` + ident + `)`), kind: "class"},
	{re: regexp.MustCompile(`^(?:export\s+)?(?:declare\s+)?interface\s+()(` + ident + `)`), kind: "type"},
	{re: regexp.MustCompile(`^(?:export\s+)?(?:declare\s+)?(?:const\s+)?enum\s+()(` + ident + `)`), kind: "type"},
	{re: regexp.MustCompile(`^(?:export\s+)?(?:declare\s+)?type\s+()(` + ident + `)\b[^=]*=`), kind: "type"},
	{re: regexp.MustCompile(`^(?:export\s+)?(?:const|let|var)\s+()(` + ident + `)\s*(?::[^=]*)?=`), kind: "var"},
	{re: regexp.MustCompile(`^(?:(?:public|private|protected|static|readonly|async|override|abstract|get|set|declare)\s+)*\*?()(#?` + ident + `)\s*(?:<[^>]*>)?\s*\(`), kind: "method", member: true},
	{re: regexp.MustCompile(`^(?:(?:public|private|protected|static|readonly|override|declare)\s+)*()(#?` + ident + `)\s*[?!]?\s*(?::[^=]*)?=`), kind: "method", member: true},
}

// standaloneMethod is a method header outside a class, as models return
// one method alone: a parameter list without string literals (so calls
// like describe("x", () => {) do not count) and an opening brace.
var standaloneMethod = regexp.MustCompile(`^(?:(?:public|private|protected|static|async|override|get|set)\s+)*\*?#?` + ident + `\s*(?:<[^>]*>)?\s*\([^)"'` + "`" + `]*\)\s*(?::\s*[^={]+)?\{\s*$`)

var notNames = map[string]bool{"if": true, "for": true, "while": true, "switch": true, "catch": true,
	"return": true, "function": true, "new": true, "super": true, "this": true, "await": true, "typeof": true}

// braceScan walks source text of a C-like language and records, for every
// line, the brace depth at its start and the positions where braces and
// statement ends occur, skipping strings and comments.
type braceEvent struct {
	line  int
	ch    byte // '{', '}', ';'
	depth int  // brace depth after the event
	paren int  // paren/bracket depth at the event
}

func braceScan(lines []string) (startDepth []int, events []braceEvent) {
	startDepth = make([]int, len(lines))
	var sc braceScanner
	for li, l := range lines {
		startDepth[li] = sc.depth
		for i := 0; i < len(l); i++ {
			i = sc.step(li, l, i)
		}
		if sc.quote == '"' || sc.quote == '\'' {
			sc.quote = 0 // these strings do not span lines
		}
	}
	return startDepth, sc.events
}

// braceScanner is braceScan's state between characters and lines.
type braceScanner struct {
	depth, paren int
	inBlock      bool
	quote        byte // the open string's quote, 0 outside strings
	events       []braceEvent
}

// step reads the character at l[i] (line li) and returns the index of the
// last character it consumed.
func (sc *braceScanner) step(li int, l string, i int) int {
	c := l[i]
	next := byte(0)
	if i+1 < len(l) {
		next = l[i+1]
	}
	switch {
	case sc.inBlock:
		if c == '*' && next == '/' {
			sc.inBlock = false
			i++
		}
	case sc.quote != 0:
		if c == '\\' {
			i++
		} else if c == sc.quote {
			sc.quote = 0
		}
	case c == '/' && next == '/':
		i = len(l)
	case c == '/' && next == '*':
		sc.inBlock = true
		i++
	case c == '"' || c == '\'' || c == '`':
		sc.quote = c
	default:
		sc.structure(li, c)
	}
	return i
}

// structure counts brackets and records braces and statement ends.
func (sc *braceScanner) structure(li int, c byte) {
	switch c {
	case '(', '[':
		sc.paren++
	case ')', ']':
		if sc.paren > 0 {
			sc.paren--
		}
	case '{':
		sc.depth++
		sc.events = append(sc.events, braceEvent{li, c, sc.depth, sc.paren})
	case '}':
		if sc.depth > 0 {
			sc.depth--
		}
		sc.events = append(sc.events, braceEvent{li, c, sc.depth, sc.paren})
	case ';':
		sc.events = append(sc.events, braceEvent{li, c, sc.depth, sc.paren})
	}
}

// braceDefs finds definitions in a brace language with header regexps and
// brace matching. It tolerates prose around the code.
func braceDefs(lines []string, headers []header) []Def {
	startDepth, events := braceScan(lines)
	var defs []Def
	for li, l := range lines {
		trimmed := strings.TrimSpace(l)
		for _, h := range headers {
			m := h.re.FindStringSubmatch(trimmed)
			if m == nil || notNames[m[2]] {
				continue
			}
			d := Def{Name: m[2], Container: m[1], Kind: h.kind, Start: li, Indent: LeadingWS(l), Depth: startDepth[li]}
			if d.Container != "" {
				d.Kind = "method"
			}
			if h.member {
				// A member must sit directly inside a class body, or be a
				// method returned on its own ("total(): number {").
				cls := enclosingClass(defs, li, startDepth[li])
				switch {
				case cls != nil:
					d.Container = cls.Name
				case startDepth[li] == 0 && standaloneMethod.MatchString(trimmed):
				default:
					continue
				}
			} else if startDepth[li] > 0 && h.kind != "class" {
				// Nested functions and variables are not symbols we edit.
				if enclosingClass(defs, li, startDepth[li]) == nil || h.kind == "var" {
					continue
				}
			}
			d.End, d.Complete = braceEnd(lines, events, li, startDepth[li])
			d.Attach, d.DocFrom, d.DocTo = Attachments(lines, li, false)
			defs = append(defs, d)
			break
		}
	}
	return defs
}

func enclosingClass(defs []Def, line, depth int) *Def {
	for i := len(defs) - 1; i >= 0; i-- {
		d := &defs[i]
		if d.Kind == "class" && d.Start < line && line <= d.End && d.Depth == depth-1 {
			return d
		}
	}
	return nil
}

// braceEnd finds the last line of the definition whose header is on line
// li at the given depth: the line where its body's closing brace brings
// the depth back, or a statement end (';') before any body opens.
func braceEnd(lines []string, events []braceEvent, li, depth int) (int, bool) {
	opened := false
	for _, e := range events {
		if e.line < li {
			continue
		}
		switch {
		case e.ch == '{' && e.depth == depth+1:
			opened = true
		case e.ch == '}' && e.depth == depth && opened:
			return e.line, true
		case e.ch == '}' && e.depth < depth:
			// The enclosing block closed first: an expression-bodied
			// member without a semicolon.
			return max(li, e.line-1), true
		case e.ch == ';' && e.depth == depth && !opened && e.paren == 0:
			return e.line, true
		}
	}
	if !opened {
		// A one-line declaration without a terminating semicolon (an
		// arrow function with an expression body, a type alias).
		return li, true
	}
	return len(lines) - 1, false
}

// Attachments walks up from a header line over decorators and comment
// lines (brace languages: //, /* */, JSDoc; Python: #) and returns the
// first attached line and the doc comment span [docFrom, docTo). The doc
// comment is the run of comment lines at the top of the attachments (a
// JSDoc goes above decorators) or, when decorators come first, the run
// just above the header.
func Attachments(lines []string, header int, python bool) (attach, docFrom, docTo int) {
	isComment := make(map[int]bool)
	attach = header
	inBlock := false
	for i := header - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		comment := false
		switch {
		case inBlock:
			comment = true
			if strings.HasPrefix(t, "/*") {
				inBlock = false
			}
		case t == "":
		case !python && strings.HasSuffix(t, "*/"):
			comment = true
			inBlock = !strings.HasPrefix(t, "/*")
		case !python && strings.HasPrefix(t, "//"), python && strings.HasPrefix(t, "#"):
			comment = true
		case strings.HasPrefix(t, "@"):
		default:
			t = ""
		}
		if t == "" {
			break
		}
		isComment[i] = comment
		attach = i
	}
	if inBlock {
		// A comment whose opening never came: not ours.
		return header, header, header
	}
	docFrom, docTo = header, header
	if isComment[attach] {
		docFrom, docTo = attach, attach
		for docTo < header && isComment[docTo] {
			docTo++
		}
	} else if header > attach && isComment[header-1] {
		docFrom, docTo = header, header
		for docFrom > attach && isComment[docFrom-1] {
			docFrom--
		}
	}
	return attach, docFrom, docTo
}
