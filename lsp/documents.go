package lsp

import (
	"fmt"
	"sync"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// Document is one open text document as the editor has it.
type Document struct {
	URI        string
	Path       string
	LanguageID string
	Version    int32
	Text       string
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

func (s *documentStore) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.docs)
}

// change is one content change: a whole-document replacement when rng is nil.
type change struct {
	rng  *codectx.Range
	text string
}

// update applies changes in order and sets the new version. A change that
// does not fit the document is an error and leaves the document as it was,
// so a client bug never silently corrupts the text.
func (s *documentStore) update(uri string, version int32, changes []change) (Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[uri]
	if !ok {
		return Document{}, fmt.Errorf("didChange for %s, which is not open", uri)
	}
	text := d.Text
	for i, c := range changes {
		if c.rng == nil {
			text = c.text
			continue
		}
		start, err := codectx.Offset(text, c.rng.Start)
		if err != nil {
			return Document{}, fmt.Errorf("change %d start: %w", i, err)
		}
		end, err := codectx.Offset(text, c.rng.End)
		if err != nil {
			return Document{}, fmt.Errorf("change %d end: %w", i, err)
		}
		if end < start {
			return Document{}, fmt.Errorf("change %d: range end before start", i)
		}
		text = text[:start] + c.text + text[end:]
	}
	d.Text = text
	d.Version = version
	return *d, nil
}
