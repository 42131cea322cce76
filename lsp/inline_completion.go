package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/completion"
)

// Completer is implemented by engines that offer inline completion
// (router.Pipeline.Complete).
type Completer interface {
	Complete(ctx context.Context, req router.CompletionRequest) (router.CompletionResult, error)
}

// completions is the server's completion state: one request in flight per
// document, and the order documents were last edited in (snippets of the
// most recently edited come first).
type completions struct {
	once   sync.Once
	co     *completion.Coalescer
	seq    atomic.Int64
	mu     sync.Mutex
	edited map[string]int64
	// applied and cfg cache the last configuration read by
	// completionConfig: it is read on every keystroke.
	applied string
	cfg     config.Completion
}

func (c *completions) init() {
	c.once.Do(func() {
		c.co = completion.NewCoalescer()
		c.edited = map[string]int64{}
	})
}

// touched records an edit of uri (called from DidChange).
func (c *completions) touched(uri string) {
	c.init()
	n := c.seq.Add(1)
	c.mu.Lock()
	c.edited[uri] = n
	c.mu.Unlock()
}

// completionConfig is [completion] as last applied: the configuration the
// engine is (being) built from, which s.cfg becomes only once the build
// finished.
func (s *Server) completionConfig() config.Completion {
	s.conf.mu.Lock()
	applied := s.conf.applied
	s.conf.mu.Unlock()
	if applied != "" {
		s.completion.mu.Lock()
		defer s.completion.mu.Unlock()
		if applied == s.completion.applied {
			return s.completion.cfg
		}
		var cfg config.Config
		if json.Unmarshal([]byte(applied), &cfg) == nil {
			s.completion.applied, s.completion.cfg = applied, cfg.Completion
			return cfg.Completion
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg == nil {
		return config.Completion{}
	}
	return s.cfg.Completion
}

// addCompletionCapabilities offers inlineCompletionProvider, and
// completionProvider when completion.lsp_completion_items is on.
func (s *Server) addCompletionCapabilities(caps *protocol.ServerCapabilities) {
	c := s.completionConfig()
	if !c.Enabled {
		return
	}
	caps.InlineCompletionProvider = protocol.Boolean(true)
	if c.LSPCompletionItems {
		caps.CompletionProvider = &protocol.CompletionOptions{}
	}
}

// InlineCompletion answers textDocument/inlineCompletion (LSP 3.18) with
// at most one ghost-text item at the cursor.
func (s *Server) InlineCompletion(ctx context.Context, params *protocol.InlineCompletionParams) (protocol.InlineCompletionResult, error) {
	invoked := params.Context.TriggerKind == protocol.InlineCompletionTriggerKindInvoked
	text, err := s.complete(ctx, params.TextDocumentPositionParams, invoked)
	list := &protocol.InlineCompletionList{Items: []protocol.InlineCompletionItem{}}
	if err != nil || text == "" {
		return list, err
	}
	pos := params.Position
	list.Items = append(list.Items, protocol.InlineCompletionItem{InsertText: protocol.String(text),
		Range: &protocol.Range{Start: pos, End: pos}})
	return list, nil
}

// Completion answers textDocument/completion with the suggestion as one
// item, for editors without inline completion; only when
// completion.lsp_completion_items is on (the capability is not offered
// otherwise).
func (s *Server) Completion(ctx context.Context, params *protocol.CompletionParams) (protocol.CompletionResult, error) {
	list := &protocol.CompletionList{IsIncomplete: true, Items: []protocol.CompletionItem{}}
	if c := s.completionConfig(); !c.Enabled || !c.LSPCompletionItems {
		return list, nil
	}
	// Trigger kind "invoked" also means typing here: always debounced
	// and quiet.
	text, err := s.complete(ctx, params.TextDocumentPositionParams, false)
	if err != nil || text == "" {
		return list, err
	}
	label, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	if len(label) > 60 {
		label = label[:60] + "…"
	}
	pos := params.Position
	list.Items = append(list.Items, protocol.CompletionItem{Label: label, Kind: protocol.CompletionItemKindSnippet,
		Detail: protocol.NewOptional("lsp-router"), InsertTextFormat: protocol.InsertTextFormatPlainText,
		TextEdit: &protocol.TextEdit{Range: protocol.Range{Start: pos, End: pos}, NewText: text},
		// Sorted first and kept while the user types: the server's own
		// filtering already happened.
		SortText: protocol.NewOptional("0"), FilterText: protocol.NewOptional(label)})
	return list, nil
}

// complete runs one completion: a newer request for the same document
// cancels this one (closing its upstream request), an automatic one waits
// the debounce first. Errors reach the editor only for requests the user
// made; automatic ones fail quietly (logged) so typing is never disturbed.
func (s *Server) complete(ctx context.Context, p protocol.TextDocumentPositionParams, invoked bool) (string, error) {
	s.completion.init()
	uri := string(p.TextDocument.URI)
	ctx, done := s.completion.co.Begin(ctx, uri)
	defer done()
	cfg := s.completionConfig()
	if !cfg.Enabled {
		return "", nil
	}
	if !invoked {
		if err := completion.Debounce(ctx, cfg.Debounce.Or(75*time.Millisecond)); err != nil {
			return "", nil // a newer keystroke took over
		}
	}
	doc, ok := s.docs.get(uri)
	if !ok || doc.OutOfSync {
		return "", nil
	}
	offset, err := codectx.Offset(doc.Text, fromPosition(p.Position))
	if err != nil {
		return "", nil
	}
	engine, _, err := s.currentEngine(ctx)
	if err != nil {
		return "", quietUnless(invoked, err)
	}
	c, ok := engine.(Completer)
	if !ok {
		return "", nil
	}
	s.mu.Lock()
	ws, client := s.workspace, s.clientName
	s.mu.Unlock()
	req := router.CompletionRequest{Path: doc.Path, LanguageID: doc.LanguageID, Text: doc.Text, Offset: offset,
		WorkspaceRoot: ws, Others: s.otherDocuments(uri, doc.LanguageID), Agent: client}
	res, err := c.Complete(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return "", nil
		}
		s.log.Debug("inline completion failed", "uri", uri, "err", err)
		return "", quietUnless(invoked, err)
	}
	return res.Text, nil
}

// quietUnless returns err for requests the user made, nil otherwise.
func quietUnless(invoked bool, err error) error {
	if !invoked || errors.Is(err, context.Canceled) {
		return nil
	}
	return errors.New("lsp-router: " + router.UserLine(err))
}

// otherDocuments lists the open documents of language besides uri, with
// their edit order.
func (s *Server) otherDocuments(uri, language string) []completion.Document {
	s.completion.mu.Lock()
	edited := make(map[string]int64, len(s.completion.edited))
	for k, v := range s.completion.edited {
		edited[k] = v
	}
	s.completion.mu.Unlock()
	s.docs.mu.RLock()
	defer s.docs.mu.RUnlock()
	var out []completion.Document
	for u, d := range s.docs.docs {
		if u == uri || d.LanguageID != language || d.OutOfSync {
			continue
		}
		out = append(out, completion.Document{Path: d.Path, LanguageID: d.LanguageID, Text: d.Text, Edited: edited[u]})
	}
	return out
}
