package edits

import (
	"path/filepath"
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/syntax"
)

// insertDoc implements the document action: put the answer's doc comment
// above the symbol (a docstring as the first statement of the body in
// Python), replacing the existing one.
func insertDoc(text string, file File, lang string, sym codectx.Symbol) ([]TextEdit, error) {
	name := displayName(sym)
	wantName, container := target(sym)
	lines := splitLines(file.Text)
	orig := locate(lines, syntax.RegionDefs(lang, lines, sym.Range), sym) // the symbol's lines only, when its range is known
	if orig == nil {
		orig = locate(lines, syntax.FindDefs(lang, lines), sym)
	}
	if orig == nil {
		return nil, refuse(ReasonNoSymbol, name, "cannot find %s in %s; nothing was changed", name, filepath.Base(file.Path))
	}
	doc := extractDoc(text, lang, wantName, container)
	if len(doc) == 0 {
		return nil, refuse(ReasonNoDoc, name, "the answer has no doc comment for %s; nothing was changed", name)
	}
	toStyle, ok := detectIndent(lines)
	if !ok {
		toStyle = indentStyle{tabs: lang == "go", unit: 4}
	}
	nl := eol(file.Text)
	if lang == "python" {
		return pyInsertDoc(lines, orig, doc, toStyle, nl, file.Text, name)
	}
	// Comment lines keep their relative indentation (the " *" of a JSDoc).
	doc = dedent(doc)
	for i, l := range doc {
		doc[i] = orig.Indent + l
	}
	if orig.DocFrom < orig.DocTo {
		if sameCode(lines[orig.DocFrom:orig.DocTo], doc) {
			return nil, refuse(ReasonUnchanged, name, "the answer's doc comment for %s is the one it already has; nothing was changed", name)
		}
		return []TextEdit{lineEdit(lines, orig.DocFrom, orig.DocTo, doc, nl, file.Text)}, nil
	}
	return []TextEdit{lineEdit(lines, orig.Attach, orig.Attach, doc, nl, file.Text)}, nil
}

// pyInsertDoc places a docstring as the first statement of a Python
// function or class body.
func pyInsertDoc(lines []string, orig *syntax.Def, doc []string, style indentStyle, nl, text, name string) ([]TextEdit, error) {
	info := syntax.ScanPython(lines)
	hdrEnd := info[orig.Start].Last
	if orig.End == hdrEnd {
		return nil, refuse(ReasonUnsupported, name, "%s has its body on the header line; a docstring needs a body block, so nothing was changed", name)
	}
	// The body's indentation: its first statement's.
	bodyWS := ""
	for li := hdrEnd + 1; li <= orig.End; li++ {
		if info[li].Logical && !info[li].Blank {
			bodyWS = syntax.LeadingWS(lines[li])
			break
		}
	}
	if bodyWS == "" {
		lv, rest := style.level(orig.Indent)
		bodyWS = style.render(lv+1, rest)
	}
	// Content lines keep their indentation relative to the opening quotes.
	base := syntax.LeadingWS(doc[0])
	for i, l := range doc {
		switch {
		case strings.TrimSpace(l) == "":
			doc[i] = ""
		case strings.HasPrefix(l, base):
			doc[i] = bodyWS + strings.TrimPrefix(l, base)
		default:
			doc[i] = bodyWS + strings.TrimLeft(l, " \t")
		}
	}
	if from, to, ok := syntax.PyDocstring(lines, *orig); ok {
		if sameCode(lines[from:to+1], doc) {
			return nil, refuse(ReasonUnchanged, name, "the answer's docstring for %s is the one it already has; nothing was changed", name)
		}
		return []TextEdit{lineEdit(lines, from, to+1, doc, nl, text)}, nil
	}
	return []TextEdit{lineEdit(lines, hdrEnd+1, hdrEnd+1, doc, nl, text)}, nil
}

// extractDoc finds the doc comment in an answer: the doc of a returned
// definition of the symbol, a block made only of comment lines (or, in
// Python, of a string literal), or a short prose answer, which is turned
// into a comment.
func extractDoc(text, lang, name, container string) []string {
	blocks := candidateBlocks(text)
	for _, b := range blocks {
		if b.fenced && !isCodeLang(b.lang, lang) {
			continue
		}
		if d := matchDef(syntax.FindDefs(lang, b.lines), name, container); d != nil {
			if lang == "python" {
				if from, to, ok := syntax.PyDocstring(b.lines, *d); ok {
					return append([]string(nil), b.lines[from:to+1]...)
				}
				continue
			}
			if d.DocFrom < d.DocTo {
				return append([]string(nil), b.lines[d.DocFrom:d.DocTo]...)
			}
			continue
		}
		if doc := commentRun(b.lines, lang, b.fenced); doc != nil {
			return doc
		}
	}
	// Prose without any fence: a short plain-text answer is the doc.
	if len(blocks) == 1 && !blocks[0].fenced {
		return proseDoc(blocks[0].lines, lang)
	}
	return nil
}

// commentRun returns the first run of comment lines (Go/TS) or the first
// string literal (Python). In a fenced block nothing else may be there
// but blank lines; in a bare answer prose may surround the run.
func commentRun(lines []string, lang string, fenced bool) []string {
	if lang == "python" {
		return pyStringRun(lines, fenced)
	}
	from, to := -1, -1
	inBlock := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		isComment := inBlock || strings.HasPrefix(t, "//") || strings.HasPrefix(t, "/*")
		if strings.HasPrefix(t, "/*") {
			inBlock = true
		}
		if inBlock && strings.Contains(t, "*/") {
			inBlock = false
		}
		if isComment {
			if from < 0 {
				from = i
			}
			to = i + 1
			continue
		}
		if from >= 0 {
			break // the run ended
		}
		if t != "" && fenced {
			return nil // code before any comment: not a doc-only block
		}
	}
	if from < 0 || fenced && len(trimBlankEdges(lines[to:])) > 0 {
		return nil
	}
	return append([]string(nil), lines[from:to]...)
}

// pyStringRun returns the first string literal of Python lines; in a
// fenced block it must come before any other code.
func pyStringRun(lines []string, fenced bool) []string {
	info := syntax.ScanPython(lines)
	for li, l := range lines {
		t := strings.TrimLeft(strings.TrimSpace(l), "rRuU")
		if !info[li].Logical || info[li].Blank {
			continue
		}
		if strings.HasPrefix(t, `"""`) || strings.HasPrefix(t, `'''`) {
			return append([]string(nil), lines[li:info[li].Last+1]...)
		}
		if fenced {
			return nil
		}
	}
	return nil
}

// proseDoc turns a short prose answer into a doc comment in the language's
// syntax. Long answers or ones that look like code are not guessed at.
func proseDoc(lines []string, lang string) []string {
	lines = trimBlankEdges(lines)
	if len(lines) > 1 && strings.HasSuffix(strings.TrimSpace(lines[0]), ":") {
		lines = trimBlankEdges(lines[1:]) // "Here is the doc comment:"
	}
	if len(lines) == 0 || len(lines) > 12 {
		return nil
	}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.ContainsAny(t, "{};") || strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "func ") || strings.HasPrefix(t, "function ") {
			return nil
		}
	}
	var out []string
	switch lang {
	case "go":
		for _, l := range lines {
			out = append(out, strings.TrimRight("// "+strings.TrimSpace(l), " "))
		}
	case "typescript":
		out = append(out, "/**")
		for _, l := range lines {
			out = append(out, strings.TrimRight(" * "+strings.TrimSpace(l), " "))
		}
		out = append(out, " */")
	case "python":
		if len(lines) == 1 {
			return []string{`"""` + strings.TrimSpace(lines[0]) + `"""`}
		}
		out = append(out, `"""`+strings.TrimSpace(lines[0]))
		for _, l := range lines[1:] {
			out = append(out, strings.TrimSpace(l))
		}
		out = append(out, `"""`)
	}
	return out
}
