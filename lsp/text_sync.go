package lsp

import (
	"context"

	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// DocumentObserver is implemented by engines that keep a language server in
// sync with the editor's buffers (the built-in code-context backend).
type DocumentObserver interface {
	DidOpen(path, languageID string, version int32, text string)
	DidChange(path string, version int32, text string)
	DidClose(path string)
}

// DidOpen stores the document.
func (s *Server) DidOpen(ctx context.Context, params *protocol.DidOpenTextDocumentParams) error {
	td := params.TextDocument
	d := Document{URI: string(td.URI), Path: uriToPath(string(td.URI)), LanguageID: string(td.LanguageID), Version: td.Version, Text: td.Text}
	s.docs.open(d)
	if obs := s.observer(); obs != nil {
		obs.DidOpen(d.Path, d.LanguageID, d.Version, d.Text)
	}
	return nil
}

// DidChange applies full or incremental changes in order. A change that
// cannot be applied marks the document out of sync (see documentStore.update).
func (s *Server) DidChange(ctx context.Context, params *protocol.DidChangeTextDocumentParams) error {
	changes := make([]change, 0, len(params.ContentChanges))
	for _, c := range params.ContentChanges {
		switch c := c.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			changes = append(changes, change{text: c.Text})
		case *protocol.TextDocumentContentChangePartial:
			r := fromRange(c.Range)
			changes = append(changes, change{rng: &r, text: c.Text})
		}
	}
	uri := string(params.TextDocument.URI)
	d, wasInSync, err := s.docs.update(uri, params.TextDocument.Version, changes)
	if err != nil {
		if wasInSync {
			s.syncLost(ctx, d, err.Error())
		}
		return nil
	}
	s.completion.touched(uri)
	if obs := s.observer(); obs != nil {
		obs.DidChange(d.Path, d.Version, d.Text)
	}
	if !wasInSync {
		s.log.Info("document back in sync", "uri", uri, "version", d.Version)
	}
	return nil
}

// markOutOfSync flags a document whose sync notification could not be read.
func (s *Server) markOutOfSync(uri, problem string) {
	if s.docs.markOutOfSync(uri, problem) {
		d, _ := s.docs.get(uri)
		s.syncLost(context.Background(), d, problem)
	}
}

// syncLost tells the user, once per loss, that commands on the document
// wait until the editor sends its whole text again.
func (s *Server) syncLost(ctx context.Context, d Document, problem string) {
	s.log.Error("document out of sync with the editor; commands on it are refused until it is saved or reopened", "uri", d.URI, "problem", problem)
	msg := outOfSyncError(d).Error()
	go s.showMessage(context.WithoutCancel(ctx), protocol.MessageTypeWarning, "lsp-router: %s", msg)
}

// DidClose forgets the document.
func (s *Server) DidClose(ctx context.Context, params *protocol.DidCloseTextDocumentParams) error {
	uri := string(params.TextDocument.URI)
	s.docs.close(uri)
	if obs := s.observer(); obs != nil {
		obs.DidClose(uriToPath(uri))
	}
	return nil
}

// DidSave heals an out-of-sync document with the saved text (the server
// asks for it with includeText); a document in sync needs no work.
func (s *Server) DidSave(_ context.Context, params *protocol.DidSaveTextDocumentParams) error {
	if params.Text == nil {
		return nil
	}
	if d, healed := s.docs.heal(string(params.TextDocument.URI), *params.Text); healed {
		s.log.Info("document back in sync after save", "uri", d.URI, "version", d.Version)
		if obs := s.observer(); obs != nil {
			obs.DidChange(d.Path, d.Version, d.Text)
		}
	}
	return nil
}

func (s *Server) observer() DocumentObserver {
	s.mu.Lock()
	defer s.mu.Unlock()
	obs, _ := s.engine.(DocumentObserver)
	return obs
}

func fromPosition(p protocol.Position) codectx.Position {
	return codectx.Position{Line: int(p.Line), Character: int(p.Character)}
}

func fromRange(r protocol.Range) codectx.Range {
	return codectx.Range{Start: fromPosition(r.Start), End: fromPosition(r.End)}
}

func toPosition(p codectx.Position) protocol.Position {
	return protocol.Position{Line: uint32(max(p.Line, 0)), Character: uint32(max(p.Character, 0))}
}

func toRange(r codectx.Range) protocol.Range {
	return protocol.Range{Start: toPosition(r.Start), End: toPosition(r.End)}
}
