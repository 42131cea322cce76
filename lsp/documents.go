package lsp

import (
	"errors"
	"fmt"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// Document is one open text document as the editor has it.
type Document struct {
	URI        string
	Path       string
	LanguageID string
	Version    int32
	Text       string
	// OutOfSync is set when a change could not be applied (or was lost):
	// Text is no longer the editor's, so no command may run on it until a
	// full text arrives (didOpen, a whole-document didChange, or didSave
	// with text).
	OutOfSync bool
	// SyncProblem says why, for the log.
	SyncProblem string
}

// documentStore holds the open documents. Text sync notifications are handled
// in wire order on the read loop, so updates arrive serialised; the mutex
// guards readers on command goroutines.
type documentStore struct {
	mu   sync.RWMutex
	docs map[string]*Document
}

func newDocumentStore() *documentStore {
	return &documentStore{docs: map[string]*Document{}}
}

func (s *documentStore) open(d Document) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[d.URI] = &d
}

func (s *documentStore) close(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.docs, uri)
}

// get returns a copy of the document, so callers never race with edits.
func (s *documentStore) get(uri string) (Document, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.docs[uri]
	if !ok {
		return Document{}, false
	}
	return *d, true
}

// change is one content change: a whole-document replacement when rng is nil.
type change struct {
	rng  *codectx.Range
	text string
}

// update applies changes in order and sets the new version. A change that
// does not fit the text, or a version that does not increase, marks the
// document out of sync and keeps the last good text: a client bug never
// silently corrupts the text, and no edit is computed on it. A whole-document
// change in the batch heals it. The error says what went wrong; wasInSync
// tells whether this change is the one that broke the sync.
func (s *documentStore) update(uri string, version int32, changes []change) (d Document, wasInSync bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.docs[uri]
	if !ok {
		// The editor thinks it is open: track it, out of sync until a
		// whole text arrives.
		doc = &Document{URI: uri, Path: uriToPath(uri), Version: version, OutOfSync: true, SyncProblem: "didChange for a document that was never opened"}
		s.docs[uri] = doc
	}
	wasInSync = !doc.OutOfSync
	problem := doc.SyncProblem
	if !doc.OutOfSync {
		problem = ""
		if version <= doc.Version {
			problem = fmt.Sprintf("version went from %d to %d", doc.Version, version)
		}
	}
	text := doc.Text
	for i, c := range changes {
		if c.rng == nil {
			text, problem = c.text, ""
			continue
		}
		if problem != "" {
			continue
		}
		start, err := codectx.Offset(text, c.rng.Start)
		if err != nil {
			problem = fmt.Sprintf("change %d start: %v", i, err)
			continue
		}
		end, err := codectx.Offset(text, c.rng.End)
		if err != nil {
			problem = fmt.Sprintf("change %d end: %v", i, err)
			continue
		}
		if end < start {
			problem = fmt.Sprintf("change %d: range end before start", i)
			continue
		}
		text = text[:start] + c.text + text[end:]
	}
	doc.Version = version
	if problem != "" {
		doc.OutOfSync, doc.SyncProblem = true, problem
		return *doc, wasInSync, errors.New(problem)
	}
	doc.Text, doc.OutOfSync, doc.SyncProblem = text, false, ""
	return *doc, wasInSync, nil
}

// heal replaces an out-of-sync document's text with the editor's (didSave
// with text). It reports whether the document was out of sync.
func (s *documentStore) heal(uri, text string) (Document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.docs[uri]
	if !ok || !doc.OutOfSync {
		return Document{}, false
	}
	doc.Text, doc.OutOfSync, doc.SyncProblem = text, false, ""
	return *doc, true
}

// markOutOfSync flags a document whose sync notification was lost. It
// reports whether the document was in sync before.
func (s *documentStore) markOutOfSync(uri, problem string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.docs[uri]
	if !ok {
		s.docs[uri] = &Document{URI: uri, Path: uriToPath(uri), Version: -1, OutOfSync: true, SyncProblem: problem}
		return true
	}
	was := !doc.OutOfSync
	doc.OutOfSync, doc.SyncProblem = true, problem
	return was
}

// outOfSyncError is the one-line refusal of a command on a document whose
// text is no longer the editor's.
func outOfSyncError(d Document) error {
	name := d.Path
	if name == "" {
		name = d.URI
	}
	return jsonrpc2.Errorf(protocol.CodeContentModified, "%s is out of sync with the editor: save or reopen it, then try again", name)
}

// editTarget is the one check every edit passes before it is sent: an edit
// to an open document must have been computed on the editor's current text
// and version (so it is sent with that version, never null); an edit to a
// closed file must have been computed from disk.
func (s *Server) editTarget(path string, version int32) (Document, bool, error) {
	d, open := s.docs.get(pathToURI(path))
	switch {
	case open && d.OutOfSync:
		return d, open, outOfSyncError(d)
	case open && (version < 0 || d.Version != version):
		return d, open, jsonrpc2.Errorf(protocol.CodeContentModified,
			"%s changed while the model was answering (version %d, edit was for %d); nothing was changed, run the command again", path, d.Version, version)
	case !open && version >= 0:
		return d, open, jsonrpc2.Errorf(protocol.CodeContentModified,
			"%s was closed while the model was answering; nothing was changed, reopen it and run the command again", path)
	}
	return d, open, nil
}
