package edits

import (
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
)

var kindNames = map[string]string{"func": "Function", "method": "Method", "class": "Class", "type": "Struct", "var": "Variable"}

// SymbolAt finds the innermost definition (function, method, class, type)
// around pos by reading the source itself. It is the code-context fallback
// when no language server or Serena is available: edits still target the
// whole definition instead of a guess.
func SymbolAt(file File, pos codectx.Position) (*codectx.Symbol, bool) {
	lang := language(file.Language, file.Path)
	if lang == "" {
		return nil, false
	}
	lines := strings.Split(file.Text, "\n")
	var best *def
	for _, d := range findDefs(lang, lines) {
		if !d.complete || pos.Line < d.start || pos.Line > d.end {
			continue
		}
		if best == nil || d.start >= best.start && d.end <= best.end {
			dd := d
			best = &dd
		}
	}
	if best == nil {
		return nil, false
	}
	endLine := strings.TrimSuffix(lines[best.end], "\r")
	r := codectx.Range{
		Start: codectx.Position{Line: best.start, Character: codectx.UTF16Len(best.indent)},
		End:   codectx.Position{Line: best.end, Character: codectx.UTF16Len(endLine)},
	}
	nameCol := strings.Index(lines[best.start], best.name)
	sel := r
	if nameCol >= 0 {
		c := codectx.UTF16Len(lines[best.start][:nameCol])
		sel = codectx.Range{Start: codectx.Position{Line: best.start, Character: c}, End: codectx.Position{Line: best.start, Character: c + codectx.UTF16Len(best.name)}}
	}
	return &codectx.Symbol{
		Name: best.name, NamePath: best.path(), Kind: kindNames[best.kind], Path: file.Path,
		Range: r, SelectionRange: sel, Body: codectx.TextInRange(file.Text, r),
	}, true
}
