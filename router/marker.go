package router

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// An instruction marker is a comment written in the code itself for editors
// that cannot prompt for a command's argument (Helix, eglot, a plain
// `lsp-router ask` from a script):
//
//	// lsp-router: use slices.Reverse
//	func reverseWords(s string) string {
//
// When a Refactor or Ask request comes without an instruction, the marker on
// the cursor line (or the first line of the selection) or in the comment
// block right above it gives the instruction. The marker never reaches the
// model: its line is sent blank (the line stays, so every position the
// editor and the language server know keeps its meaning). A refactor's edit
// deletes the marker line, whether or not the rewritten code covers it. An
// answer (Ask) changes no code, so the marker stays where it is, ready to be
// edited into the next question.
//
// Every common comment opener is recognised in every language (`//`, `#`,
// `--`, `;`, `/*`, `<!--`), since the keyword right after it makes a false
// match unlikely and the language ID of a buffer is not always known.

// markerPattern matches a whole-line marker comment; group 1 is the
// instruction (a closing `*/` or `-->` removed).
var markerPattern = regexp.MustCompile(`^\s*(?://+|#+|--+|;+|/\*+|<!--)\s*lsp-router:\s*(.*?)\s*(?:\*+/|-->)?\s*$`)

// commentLine matches a line that is only a comment, to walk up a comment
// block looking for the marker.
var commentLine = regexp.MustCompile(`^\s*(?://|#|--|;|/\*|\*|<!--)`)

// maxMarkerScan bounds how far above the cursor a marker is looked for.
const maxMarkerScan = 30

// maxMarkerInstruction bounds the instruction a marker may give.
const maxMarkerInstruction = 2000

// defaultRefactorInstruction is what Refactor does when neither the
// editor nor a marker gave an instruction.
const defaultRefactorInstruction = "Improve the readability and idiomatic style of this code without changing its behaviour."

// marker is an instruction found in the code.
type marker struct {
	line        int // 0-based
	instruction string
	// width is the marker line's length in UTF-16 units, and last tells
	// that no line follows it: its deletion then ends at its end.
	width int
	last  bool
}

// findMarker looks for a marker on line start or in the comment block
// directly above it.
func findMarker(lines []string, start int) (marker, bool) {
	if start < 0 || start >= len(lines) {
		return marker{}, false
	}
	for l := start; l >= 0 && l > start-maxMarkerScan; l-- {
		if m := markerPattern.FindStringSubmatch(lines[l]); m != nil {
			return marker{line: l, instruction: m[1], width: codectx.UTF16Len(lines[l]), last: l == len(lines)-1}, true
		}
		if l < start && !commentLine.MatchString(lines[l]) {
			break
		}
	}
	return marker{}, false
}

// fillInstruction completes a request before it runs: a Refactor or Ask
// without an instruction takes it from a marker comment (the marker line
// blanked in the text sent, the position moved off it); a Refactor with
// neither gets the default. An Ask with no question at all is refused with
// what to do.
func fillInstruction(req Request) (Request, *marker, error) {
	req.Instruction = strings.TrimSpace(req.Instruction)
	if !req.Action.NeedsInstruction() || req.Instruction != "" {
		return req, nil, nil
	}
	var found *marker
	if req.HasPosition {
		q := req.Query
		start := q.Position.Line
		if q.Selection != nil {
			start = q.Selection.Start.Line
		}
		lines := codectx.SplitLines(q.Text)
		if m, ok := findMarker(lines, start); ok {
			if m.instruction == "" {
				return req, nil, fmt.Errorf("the lsp-router: comment on line %d is empty: write the instruction after the colon, e.g. `// lsp-router: use slices.Reverse`", m.line+1)
			}
			if len(m.instruction) > maxMarkerInstruction {
				return req, nil, fmt.Errorf("the lsp-router: comment on line %d is longer than %d bytes: shorten the instruction", m.line+1, maxMarkerInstruction)
			}
			found = &m
			req.Instruction = m.instruction
			req.Query = withoutMarker(q, lines, m.line)
		}
	}
	if req.Instruction == "" {
		if req.Action == ActionAsk {
			return req, nil, fmt.Errorf("no question to ask: give one, or write it in a comment on or above the cursor line, e.g. `// lsp-router: why does this allocate?`")
		}
		req.Instruction = defaultRefactorInstruction
	}
	return req, found, nil
}

// withoutMarker blanks the marker line in the query's text and moves the
// cursor or the selection's start off it, to the next line.
func withoutMarker(q codectx.Query, lines []string, line int) codectx.Query {
	off, err := codectx.Offset(q.Text, codectx.Position{Line: line})
	if err != nil {
		return q
	}
	q.Text = q.Text[:off] + q.Text[off+len(strings.TrimSuffix(lines[line], "\r")):]
	if line+1 < len(lines) {
		next := codectx.Position{Line: line + 1}
		if q.Position.Line == line {
			indent := len(lines[line+1]) - len(strings.TrimLeft(lines[line+1], " \t"))
			q.Position = codectx.Position{Line: line + 1, Character: indent}
		}
		if q.Selection != nil && q.Selection.Start.Line == line {
			sel := *q.Selection
			sel.Start = next
			if sel.End.Line <= line {
				sel.End = next
			}
			q.Selection = &sel
			q.Position = sel.Start
		}
	}
	if q.Selection != nil && q.Selection.Start == q.Selection.End {
		q.Selection = nil
	}
	return q
}

// removeMarker adds the deletion of the marker line to a refactor's edit of
// its document, unless an edit already replaces the whole line, and says
// where the instruction came from.
func removeMarker(req Request, res *Result, m *marker) {
	if res == nil || m == nil {
		return
	}
	res.Notes = append(res.Notes, fmt.Sprintf("instruction from the lsp-router: comment on line %d", m.line+1))
	if !req.Action.EditsDocument() {
		return
	}
	for i := range res.Edits {
		fe := &res.Edits[i]
		if fe.Path != req.Query.Path || len(fe.Edits) == 0 {
			continue
		}
		whole := codectx.Range{Start: codectx.Position{Line: m.line}, End: codectx.Position{Line: m.line + 1}}
		if m.last {
			whole.End = codectx.Position{Line: m.line, Character: m.width}
		}
		for _, te := range fe.Edits {
			if !before(whole.Start, te.Range.Start) && !before(te.Range.End, whole.End) {
				return // the rewritten code replaces the marker line
			}
		}
		// The marker line is the original one in the editor: the blanked
		// line had no character, so no edit starts or ends inside it.
		fe.Edits = append([]TextEdit{{Range: whole}}, fe.Edits...)
		return
	}
}

// before reports whether a comes strictly before b.
func before(a, b codectx.Position) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Character < b.Character
}
