package syntax

import (
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
)

var kindNames = map[string]string{"func": "Function", "method": "Method", "class": "Class", "type": "Struct", "var": "Variable"}

// SymbolAt finds the innermost definition (function, method, class, type)
// around pos in text (the file at path, in the LSP language languageID;
// the extension decides without one) by reading the source itself. It is the code-context fallback
// when no language server or Serena is available: edits still target the
// whole definition instead of a guess.
func SymbolAt(path, text, languageID string, pos codectx.Position) (*codectx.Symbol, bool) {
	lang := Language(languageID, path)
	if lang == "" {
		return nil, false
	}
	lines := strings.Split(text, "\n")
	var best *Def
	for _, d := range FindDefs(lang, lines) {
		if !d.Complete || pos.Line < d.Start || pos.Line > d.End {
			continue
		}
		if best == nil || d.Start >= best.Start && d.End <= best.End {
			dd := d
			best = &dd
		}
	}
	if best == nil {
		return nil, false
	}
	endLine := strings.TrimSuffix(lines[best.End], "\r")
	r := codectx.Range{
		Start: codectx.Position{Line: best.Start, Character: codectx.UTF16Len(best.Indent)},
		End:   codectx.Position{Line: best.End, Character: codectx.UTF16Len(endLine)},
	}
	nameCol := strings.Index(lines[best.Start], best.Name)
	sel := r
	if nameCol >= 0 {
		c := codectx.UTF16Len(lines[best.Start][:nameCol])
		sel = codectx.Range{Start: codectx.Position{Line: best.Start, Character: c}, End: codectx.Position{Line: best.Start, Character: c + codectx.UTF16Len(best.Name)}}
	}
	return &codectx.Symbol{
		Name: best.Name, NamePath: best.Path(), Kind: kindNames[best.Kind], Path: path,
		Range: r, SelectionRange: sel, Body: codectx.TextInRange(text, r),
	}, true
}
