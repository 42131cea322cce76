package edits

import (
	"go/parser"
	"go/scanner"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
)

var (
	goTestRe = regexp.MustCompile(`(?m)^func\s+(Test|Benchmark|Example|Fuzz)\w*\s*\(`)
	pyTestRe = regexp.MustCompile(`(?m)^\s*(async\s+)?def\s+test_\w*\s*\(|^class\s+Test\w*`)
	tsTestRe = regexp.MustCompile(`(?m)^\s*(describe|test|it)\s*\(`)
	goImport = regexp.MustCompile(`^\s*(?:\w+\s+)?"[^"]+"\s*$`)
)

// appendTests implements the tests action: the answer's block of tests is
// appended to file, the test file (which may be new and empty). For Go, a
// package clause is dropped when the file has one, and imports the file
// already has are dropped; new imports are added to the file's import
// declaration.
func appendTests(text string, file File, lang string) ([]TextEdit, error) {
	re, ok := testPatterns[lang]
	if !ok {
		return nil, refuse(ReasonUnsupported, "", "cannot recognise tests in %s (language %q is not supported)", filepath.Base(file.Path), file.Language)
	}
	code, err := testBlock(text, lang, re)
	if err != nil {
		return nil, err
	}
	nl := eol(file.Text)
	lines := splitLines(file.Text)
	if strings.TrimSpace(file.Text) == "" {
		return newTestFile(code, file, lang, lines, nl)
	}
	var edits []TextEdit
	if lang == "go" {
		var imports []string
		code, imports = splitGoHeader(code)
		imports = append(imports, usedStdImports(code, imports)...)
		if missing := missingImports(lines, imports); len(missing) > 0 {
			e, err := addGoImports(lines, missing, nl, file.Text)
			if err != nil {
				return nil, err
			}
			edits = append(edits, e)
		}
	} else {
		code = dropKnownImports(code, lines)
	}
	code = trimBlankEdges(code)
	end := positionOf(file.Text, lineStarts(file.Text), len(file.Text))
	edits = append(edits, TextEdit{Range: codectx.Range{Start: end, End: end}, NewText: testSeparator(file.Text, lines, lang, nl) + strings.Join(code, nl) + nl})
	return edits, checkGo(lang, file, edits)
}

// testPatterns recognise a block of tests per language.
var testPatterns = map[string]*regexp.Regexp{"go": goTestRe, "python": pyTestRe, "typescript": tsTestRe, "javascript": tsTestRe}

// testBlock is the lines of the answer's first code block that holds tests.
func testBlock(text, lang string, re *regexp.Regexp) ([]string, error) {
	for _, b := range candidateBlocks(text) {
		if b.fenced && !isCodeLang(b.lang, lang) {
			continue
		}
		if !re.MatchString(strings.Join(b.lines, "\n")) {
			continue
		}
		if !b.closed {
			return nil, refuse(ReasonIncomplete, "", "the answer's tests are incomplete (the answer was probably cut off); nothing was changed")
		}
		if !b.fenced {
			return nil, refuse(ReasonNoCode, "", "the answer has tests but no code block to take them from; ask again for one fenced block")
		}
		return b.lines, nil
	}
	return nil, refuse(ReasonNoCode, "", "the answer has no code block with tests; nothing was changed")
}

// newTestFile fills an empty test file: with a package clause in Go, with
// the import of the code under test in TypeScript and JavaScript.
func newTestFile(code []string, file File, lang string, lines []string, nl string) ([]TextEdit, error) {
	switch lang {
	case "go":
		var err error
		if code, err = newGoTestFile(code, file.Package); err != nil {
			return nil, err
		}
	case "typescript", "javascript":
		code = withModuleImport(code, file.Import)
	}
	edits := []TextEdit{{Range: codectx.Range{End: codectx.Position{Line: lineCount(file.Text) - 1,
		Character: utf16Len(lines[len(lines)-1])}}, NewText: strings.Join(code, nl) + nl}}
	return edits, checkGo(lang, file, edits)
}

// dropKnownImports drops the import lines the file already has: they
// would be duplicates.
func dropKnownImports(code, lines []string) []string {
	have := map[string]bool{}
	for _, l := range lines {
		have[strings.TrimSpace(l)] = true
	}
	var kept []string
	for _, l := range code {
		t := strings.TrimSpace(l)
		if (strings.HasPrefix(t, "import ") || strings.HasPrefix(t, "from ")) && have[t] {
			continue
		}
		kept = append(kept, l)
	}
	return kept
}

// testSeparator goes between the file's text and the tests: one blank
// line, two in Python (PEP 8), counting the blank lines already there.
func testSeparator(text string, lines []string, lang, nl string) string {
	blank := 1
	if lang == "python" {
		blank = 2
	}
	sep := ""
	if !strings.HasSuffix(text, "\n") {
		sep = nl
	}
	trailing := 0
	for k := len(lines) - 1; k >= 0 && strings.TrimSpace(lines[k]) == ""; k-- {
		trailing++
	}
	for ; trailing < blank; trailing++ {
		sep += nl
	}
	return sep
}

// moduleRe finds the module specifier of an import or require statement.
var moduleRe = regexp.MustCompile(`(?:from\s*|require\s*\(\s*|^\s*import\s*)["']([^"']+)["']`)

// withModuleImport puts stmt (importing the code under test) at the top
// of a new TypeScript/JavaScript test file, after any imports the answer
// has, unless the answer already imports from the same module.
func withModuleImport(code []string, stmt string) []string {
	m := moduleRe.FindStringSubmatch(stmt)
	if stmt == "" || m == nil {
		return code
	}
	module := strings.TrimSuffix(m[1], filepath.Ext(m[1]))
	last := -1
	for i, l := range code {
		for _, mm := range moduleRe.FindAllStringSubmatch(l, -1) {
			if strings.TrimSuffix(mm[1], filepath.Ext(mm[1])) == module {
				return code
			}
			last = i
		}
	}
	out := append([]string(nil), code[:last+1]...)
	out = append(out, stmt)
	if last < 0 {
		out = append(out, "")
	}
	return append(out, code[last+1:]...)
}

// newGoTestFile gives the answer's tests the header a Go test file needs:
// the package clause of the code under test (or the model's own
// "<pkg>_test" external-test clause), then the imports the answer declared
// plus the standard packages its code uses without importing them.
func newGoTestFile(code []string, pkg string) ([]string, error) {
	declared := ""
	for _, l := range code {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "package ") {
			declared = strings.TrimSpace(strings.TrimPrefix(t, "package "))
			break
		}
	}
	switch {
	case pkg == "":
		pkg = declared
	case declared == pkg+"_test":
		pkg = declared
	}
	if pkg == "" {
		return nil, refuse(ReasonNoCode, "", "the answer's tests have no package clause and the package under test is unknown; nothing was changed")
	}
	body, imports := splitGoHeader(code)
	imports = append(imports, usedStdImports(body, imports)...)
	imports = dedupe(imports)
	sort.SliceStable(imports, func(a, b int) bool { return importPath(imports[a]) < importPath(imports[b]) })
	out := []string{"package " + pkg, ""}
	switch len(imports) {
	case 0:
	case 1:
		out = append(out, "import "+imports[0], "")
	default:
		out = append(out, "import (")
		for _, im := range imports {
			out = append(out, "\t"+im)
		}
		out = append(out, ")", "")
	}
	return append(out, trimBlankEdges(body)...), nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// stdPackages are the standard packages tests commonly use, by the name
// code refers to them with.
var stdPackages = map[string]string{
	"testing": "testing", "fmt": "fmt", "strings": "strings", "bytes": "bytes", "errors": "errors",
	"reflect": "reflect", "os": "os", "io": "io", "time": "time", "context": "context", "sort": "sort",
	"slices": "slices", "maps": "maps", "strconv": "strconv", "math": "math", "regexp": "regexp",
	"sync": "sync", "filepath": "path/filepath", "httptest": "net/http/httptest", "http": "net/http",
	"json": "encoding/json", "utf8": "unicode/utf8",
}

// usedStdImports returns import specs for standard packages the code
// refers to (name.Ident, outside strings and comments) but does not import.
func usedStdImports(code, imports []string) []string {
	have := map[string]bool{}
	for _, im := range imports {
		p := strings.Trim(importPath(im), `"`)
		have[p] = true
		if f := strings.Fields(im); len(f) == 2 {
			have[f[0]] = true // an aliased import claims its name
		}
		have[p[strings.LastIndex(p, "/")+1:]] = true
	}
	src := []byte(strings.Join(code, "\n"))
	fset := token.NewFileSet()
	var sc scanner.Scanner
	sc.Init(fset.AddFile("", fset.Base(), len(src)), src, nil, 0)
	var out []string
	// The last three tokens: a package reference is name "." Ident where
	// name is not itself a selector (x.time.Now is a field).
	var prev [3]string
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		cur := lit
		if tok == token.PERIOD {
			cur = "."
		} else if tok != token.IDENT {
			cur = ""
		}
		if tok == token.IDENT && prev[2] == "." && prev[1] != "" && prev[0] != "." {
			name := prev[1]
			if path, ok := stdPackages[name]; ok && !have[name] && !have[path] {
				have[name], have[path] = true, true
				out = append(out, strconv.Quote(path))
			}
		}
		prev[0], prev[1], prev[2] = prev[1], prev[2], cur
	}
	return out
}

// checkGo refuses Go tests whose resulting file does not parse: a test
// file the compiler rejects is worse than the answer alone.
func checkGo(lang string, file File, edits []TextEdit) error {
	if lang != "go" {
		return nil
	}
	text, err := Apply(file.Text, edits)
	if err != nil {
		return err
	}
	if _, err := parser.ParseFile(token.NewFileSet(), filepath.Base(file.Path), text, parser.SkipObjectResolution); err != nil {
		return refuse(ReasonIncomplete, "", "the tests would not parse as Go (%s); nothing was changed", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// splitGoHeader removes the package clause and import declarations from
// Go code and returns the import specs.
func splitGoHeader(code []string) ([]string, []string) {
	var out, imports []string
	inImport := false
	for _, l := range code {
		t := strings.TrimSpace(l)
		switch {
		case inImport:
			if t == ")" {
				inImport = false
			} else if t != "" {
				imports = append(imports, t)
			}
		case strings.HasPrefix(t, "package "):
		case t == "import (":
			inImport = true
		case strings.HasPrefix(t, "import "):
			imports = append(imports, strings.TrimSpace(strings.TrimPrefix(t, "import ")))
		default:
			out = append(out, l)
		}
	}
	return out, imports
}

func missingImports(lines, imports []string) []string {
	if len(imports) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, l := range lines {
		if isTopLevelDecl(l) {
			break // imports come before every declaration: the rest of a large file is not read
		}
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "import "))
		if goImport.MatchString(t) {
			have[t] = true
		}
	}
	var missing []string
	for _, im := range imports {
		if goImport.MatchString(im) && !have[im] {
			missing = append(missing, im)
		}
	}
	return missing
}

// isTopLevelDecl reports whether l starts a Go declaration other than an
// import, at the start of the line.
func isTopLevelDecl(l string) bool {
	for _, kw := range [...]string{"func ", "func(", "type ", "var ", "const "} {
		if strings.HasPrefix(l, kw) {
			return true
		}
	}
	return false
}

// addGoImports adds import specs to the file's import declaration, or a
// new declaration after the package clause.
func addGoImports(lines, specs []string, nl, text string) (TextEdit, error) {
	for i, l := range lines {
		if strings.TrimSpace(l) != "import (" {
			continue
		}
		// Keep gofmt's order: each spec goes before the first spec of
		// the first group that sorts after it.
		j := i + 1
		var group []string
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != ")" && strings.TrimSpace(lines[j]) != ""; j++ {
			group = append(group, lines[j])
		}
		for _, s := range specs {
			group = append(group, "\t"+s)
		}
		sort.SliceStable(group, func(a, b int) bool { return importPath(group[a]) < importPath(group[b]) })
		return lineEdit(lines, i+1, j, group, nl, text), nil
	}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "import ") {
			spec := strings.TrimSpace(strings.TrimPrefix(t, "import "))
			group := []string{"\t" + spec}
			for _, s := range specs {
				group = append(group, "\t"+s)
			}
			sort.SliceStable(group, func(a, b int) bool { return importPath(group[a]) < importPath(group[b]) })
			block := append(append([]string{"import ("}, group...), ")")
			return lineEdit(lines, i, i+1, block, nl, text), nil
		}
	}
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "package ") {
			block := []string{"", "import ("}
			for _, s := range specs {
				block = append(block, "\t"+s)
			}
			block = append(block, ")")
			return lineEdit(lines, i+1, i+1, block, nl, text), nil
		}
	}
	return TextEdit{}, refuse(ReasonNoCode, "", "the test file has no package clause to add imports after; nothing was changed")
}

// importPath returns the quoted path of an import spec line.
func importPath(spec string) string {
	if i := strings.IndexByte(spec, '"'); i >= 0 {
		return spec[i:]
	}
	return spec
}
