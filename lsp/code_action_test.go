package lsp_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
)

// TestEveryActionReachesTheQuickFixMenu checks the kinds of the offered code
// actions as an editor's quick-fix menu (VS Code's lightbulb, Ctrl+.) sees
// them: that menu hides every "source.*" action, so each action must have a
// kind outside "source", and the kind must fit what the action does.
func TestEveryActionReachesTheQuickFixMenu(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n\nfunc F() {}\n")
	at := protocol.Range{Start: protocol.Position{Line: 2, Character: 5}, End: protocol.Position{Line: 2, Character: 5}}
	params := &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}, Range: at}
	params.Context.Diagnostics = []protocol.Diagnostic{{Range: at, Severity: protocol.DiagnosticSeverityError, Message: protocol.String("undefined: x")}}
	actions, err := s.ed.Server.CodeAction(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // command -> kind as sent ("" = no kind field)
		"lsp-router.explain":  "",
		"lsp-router.refactor": "refactor.rewrite",
		"lsp-router.document": "refactor.rewrite",
		"lsp-router.fix":      "quickfix",
		"lsp-router.tests":    "",
		"lsp-router.ask":      "",
	}
	got := map[string]string{}
	for _, a := range actions {
		ca, ok := a.(*protocol.CodeAction)
		if !ok {
			t.Fatalf("%T offered to a client with code action literals", a)
		}
		kind := ""
		if ca.Kind != nil {
			kind = string(*ca.Kind)
			if kind == "" {
				t.Errorf("%s: empty kind sent as a field; leave it out", ca.Title)
			}
		}
		if strings.HasPrefix(kind, "source") {
			t.Errorf("%s has kind %q, which the quick-fix menu hides", ca.Title, kind)
		}
		got[ca.Command.Command] = kind
	}
	for cmd, kind := range want {
		k, ok := got[cmd]
		if !ok {
			t.Errorf("%s not offered; got %v", cmd, got)
		} else if k != kind {
			t.Errorf("%s: kind %q, want %q", cmd, k, kind)
		}
	}
	// The wire form: a kind-less action has no "kind" key at all.
	raw, err := json.Marshal(actions)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"kind":""`) {
		t.Errorf("empty kind on the wire: %s", raw)
	}

	// A client asking only for refactors gets Refactor and Document, nothing
	// that merely answers.
	params.Context.Only = []protocol.CodeActionKind{protocol.CodeActionKindRefactor}
	actions, err = s.ed.Server.CodeAction(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, a := range actions {
		cmds = append(cmds, a.(*protocol.CodeAction).Command.Command)
	}
	if strings.Join(cmds, ",") != "lsp-router.refactor,lsp-router.document" {
		t.Errorf("only=refactor: got %v", cmds)
	}
}
