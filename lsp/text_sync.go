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

// DidChange applies full or incremental changes in order.
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
	d, err := s.docs.update(uri, params.TextDocument.Version, changes)
	if err != nil {
		// The stored text no longer matches the editor's: drop it so no
		// edit is ever computed on it, and tell the user how to recover.
		s.log.Error("didChange could not be applied; document dropped", "uri", uri, "err", err)
		s.docs.close(uri)
		go s.showMessage(context.WithoutCancel(ctx), protocol.MessageTypeWarning, "lsp-router lost track of %s (%v); reopen the file to continue", uri, err)
		return nil
	}
	if obs := s.observer(); obs != nil {
		obs.DidChange(d.Path, d.Version, d.Text)
	}
	return nil
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

// DidSave needs no work: the buffer is already in sync.
func (s *Server) DidSave(context.Context, *protocol.DidSaveTextDocumentParams) error { return nil }

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
