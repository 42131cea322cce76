package router

import (
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/codectx"
)

func TestFindMarkerOnOrAboveTheLine(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		start int
		want  string // "" = none
		line  int
	}{
		{"go above func", "package a\n\n// lsp-router: use slices.Reverse\nfunc f() {}\n", 3, "use slices.Reverse", 2},
		{"on the cursor line", "package a\n// lsp-router: why?\nfunc f() {}\n", 1, "why?", 1},
		{"above a doc comment", "// lsp-router: shorter\n// F does things.\nfunc F() {}\n", 2, "shorter", 0},
		{"python", "def f():\n    # lsp-router: use a list comprehension\n    return [x for x in y]\n", 2, "use a list comprehension", 1},
		{"lua", "-- lsp-router: make it local\nfunction f() end\n", 1, "make it local", 0},
		{"lisp", ";; lsp-router: use pcase\n(defun f ())\n", 1, "use pcase", 0},
		{"block comment", "/* lsp-router: add a guard */\nint f() {}\n", 1, "add a guard", 0},
		{"code in between", "// lsp-router: stale\nx := 1\nfunc f() {}\n", 2, "", 0},
		{"below the cursor", "func f() {}\n// lsp-router: later\n", 0, "", 0},
		{"mention in code", "s := \"lsp-router: no\"\nfunc f() {}\n", 1, "", 0},
		{"trailing comment", "x := 1 // lsp-router: no\n", 0, "", 0},
		{"crlf", "// lsp-router: windows\r\nfunc f() {}\r\n", 1, "windows", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ok := findMarker(codectx.SplitLines(c.text), c.start)
			if ok != (c.want != "") || ok && (m.instruction != c.want || m.line != c.line) {
				t.Errorf("got %+v %v, want %q on line %d", m, ok, c.want, c.line)
			}
		})
	}
}

func TestFillInstructionBlanksTheMarkerAndKeepsPositions(t *testing.T) {
	text := "package a\n\n\t// lsp-router: use slices.Reverse\nfunc f() {}\n"
	req := Request{Action: ActionRefactor, HasPosition: true, Query: codectx.Query{Text: text, Position: codectx.Position{Line: 2, Character: 5}}}
	got, m, err := fillInstruction(req)
	if err != nil || m == nil {
		t.Fatal(err, m)
	}
	if got.Instruction != "use slices.Reverse" || got.Query.Text != "package a\n\n\nfunc f() {}\n" {
		t.Errorf("instruction %q text %q", got.Instruction, got.Query.Text)
	}
	// The cursor was on the marker: it moves to the code below.
	if got.Query.Position != (codectx.Position{Line: 3}) {
		t.Errorf("position %+v", got.Query.Position)
	}
	// A given instruction wins; the text is untouched.
	req.Instruction = "something else"
	if got, m, _ := fillInstruction(req); m != nil || got.Query.Text != text || got.Instruction != "something else" {
		t.Errorf("explicit instruction: %+v %+v", got, m)
	}
	// Explain takes no instruction: the marker is just a comment.
	req.Action, req.Instruction = ActionExplain, ""
	if got, m, _ := fillInstruction(req); m != nil || got.Query.Text != text {
		t.Errorf("explain: %+v", m)
	}
}

func TestFillInstructionSelectionStartingOnTheMarker(t *testing.T) {
	text := "// lsp-router: inline it\nx := 1\ny := x\n"
	sel := codectx.Range{Start: codectx.Position{Line: 0}, End: codectx.Position{Line: 2, Character: 6}}
	got, m, err := fillInstruction(Request{Action: ActionRefactor, HasPosition: true, Query: codectx.Query{Text: text, Selection: &sel}})
	if err != nil || m == nil {
		t.Fatal(err)
	}
	if got.Query.Selection.Start != (codectx.Position{Line: 1}) || got.Query.Selection.End != sel.End {
		t.Errorf("selection %+v", got.Query.Selection)
	}
	if codectx.TextInRange(got.Query.Text, *got.Query.Selection) != "x := 1\ny := x" {
		t.Errorf("selected text %q", codectx.TextInRange(got.Query.Text, *got.Query.Selection))
	}
}

func TestFillInstructionErrors(t *testing.T) {
	for _, c := range []struct {
		text, want string
	}{
		{"package a\nfunc f() {}\n", "no question to ask"},
		{"// lsp-router:\nfunc f() {}\n", "line 1 is empty"},
		{"// lsp-router: " + strings.Repeat("x", maxMarkerInstruction+1) + "\nfunc f() {}\n", "longer than"},
	} {
		_, _, err := fillInstruction(Request{Action: ActionAsk, HasPosition: true, Query: codectx.Query{Text: c.text, Position: codectx.Position{Line: 1}}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.text, err, c.want)
		}
	}
	// A refactor without instruction nor marker improves readability.
	got, _, err := fillInstruction(Request{Action: ActionRefactor, HasPosition: true, Query: codectx.Query{Text: "func f() {}\n"}})
	if err != nil || got.Instruction != defaultRefactorInstruction {
		t.Errorf("default: %q %v", got.Instruction, err)
	}
}

func TestRemoveMarkerDeletesTheLineUnlessTheEditCoversIt(t *testing.T) {
	req := Request{Action: ActionRefactor, Query: codectx.Query{Path: "/a.go"}}
	body := codectx.Range{Start: codectx.Position{Line: 3}, End: codectx.Position{Line: 5, Character: 1}}
	res := &Result{Edits: []FileEdit{{Path: "/a.go", Edits: []TextEdit{{Range: body, NewText: "func f() {}"}}}}}
	removeMarker(req, res, &marker{line: 2, instruction: "x"})
	es := res.Edits[0].Edits
	if len(es) != 2 || es[0].Range != (codectx.Range{Start: codectx.Position{Line: 2}, End: codectx.Position{Line: 3}}) || es[0].NewText != "" {
		t.Fatalf("edits %+v", es)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "line 3") {
		t.Errorf("notes %v", res.Notes)
	}
	// The marker inside the replaced code goes with it.
	res = &Result{Edits: []FileEdit{{Path: "/a.go", Edits: []TextEdit{{Range: body}}}}}
	removeMarker(req, res, &marker{line: 4, instruction: "x"})
	if len(res.Edits[0].Edits) != 1 {
		t.Errorf("edits %+v", res.Edits[0].Edits)
	}
}
