package lsp

import (
	"context"
	"fmt"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/router"
)

const annotationID protocol.ChangeAnnotationIdentifier = "lsp-router"

// Choices of the confirmation asked (window/showMessageRequest) before an
// edit that still adds compiler errors, for editors without change
// annotations.
const (
	choiceApply   = "Apply anyway"
	choiceDiscard = "Discard"
)

// applyEdits sends the result's edits with workspace/applyEdit. Each edit
// carries the document version it was computed for; if the document changed
// meanwhile the edit is refused here, before it can corrupt anything.
//
// An edit that verification knows still adds compiler errors is never
// applied silently: with change annotations it is annotated with
// needsConfirmation and a label naming the errors (the editor shows a
// preview the user accepts or rejects); without them the user is asked
// with window/showMessageRequest first, and nothing is sent unless they
// choose "Apply anyway".
func (s *Server) applyEdits(ctx context.Context, caps clientCaps, req router.Request, result *router.Result) (bool, error) {
	edit := protocol.WorkspaceEdit{}
	annotate := caps.changeAnnotations && caps.documentChanges
	broken := len(result.UnresolvedErrors) > 0
	if broken && !annotate {
		ok, err := s.confirmBroken(ctx, req, result)
		if err != nil || !ok {
			return false, err
		}
	}
	if annotate {
		// An edit is one undo step away from the user's text; only one that
		// verification knows is broken asks before it lands.
		confirm := broken
		desc := fmt.Sprintf("%s by %s on %s", req.Action, result.Model, result.Service)
		label := result.Label
		if broken {
			label += ": " + brokenSummary(result.UnresolvedErrors)
			desc += "; " + brokenSummary(result.UnresolvedErrors)
		}
		edit.ChangeAnnotations = map[protocol.ChangeAnnotationIdentifier]protocol.ChangeAnnotation{
			annotationID: {Label: label, NeedsConfirmation: &confirm, Description: &desc},
		}
	}
	for _, fe := range result.Edits {
		u := pathToURI(fe.Path)
		d, open, err := s.editTarget(fe.Path, fe.Version)
		if err != nil {
			return false, err
		}
		if !caps.documentChanges {
			if edit.Changes == nil {
				edit.Changes = map[uri.URI][]protocol.TextEdit{}
			}
			for _, e := range fe.Edits {
				edit.Changes[uri.URI(u)] = append(edit.Changes[uri.URI(u)], protocol.TextEdit{Range: toRange(e.Range), NewText: e.NewText})
			}
			continue
		}
		if fe.Create {
			ignore := true
			edit.DocumentChanges = append(edit.DocumentChanges, &protocol.CreateFile{Kind: "create", URI: uri.URI(u), Options: &protocol.CreateFileOptions{IgnoreIfExists: &ignore}})
		}
		td := &protocol.TextDocumentEdit{TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri.URI(u)}}}
		if open {
			v := d.Version // editTarget: an edit to an open document always names its version
			td.TextDocument.Version = &v
		}
		for _, e := range fe.Edits {
			te := protocol.TextEdit{Range: toRange(e.Range), NewText: e.NewText}
			if annotate {
				td.Edits = append(td.Edits, &protocol.AnnotatedTextEdit{TextEdit: te, AnnotationID: annotationID})
			} else {
				td.Edits = append(td.Edits, &te)
			}
		}
		edit.DocumentChanges = append(edit.DocumentChanges, td)
	}
	label := result.Label
	if broken {
		label += ": " + brokenSummary(result.UnresolvedErrors)
	}
	res, err := s.client.ApplyEdit(ctx, &protocol.ApplyWorkspaceEditParams{Label: &label, Edit: edit})
	if err != nil {
		return false, fmt.Errorf("workspace/applyEdit: %w", err)
	}
	if res == nil { // a null result: nothing says the edit was applied
		res = &protocol.ApplyWorkspaceEditResult{}
	}
	if !res.Applied {
		reason := "declined"
		if res.FailureReason != nil {
			reason = *res.FailureReason
		}
		s.log.Info("editor did not apply the edit", "reason", reason)
	}
	return res.Applied, nil
}

// brokenSummary names the errors an edit still adds, in one line.
func brokenSummary(errs []string) string {
	shown := errs
	if len(shown) > 3 {
		shown = shown[:3]
	}
	more := ""
	if len(errs) > len(shown) {
		more = fmt.Sprintf("; and %d more", len(errs)-len(shown))
	}
	return fmt.Sprintf("still adds %d compiler error(s): %s%s", len(errs), strings.Join(shown, "; "), more)
}

// confirmBroken asks the user whether to apply an edit that still adds
// compiler errors. Anything but "Apply anyway" (a dismissed prompt, an
// editor that cannot ask) leaves the code as it is.
func (s *Server) confirmBroken(ctx context.Context, req router.Request, result *router.Result) (bool, error) {
	msg := fmt.Sprintf("lsp-router: the %s edit by %s %s. Apply it anyway?", req.Action, result.Model, brokenSummary(result.UnresolvedErrors))
	item, err := s.client.ShowMessageRequest(ctx, &protocol.ShowMessageRequestParams{Type: protocol.MessageTypeWarning, Message: msg,
		Actions: []protocol.MessageActionItem{{Title: choiceApply}, {Title: choiceDiscard}}})
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		s.log.Info("could not ask whether to apply a broken edit; not applied", "err", err)
		return false, nil
	}
	if item == nil || item.Title != choiceApply {
		s.log.Info("user discarded an edit that still adds errors")
		return false, nil
	}
	return true, nil
}
