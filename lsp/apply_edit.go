package lsp

import (
	"context"
	"fmt"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/router"
)

const annotationID protocol.ChangeAnnotationIdentifier = "lsp-router"

// applyEdits sends the result's edits with workspace/applyEdit. Each edit
// carries the document version it was computed for; if the document changed
// meanwhile the edit is refused here, before it can corrupt anything.
func (s *Server) applyEdits(ctx context.Context, caps clientCaps, req router.Request, result *router.Result) (bool, error) {
	edit := protocol.WorkspaceEdit{}
	annotate := caps.changeAnnotations && caps.documentChanges
	if annotate {
		confirm := req.Action == router.ActionRefactor
		desc := fmt.Sprintf("%s by %s on %s", req.Action, result.Model, result.Service)
		edit.ChangeAnnotations = map[protocol.ChangeAnnotationIdentifier]protocol.ChangeAnnotation{
			annotationID: {Label: result.Label, NeedsConfirmation: &confirm, Description: &desc},
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
