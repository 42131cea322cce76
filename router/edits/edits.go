// Package edits turns the answers of local LLMs into text edits the editor
// can trust: it finds the code in the answer (fenced or not, among prose,
// reasoning, several blocks, nested or unterminated fences, a whole file,
// SEARCH/REPLACE blocks or unified diffs), extracts the definition of the
// symbol the request was about, re-indents it to the original and keeps
// the file's line endings. When the answer cannot be turned into a safe
// edit it returns a *RefusalError saying why, and no edit.
package edits

import (
	"path/filepath"
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/syntax"
)

// File is the document an edit applies to.
type File struct {
	// Path is the file's path; its extension decides the language when
	// Language is empty.
	Path string
	// Text is the document's current content, as the editor has it.
	Text string
	// Language is the LSP language id ("go", "python", "typescript", ...).
	Language string
	// Package is, for the tests action in Go, the package of the code
	// under test: a new test file starts with its package clause.
	Package string
	// Import is, for the tests action in TypeScript/JavaScript, the
	// statement that imports the code under test into a new test file
	// (`import { f } from "./f";`); it is added unless the answer's code
	// already imports from that module.
	Import string
}

// Actions whose answers become edits.
const (
	ActionRefactor = "refactor"
	ActionFix      = "fix"
	ActionDocument = "document"
	ActionTests    = "tests"
	ActionAsk      = "ask"
)

// FromAnswer turns the model's answer to an action on sym into edits of
// file. refactor and fix replace the symbol (or apply the answer's
// SEARCH/REPLACE blocks or unified diff), document inserts or replaces the
// symbol's doc comment (a docstring in Python), tests appends the answer's
// tests to file (the test file), and ask applies SEARCH/REPLACE blocks or a
// diff when the answer has them (the lead shows the prose either way). sym may carry only a Name/NamePath: the
// symbol is then located in file.Text. On failure the error is a
// *RefusalError and no edit is returned.
func FromAnswer(action, answer string, file File, sym codectx.Symbol) ([]TextEdit, error) {
	name := displayName(sym)
	text, onlyReasoning := stripReasoning(answer)
	if strings.TrimSpace(answer) == "" {
		return nil, refuse(ReasonEmptyAnswer, name, "the model returned an empty answer; nothing was changed")
	}
	if onlyReasoning {
		return nil, refuse(ReasonOnlyReasoning, name, "the answer holds only the model's reasoning (<think>) and no result; nothing was changed")
	}
	lang := syntax.Language(file.Language, file.Path)
	if sym.Range != (codectx.Range{}) {
		_, err1 := offsetOf(file.Text, sym.Range.Start)
		_, err2 := offsetOf(file.Text, sym.Range.End)
		if err1 != nil || err2 != nil || sym.Range.End.Line < sym.Range.Start.Line {
			return nil, refuse(ReasonStaleRange, name, "the range of %s (%d:%d-%d:%d) does not fit the current text of %s, which has changed; nothing was changed, retry the request",
				name, sym.Range.Start.Line, sym.Range.Start.Character, sym.Range.End.Line, sym.Range.End.Character, filepath.Base(file.Path))
		}
	}
	switch action {
	case ActionRefactor, ActionFix:
		if edits, ok, err := patchEdits(text, file, sym); ok {
			return edits, err
		}
		if lang == "" {
			return nil, refuse(ReasonUnsupported, name, "cannot find definitions in %s (language %q is not supported); ask for SEARCH/REPLACE blocks instead", filepath.Base(file.Path), file.Language)
		}
		return replaceSymbol(text, file, lang, sym)
	case ActionDocument:
		if lang == "" {
			return nil, refuse(ReasonUnsupported, name, "cannot place a doc comment in %s (language %q is not supported)", filepath.Base(file.Path), file.Language)
		}
		return insertDoc(text, file, lang, sym)
	case ActionTests:
		return appendTests(text, file, lang)
	case ActionAsk:
		// An answer to a free question may propose changes as
		// SEARCH/REPLACE blocks (the ask template asks for them).
		if edits, ok, err := patchEdits(text, file, sym); ok {
			return edits, err
		}
		return nil, refuse(ReasonNotEditAction, name, "the answer proposes no SEARCH/REPLACE change to %s", filepath.Base(file.Path))
	default:
		return nil, refuse(ReasonNotEditAction, name, "the %q action answers in prose and produces no edit", action)
	}
}

// displayName is the symbol's name as users know it.
func displayName(sym codectx.Symbol) string {
	if sym.Name != "" {
		return sym.Name
	}
	if i := strings.LastIndex(sym.NamePath, "/"); i >= 0 {
		return sym.NamePath[i+1:]
	}
	return sym.NamePath
}

// target is the name and container to look for. Go symbol names from
// gopls look like "(*UserService).CreateUser"; name paths like
// "UserService/CreateUser".
func target(sym codectx.Symbol) (name, container string) {
	name = sym.Name
	parts := strings.Split(strings.Trim(sym.NamePath, "/"), "/")
	if name == "" {
		name = parts[len(parts)-1]
	}
	if len(parts) >= 2 {
		container = parts[len(parts)-2]
	}
	if i := strings.LastIndex(name, ")."); i >= 0 {
		container = name[:i]
		name = name[i+2:]
	} else if i := strings.LastIndex(name, "."); i > 0 && container == "" {
		container, name = name[:i], name[i+1:]
	}
	container = strings.Trim(container, "(*)")
	if i := strings.IndexAny(container, "[("); i >= 0 {
		container = container[:i]
	}
	// Strip a Python/TS signature some servers append ("create(self)").
	if i := strings.IndexByte(name, '('); i > 0 {
		name = name[:i]
	}
	return name, container
}

// matchDef picks the definition of name in defs: same container first,
// then a top-level one (a method returned without its class, which local
// models often do), then any if unique.
func matchDef(defs []syntax.Def, name, container string) *syntax.Def {
	var sameName []*syntax.Def
	for i := range defs {
		if defs[i].Name == name {
			sameName = append(sameName, &defs[i])
		}
	}
	for _, d := range sameName {
		if d.Container == container {
			return d
		}
	}
	if container != "" {
		for _, d := range sameName {
			if d.Container == "" {
				return d
			}
		}
	}
	if len(sameName) == 1 {
		return sameName[0]
	}
	return nil
}

// locate finds the symbol in the file: the definition whose header lies in
// sym.Range when a range is given, else by name.
func locate(lines []string, defs []syntax.Def, sym codectx.Symbol) *syntax.Def {
	name, container := target(sym)
	if sym.Range != (codectx.Range{}) {
		var best *syntax.Def
		for i := range defs {
			d := &defs[i]
			if d.Start >= sym.Range.Start.Line && d.Start <= sym.Range.End.Line {
				if d.Name == name {
					return d
				}
				if best == nil {
					best = d
				}
			}
		}
		if best != nil && name == "" {
			return best
		}
	}
	return matchDef(defs, name, container)
}

// regionLines returns the file's lines up to the last line of r (all of
// them when r is unknown) and a function returning every line. With the
// range known, an answer needs the lines after the symbol only to check new
// helpers, placeholders and imports against the whole file, so the rest of
// a large file is not split for nothing. A text with carriage returns is
// split whole: splitLines counts a lone CR as a line break, lineStart not.
func regionLines(text string, r codectx.Range) (lines []string, all func() []string) {
	var full []string
	all = func() []string {
		if full == nil {
			full = splitLines(text)
		}
		return full
	}
	if r == (codectx.Range{}) || strings.IndexByte(text, '\r') >= 0 {
		return all(), all
	}
	end := lineStart(text, r.End.Line+1)
	if end < 0 || end >= len(text) {
		return all(), all
	}
	// text[:end] ends with the line break after line r.End.Line, which
	// splitLines drops: lines 0..r.End.Line, as in the whole split.
	return splitLines(text[:end]), all
}

// symbolRange returns the range to replace: sym.Range when known, else the
// located definition's, in the form an LSP server reports it (from the
// header's first non-blank character to the end of its last line).
func symbolRange(lines []string, d *syntax.Def, sym codectx.Symbol) codectx.Range {
	if sym.Range != (codectx.Range{}) {
		return sym.Range
	}
	return codectx.Range{
		Start: codectx.Position{Line: d.Start, Character: utf16Len(d.Indent)},
		End:   codectx.Position{Line: d.End, Character: utf16Len(lines[d.End])},
	}
}

// isCodeLang reports whether a fence's info string could hold code of the
// given language; blocks announced as another language are skipped.
func isCodeLang(tag, lang string) bool {
	switch tag {
	case "", "text", "plaintext", "code":
		return true
	case "go", "golang":
		return lang == "go"
	case "python", "py", "python3":
		return lang == "python"
	case "typescript", "ts", "tsx", "javascript", "js", "jsx", "typescriptreact", "javascriptreact":
		return lang == "typescript"
	case "markdown", "md":
		return true
	}
	return false
}

// sameCode reports whether two snippets differ only in whitespace.
func sameCode(a, b []string) bool {
	norm := func(ls []string) string {
		var sb strings.Builder
		for _, l := range ls {
			sb.WriteString(strings.Join(strings.Fields(l), " "))
			sb.WriteByte('\n')
		}
		return strings.TrimSpace(sb.String())
	}
	return norm(a) == norm(b)
}

// replaceSymbol implements refactor and fix: replace the symbol with its
// new definition from the answer.
func replaceSymbol(text string, file File, lang string, sym codectx.Symbol) ([]TextEdit, error) {
	name := displayName(sym)
	wantName, container := target(sym)
	lines, all := regionLines(file.Text, sym.Range)
	// With the range known (from a language server or the editor), parse
	// only the symbol's own lines: a 400 KB file need not be parsed again
	// for one method. The whole file is parsed only when that fails, or
	// when the answer brings new definitions to check against it.
	var origDefs []syntax.Def
	whole := func() []syntax.Def {
		if origDefs == nil {
			origDefs = syntax.FindDefs(lang, all())
		}
		return origDefs
	}
	orig := locate(lines, syntax.RegionDefs(lang, lines, sym.Range), sym)
	if orig == nil {
		orig = locate(lines, whole(), sym)
	}
	if orig != nil && orig.End >= len(lines) {
		lines = all() // found by name below the range's lines
	}
	if orig == nil && sym.Range == (codectx.Range{}) {
		return nil, refuse(ReasonNoSymbol, name, "cannot find %s in %s; nothing was changed", name, filepath.Base(file.Path))
	}
	if orig == nil {
		// The server knows the range even though our scanner does not
		// recognise the definition: trust the range.
		orig = &syntax.Def{Name: wantName, Start: sym.Range.Start.Line, End: sym.Range.End.Line, Complete: true}
		orig.Attach, orig.DocFrom, orig.DocTo = syntax.Attachments(lines, orig.Start, lang == "python")
		orig.Indent = syntax.LeadingWS(lines[orig.Start])
	}
	origLines := lines[orig.Start : orig.End+1]

	var incomplete, lostIndent, unchanged bool
	placeholderLine := ""
	for _, b := range candidateBlocks(text) {
		if b.fenced && !isCodeLang(b.lang, lang) {
			continue
		}
		defs := syntax.FindDefs(lang, b.lines)
		ad := matchDef(defs, wantName, container)
		if ad == nil {
			continue
		}
		if !ad.Complete {
			if lang == "python" && !b.closed || lang != "python" {
				incomplete = true
			} else {
				lostIndent = true
			}
			continue
		}
		if sameCode(b.lines[ad.Start:ad.End+1], origLines) {
			unchanged = true
			continue
		}
		if p := placeholder(b.lines[ad.Attach:ad.End+1], all); p != "" {
			placeholderLine = p
			continue
		}
		return buildReplacement(file, lines, all, lang, sym, orig, b.lines, defs, ad, whole)
	}
	switch {
	case placeholderLine != "":
		return nil, refuse(ReasonPlaceholder, name, "the answer's code for %s leaves parts out (%q) instead of giving the complete definition; nothing was changed", name, placeholderLine)
	case incomplete:
		return nil, refuse(ReasonIncomplete, name, "the answer's code for %s is incomplete (the answer was probably cut off); nothing was changed", name)
	case lostIndent:
		return nil, refuse(ReasonLostIndentation, name, "the answer's code for %s has lost its indentation, so its body cannot be recovered; nothing was changed", name)
	case unchanged:
		return nil, refuse(ReasonUnchanged, name, "the answer's code for %s is the same as the current code; nothing was changed", name)
	}
	return nil, refuse(ReasonNoDefinition, name, "the answer has no code block defining %s; nothing was changed", name)
}

// buildReplacement makes the edit that replaces orig with the answer's
// definition ad (found in blines). lines holds at least the file's lines up
// to orig's end; all returns every line.
func buildReplacement(file File, lines []string, all func() []string, lang string, sym codectx.Symbol, orig *syntax.Def, blines []string, bdefs []syntax.Def, ad *syntax.Def, origDefs func() []syntax.Def) ([]TextEdit, error) {
	rng := replacementRange(lines, orig, ad, sym)
	newLines := append([]string(nil), blines[ad.Attach:ad.End+1]...)
	newLines = append(newLines, newHelpers(blines, bdefs, ad, origDefs, lang)...)

	fileStyle, fileOK := fileIndent(file.Text, all)
	fromStyle, toStyle := indentStyles(blines[ad.Attach:ad.End+1], fileStyle, fileOK, lang)
	baseWS := trimmedFirstLineBase(blines, ad, lang, fromStyle)
	targetWS := syntax.LeadingWS(lines[orig.Start])
	newLines = reindent(newLines, baseWS, targetWS, fromStyle, toStyle)
	newLines[0] = firstLine(newLines[0], lines[rng.Start.Line], rng.Start.Character, targetWS)

	nl := eol(file.Text)
	newText := strings.Join(newLines, nl)
	if rng.End.Character == 0 && rng.End.Line > rng.Start.Line {
		newText += nl
	}
	edits := []TextEdit{{Range: rng, NewText: newText}}
	if lang == "go" {
		// A whole file (or a fragment with its imports) may bring imports
		// the new code needs: add those the file lacks.
		if _, imports := splitGoHeader(blines); len(imports) > 0 {
			if missing := missingImports(all(), imports); len(missing) > 0 {
				if e, err := addGoImports(all(), missing, nl, file.Text); err == nil && e.Range.End.Line <= rng.Start.Line {
					edits = append([]TextEdit{e}, edits...)
				}
			}
		}
	}
	return edits, nil
}

// replacementRange is the range the new definition replaces. The range
// from the server normally starts at the header; attached lines (doc
// comment, decorators) above it are replaced only when the answer brings
// its own, and kept when it does not.
func replacementRange(lines []string, orig, ad *syntax.Def, sym codectx.Symbol) codectx.Range {
	rng := symbolRange(lines, orig, sym)
	answerHasAttach := ad.Attach < ad.Start
	if answerHasAttach && orig.Attach < rng.Start.Line {
		rng.Start = codectx.Position{Line: orig.Attach, Character: utf16Len(syntax.LeadingWS(lines[orig.Attach]))}
	} else if !answerHasAttach && rng.Start.Line < orig.Start {
		rng.Start = codectx.Position{Line: orig.Start, Character: utf16Len(orig.Indent)}
	}
	return rng
}

// newHelpers returns the definitions the refactoring introduced next to
// the symbol (helpers), each after a blank line; those that exist in the
// file already are not duplicated.
func newHelpers(blines []string, bdefs []syntax.Def, ad *syntax.Def, origDefs func() []syntax.Def, lang string) []string {
	var out []string
	for i := range bdefs {
		o := &bdefs[i]
		if o == ad || o.Depth != ad.Depth || o.Container != ad.Container || (o.Start >= ad.Attach && o.Start <= ad.End) || !o.Complete {
			continue
		}
		if lang == "typescript" && o.Kind == "class" && ad.Container == "" {
			// A class wrapped around the answer, not a new definition.
			continue
		}
		if !hasDef(origDefs(), o.Name, o.Container) {
			out = append(out, "")
			out = append(out, blines[o.Attach:o.End+1]...)
		}
	}
	return out
}

func hasDef(defs []syntax.Def, name, container string) bool {
	for _, f := range defs {
		if f.Name == name && f.Container == container {
			return true
		}
	}
	return false
}

// indentStyles returns the answer's indentation style and the file's
// (detected by fileIndent, ok2 false when it could not be); one that cannot
// be detected takes the other's, and Go's tabs or four spaces when neither
// can.
func indentStyles(answer []string, toStyle indentStyle, ok2 bool, lang string) (from, to indentStyle) {
	fromStyle, ok := detectIndent(answer)
	if !ok2 {
		toStyle = fromStyle
		if !ok {
			toStyle = indentStyle{tabs: lang == "go", unit: 4}
		}
	}
	if !ok {
		fromStyle = toStyle
	}
	return fromStyle, toStyle
}

// firstLine places the new definition's first line where the range starts
// on startLine (UTF-16 column col): after the indentation, and after any
// prefix such as "export " that lies outside the range.
func firstLine(first, startLine string, col int, targetWS string) string {
	prefix := prefixBefore(startLine, col)
	first = strings.TrimLeft(first, " \t")
	if p := strings.TrimSpace(prefix); p != "" && strings.HasPrefix(first, p+" ") {
		return strings.TrimLeft(strings.TrimPrefix(first, p), " \t")
	} else if strings.TrimSpace(prefix) == "" && col == 0 {
		return targetWS + first
	}
	return first
}

// trimmedFirstLineBase returns the whitespace the header line of ad should
// be taken to have. A model copying a method out of a class often drops
// the indentation of the first line only ("def save(self):" at column 0
// with the body still at 8 spaces); then the base is inferred from the
// body: one level above it in Python, the closing brace's in brace
// languages.
func trimmedFirstLineBase(blines []string, ad *syntax.Def, lang string, style indentStyle) string {
	first := ad.Attach
	hdrWS := syntax.LeadingWS(blines[ad.Start])
	if syntax.LeadingWS(blines[first]) != "" || hdrWS != "" {
		return hdrWS
	}
	minLv, minRest, any := 1<<30, 0, false
	for _, l := range blines[ad.Start+1 : ad.End+1] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		lv, rest := style.level(syntax.LeadingWS(l))
		if lv < minLv {
			minLv, minRest = lv, rest
		}
		any = true
	}
	if !any {
		return hdrWS
	}
	switch {
	case lang == "python" && minLv >= 2:
		return style.render(minLv-1, minRest)
	case lang != "python" && minLv >= 1:
		return style.render(minLv, minRest)
	}
	return hdrWS
}

// prefixBefore returns the text of line before the UTF-16 column col.
func prefixBefore(line string, col int) string {
	units := 0
	for i, r := range line {
		if units >= col {
			return line[:i]
		}
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	return line
}
