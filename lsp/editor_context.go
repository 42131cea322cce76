package lsp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/langserver"
	"github.com/lsp-router/lsp-router/router/codectx"
)

// The server→client requests of editor-provided context. An editor that
// advertises the experimental client capability lspRouterContext answers
// them from the language servers it already runs (never from lsp-router
// itself), with the result the standard request of the same name returns:
// params and results are those of textDocument/documentSymbol, hover,
// references, definition, and a Diagnostic[] for diagnostics. See
// docs/protocol.md.
const (
	MethodContextDocumentSymbol = "lsp-router/context/documentSymbol"
	MethodContextHover          = "lsp-router/context/hover"
	MethodContextReferences     = "lsp-router/context/references"
	MethodContextDefinition     = "lsp-router/context/definition"
	MethodContextDiagnostics    = "lsp-router/context/diagnostics"
)

// DefaultEditorTimeout bounds each answer of the editor when
// context.editor_timeout is not set.
const DefaultEditorTimeout = 2 * time.Second

// maxEditorReferences bounds the references converted from one answer,
// whatever the editor sends.
const maxEditorReferences = 1000

// contextDiagnosticsParams are the params of lsp-router/context/diagnostics.
type contextDiagnosticsParams struct {
	TextDocument protocol.TextDocumentIdentifier `json:"textDocument"`
}

// editorSource is a codectx.Source that asks the editor. It converts the
// editor's LSP answers to the router's types, like the rest of this
// package.
type editorSource struct {
	conn     jsonrpc2.Conn
	timeout  time.Duration
	docs     *documentStore
	snippets int // lines of context either side of a reference
}

var _ codectx.Source = (*editorSource)(nil)

// withEditorContext attaches the editor's source to a request's context
// when the editor offers context requests.
func (s *Server) withEditorContext(ctx context.Context, caps clientCaps) context.Context {
	if !caps.editorContext || s.conn == nil {
		return ctx
	}
	timeout := DefaultEditorTimeout
	s.mu.Lock()
	if s.cfg != nil && s.cfg.Context.EditorTimeout.Duration > 0 {
		timeout = s.cfg.Context.EditorTimeout.Duration
	}
	s.mu.Unlock()
	return codectx.WithEditor(ctx, &editorSource{conn: s.conn, timeout: timeout, docs: s.docs, snippets: 2})
}

// Name implements codectx.Source.
func (e *editorSource) Name() string { return codectx.EditorSourceName }

// call sends one context request with its own deadline; a late answer is
// reported as missing, and the editor is told to stop working on it.
func (e *editorSource) call(ctx context.Context, method string, params, result any) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	err := protocol.Call(ctx, e.conn, method, params, result)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the editor did not answer %s within %s (context.editor_timeout): %w", method, e.timeout, err)
	default:
		var rpcErr *jsonrpc2.Error
		if errors.As(err, &rpcErr) && rpcErr.Code == jsonrpc2.MethodNotFound {
			return fmt.Errorf("the editor does not answer %s: %w", method, codectx.ErrUnsupported)
		}
		return fmt.Errorf("the editor's %s: %w", method, err)
	}
}

func docID(path string) protocol.TextDocumentIdentifier {
	return protocol.TextDocumentIdentifier{URI: uri.File(path)}
}

func posParams(path string, p codectx.Position) protocol.TextDocumentPositionParams {
	return protocol.TextDocumentPositionParams{TextDocument: docID(path), Position: toPosition(p)}
}

// symbolPos is where to ask about sym: its name, else the cursor.
func symbolPos(q codectx.Query, sym *codectx.Symbol) (string, codectx.Position) {
	if sym != nil && sym.Path != "" {
		return sym.Path, sym.SelectionRange.Start
	}
	return q.Path, q.Position
}

// Symbol implements codectx.Source with the editor's document symbols.
func (e *editorSource) Symbol(ctx context.Context, q codectx.Query) (*codectx.Symbol, error) {
	var res protocol.DocumentSymbolResult
	if err := e.call(ctx, MethodContextDocumentSymbol, &protocol.DocumentSymbolParams{TextDocument: docID(q.Path)}, &res); err != nil {
		return nil, err
	}
	pos := q.Position
	if q.Selection != nil {
		pos = q.Selection.Start
	}
	sym := langserver.SymbolAt(res, q.Path, pos, q.Text)
	if sym == nil {
		return nil, fmt.Errorf("the editor's language servers know no symbol at %s:%d:%d", filepath.Base(q.Path), pos.Line+1, pos.Character+1)
	}
	return sym, nil
}

// Hover implements codectx.Source with the editor's hover on the
// symbol's name.
func (e *editorSource) Hover(ctx context.Context, q codectx.Query, sym *codectx.Symbol) (string, error) {
	path, pos := symbolPos(q, sym)
	var h *protocol.Hover
	if err := e.call(ctx, MethodContextHover, &protocol.HoverParams{TextDocumentPositionParams: posParams(path, pos)}, &h); err != nil {
		return "", err
	}
	if h == nil {
		return "", nil
	}
	return langserver.HoverText(h.Contents), nil
}

// References implements codectx.Source with the editor's references
// (declaration excluded), sorted, capped, each with lines around it.
func (e *editorSource) References(ctx context.Context, q codectx.Query, sym *codectx.Symbol, limit int) ([]codectx.Reference, error) {
	path, pos := symbolPos(q, sym)
	var locs []protocol.Location
	params := &protocol.ReferenceParams{TextDocumentPositionParams: posParams(path, pos),
		Context: protocol.ReferenceContext{IncludeDeclaration: false}}
	if err := e.call(ctx, MethodContextReferences, params, &locs); err != nil {
		return nil, err
	}
	out := e.locations(locs)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	root := q.WorkspaceRoot
	texts := map[string][]string{}
	refs := make([]codectx.Reference, 0, len(out))
	for _, l := range out {
		lines, ok := texts[l.Path]
		if !ok {
			lines = codectx.SplitLines(e.textOf(l.Path, q, root))
			texts[l.Path] = lines
		}
		refs = append(refs, codectx.Reference{Location: l, Snippet: langserver.Snippet(lines, l.Range.Start.Line, e.snippets)})
	}
	return refs, nil
}

// Definition asks the editor where the symbol at the cursor is defined.
func (e *editorSource) Definition(ctx context.Context, q codectx.Query) ([]codectx.Location, error) {
	var res protocol.DefinitionResult
	if err := e.call(ctx, MethodContextDefinition, &protocol.DefinitionParams{TextDocumentPositionParams: posParams(q.Path, q.Position)}, &res); err != nil {
		return nil, err
	}
	switch v := res.(type) {
	case *protocol.Location:
		return e.locations([]protocol.Location{*v}), nil
	case protocol.LocationSlice:
		return e.locations(v), nil
	case protocol.DefinitionLinkSlice:
		locs := make([]protocol.Location, 0, len(v))
		for _, l := range v {
			locs = append(locs, protocol.Location{URI: l.TargetURI, Range: l.TargetSelectionRange})
		}
		return e.locations(locs), nil
	}
	return nil, nil
}

// Diagnostics implements codectx.Source with what the editor's language
// servers report for the file now.
func (e *editorSource) Diagnostics(ctx context.Context, q codectx.Query, _ *codectx.Symbol) ([]codectx.Diagnostic, error) {
	var ds []protocol.Diagnostic
	if err := e.call(ctx, MethodContextDiagnostics, &contextDiagnosticsParams{TextDocument: docID(q.Path)}, &ds); err != nil {
		return nil, err
	}
	return langserver.ConvertDiagnostics(q.Path, ds), nil
}

func (e *editorSource) locations(locs []protocol.Location) []codectx.Location {
	if len(locs) > maxEditorReferences {
		locs = locs[:maxEditorReferences]
	}
	out := make([]codectx.Location, 0, len(locs))
	for _, l := range locs {
		p := uriToPath(string(l.URI))
		if p == "" {
			continue // not a file: nothing to show or edit
		}
		out = append(out, codectx.Location{Path: p, Range: fromRange(l.Range)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Range.Start.Before(out[j].Range.Start)
	})
	return out
}

// textOf is the text of path: the query's, an open document's, or the
// file inside the workspace (a reference elsewhere gets no snippet).
func (e *editorSource) textOf(path string, q codectx.Query, root string) string {
	if path == q.Path && q.Text != "" {
		return q.Text
	}
	if e.docs != nil {
		if d, ok := e.docs.get(pathToURI(path)); ok {
			return d.Text
		}
	}
	if root == "" {
		return ""
	}
	data, err := safefile.ReadFile(path, root)
	if err != nil {
		return ""
	}
	return string(data)
}
