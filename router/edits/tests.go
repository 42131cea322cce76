package edits

import (
	"path/filepath"
	"regexp"
	"sort"
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
	var re *regexp.Regexp
	switch lang {
	case "go":
		re = goTestRe
	case "python":
		re = pyTestRe
	case "typescript":
		re = tsTestRe
	default:
		return nil, refuse(ReasonUnsupported, "", "cannot recognise tests in %s (language %q is not supported)", filepath.Base(file.Path), file.Language)
	}
	var code []string
	for _, b := range candidateBlocks(text) {
		if b.fenced && !isCodeLang(b.lang, lang) {
			continue
		}
		if re.MatchString(strings.Join(b.lines, "\n")) {
			if !b.closed {
				return nil, refuse(ReasonIncomplete, "", "the answer's tests are incomplete (the answer was probably cut off); nothing was changed")
			}
			if !b.fenced {
				return nil, refuse(ReasonNoCode, "", "the answer has tests but no code block to take them from; ask again for one fenced block")
			}
			code = b.lines
			break
		}
	}
	if code == nil {
		return nil, refuse(ReasonNoCode, "", "the answer has no code block with tests; nothing was changed")
	}
	nl := eol(file.Text)
	lines := splitLines(file.Text)
	if strings.TrimSpace(file.Text) == "" {
		return []TextEdit{{Range: codectx.Range{End: codectx.Position{Line: len(lineStarts(file.Text)) - 1,
			Character: utf16Len(lines[len(lines)-1])}}, NewText: strings.Join(code, nl) + nl}}, nil
	}
	var edits []TextEdit
	if lang == "go" {
		var imports []string
		code, imports = splitGoHeader(code)
		if missing := missingImports(lines, imports); len(missing) > 0 {
			e, err := addGoImports(lines, missing, nl, file.Text)
			if err != nil {
				return nil, err
			}
			edits = append(edits, e)
		}
	} else {
		// Imports the file already has would be duplicates.
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
		code = kept
	}
	code = trimBlankEdges(code)
	// One blank line before the tests, two in Python (PEP 8).
	blank := 1
	if lang == "python" {
		blank = 2
	}
	sep := ""
	if !strings.HasSuffix(file.Text, "\n") {
		sep = nl
	}
	trailing := 0
	for k := len(lines) - 1; k >= 0 && strings.TrimSpace(lines[k]) == ""; k-- {
		trailing++
	}
	for ; trailing < blank; trailing++ {
		sep += nl
	}
	end := positionOf(file.Text, lineStarts(file.Text), len(file.Text))
	edits = append(edits, TextEdit{Range: codectx.Range{Start: end, End: end}, NewText: sep + strings.Join(code, nl) + nl})
	return edits, nil
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
	have := map[string]bool{}
	for _, l := range lines {
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
