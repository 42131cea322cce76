package lsp

import (
	"context"
	"encoding/json"
	"fmt"

	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/router"
)

var codeActionKinds = []protocol.CodeActionKind{
	protocol.CodeActionKindQuickFix,
	protocol.CodeActionKindRefactorRewrite,
	kindAnswer,
}

// kindAnswer is the kind of the actions that answer rather than edit: the
// empty kind, sent without a "kind" field. Not "source.*": VS Code (and
// other editors) keep source actions out of the quick-fix menu and the
// lightbulb, so Explain, Write tests and Ask… could only be found in the
// command palette.
const kindAnswer protocol.CodeActionKind = protocol.CodeActionKindEmpty

// menu is the code-action menu: title and kind per action.
var menu = []struct {
	action router.Action
	title  string
	kind   protocol.CodeActionKind
}{
	{router.ActionExplain, "lsp-router: Explain", kindAnswer},
	{router.ActionRefactor, "lsp-router: Refactor…", protocol.CodeActionKindRefactorRewrite},
	{router.ActionDocument, "lsp-router: Document", protocol.CodeActionKindRefactorRewrite},
	{router.ActionTests, "lsp-router: Write tests", kindAnswer},
	{router.ActionAsk, "lsp-router: Ask…", kindAnswer},
}

// maxFixActions bounds the quick fixes offered for one cursor position.
const maxFixActions = 3

// CodeAction offers the router's actions at the cursor or selection. It does
// no work beyond building the list: the model runs only when one is chosen.
func (s *Server) CodeAction(ctx context.Context, params *protocol.CodeActionParams) ([]protocol.CommandOrCodeAction, error) {
	uri := string(params.TextDocument.URI)
	d, ok := s.docs.get(uri)
	if !ok {
		return nil, nil
	}
	s.mu.Lock()
	literal := s.caps.codeActionLiteral
	s.mu.Unlock()
	base := commandArgs{URI: uri, Range: fromRange(params.Range), Version: &d.Version}
	only := params.Context.Only
	var out []protocol.CommandOrCodeAction
	add := func(title string, kind protocol.CodeActionKind, action router.Action, args commandArgs, diags []protocol.Diagnostic) {
		if !kindWanted(only, kind) {
			return
		}
		raw, err := json.Marshal(args)
		if err != nil {
			return
		}
		cmd := protocol.Command{Title: title, Command: commandPrefix + string(action), Arguments: []protocol.LSPAny{raw}}
		if !literal {
			out = append(out, &cmd)
			return
		}
		ca := &protocol.CodeAction{Title: title, Command: cmd, Diagnostics: diags}
		if kind != kindAnswer {
			k := kind
			ca.Kind = &k
		}
		out = append(out, ca)
	}
	for i, diag := range params.Context.Diagnostics {
		if i == maxFixActions {
			break
		}
		args := base
		raw, err := protocol.Marshal(diag)
		if err != nil {
			continue
		}
		args.Diagnostics = []json.RawMessage{raw}
		add(fmt.Sprintf("lsp-router: Fix %q", truncate(diagnosticMessage(diag), 60)), protocol.CodeActionKindQuickFix, router.ActionFix, args, []protocol.Diagnostic{diag})
	}
	for _, m := range menu {
		add(m.title, m.kind, m.action, base, nil)
	}
	return out, nil
}

func kindWanted(only []protocol.CodeActionKind, kind protocol.CodeActionKind) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if o == kind || len(kind) > len(o) && kind[:len(o)] == o && kind[len(o)] == '.' {
			return true
		}
	}
	return false
}

func diagnosticMessage(d protocol.Diagnostic) string {
	switch m := d.Message.(type) {
	case protocol.String:
		return string(m)
	case *protocol.MarkupContent:
		return m.Value
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
