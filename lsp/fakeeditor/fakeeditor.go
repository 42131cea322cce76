// Package fakeeditor is an LSP client for end-to-end tests of lsp-router: it
// talks to the server over a real jsonrpc2 stream, keeps its own copy of
// every open buffer, applies workspace/applyEdit the way an editor does
// (refusing stale versions, then sending didChange), and records everything
// the server sends: progress, messages, answers and status.
package fakeeditor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/edits"
)

// Caps selects which client capabilities the fake editor advertises.
type Caps struct {
	WorkDoneProgress  bool
	DocumentChanges   bool
	ChangeAnnotations bool
	ShowDocument      bool
	CodeActionLiteral bool
	// CreateFiles advertises workspaceEdit.resourceOperations ["create"].
	CreateFiles bool
	// PluginAnswers advertises experimental.lspRouterAnswers, as our own
	// editor plugins do.
	PluginAnswers bool
	// NoExecuteWait leaves out experimental.lspRouterExecuteCommandWaits:
	// workspace/executeCommand then answers at once and the outcome arrives
	// as edits, answers and messages (the server's default, as eglot sees
	// it). Without it the fake editor opts in, as our own plugins do, and
	// Execute returns the command's result.
	NoExecuteWait bool
	// Context, when set, advertises experimental.lspRouterContext and
	// answers the server's lsp-router/context/* requests, as the editor's
	// own language servers would.
	Context func(ctx context.Context, method string, params json.RawMessage) (any, error)
}

// FullCaps is what a modern editor advertises.
var FullCaps = Caps{WorkDoneProgress: true, DocumentChanges: true, ChangeAnnotations: true, ShowDocument: true, CodeActionLiteral: true, CreateFiles: true}

// ProgressEvent is one $/progress value the server sent.
type ProgressEvent struct {
	Token   string
	Kind    string // begin, report, end
	Title   string
	Message string
	// Time is when the editor received it.
	Time time.Time
}

// Editor is the fake editor.
type Editor struct {
	conn   jsonrpc2.Conn
	Server protocol.Server
	caps   Caps

	mu           sync.Mutex
	buffers      map[string]*buffer
	progress     []ProgressEvent
	created      []string
	messages     []protocol.ShowMessageParams
	shown        []string
	answers      []json.RawMessage
	statuses     []json.RawMessage
	applyResults []bool
	editParams   []protocol.ApplyWorkspaceEditParams
	// DeclineEdits makes the editor answer applied:false, as a user who
	// rejects a preview.
	DeclineEdits bool
	// IncrementalEdits sends an applied single-edit change as an incremental
	// didChange, as editors with incremental sync do, not the whole text.
	IncrementalEdits bool
	// Confirm is the action a user picks on window/showMessageRequest
	// ("" dismisses the prompt).
	Confirm  string
	requests []protocol.ShowMessageRequestParams
	changed  chan struct{}
}

type buffer struct {
	lang    string
	version int32
	text    string
}

// Connect starts a fake editor on stream (one end of a pipe, or a
// subprocess's stdio).
func Connect(ctx context.Context, stream io.ReadWriteCloser, caps Caps) *Editor {
	e := &Editor{caps: caps, buffers: map[string]*buffer{}, changed: make(chan struct{}, 1)}
	conn := jsonrpc2.NewConn(jsonrpc2.NewHeaderStream(stream), jsonrpc2.WithCodec(lsp.Codec{}))
	e.conn = conn
	e.Server = protocol.ServerDispatcher(conn)
	handler := protocol.ClientHandler(&client{e: e}, e.custom)
	conn.Go(ctx, func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		// Notifications are recorded in wire order, as an editor shows
		// them; requests (applyEdit) run concurrently.
		if req.IsCall() {
			jsonrpc2.Async(ctx)
		}
		return handler(ctx, req)
	})
	return e
}

// Close closes the connection.
func (e *Editor) Close() error { return e.conn.Close() }

// Done is closed when the connection ends.
func (e *Editor) Done() <-chan struct{} { return e.conn.Done() }

// Conn exposes the raw connection for protocol-level tests.
func (e *Editor) Conn() jsonrpc2.Conn { return e.conn }

func (e *Editor) signal() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// Initialize sends initialize (with initializationOptions) and initialized.
func (e *Editor) Initialize(ctx context.Context, root string, initOptions any) (*protocol.InitializeResult, error) {
	t := true
	caps := protocol.ClientCapabilities{
		Window:       &protocol.WindowClientCapabilities{},
		Workspace:    &protocol.WorkspaceClientCapabilities{WorkspaceEdit: &protocol.WorkspaceEditClientCapabilities{}},
		TextDocument: &protocol.TextDocumentClientCapabilities{CodeAction: &protocol.CodeActionClientCapabilities{}},
	}
	if e.caps.WorkDoneProgress {
		caps.Window.WorkDoneProgress = &t
	}
	if e.caps.ShowDocument {
		caps.Window.ShowDocument = &protocol.ShowDocumentClientCapabilities{Support: true}
	}
	if e.caps.DocumentChanges {
		caps.Workspace.WorkspaceEdit.DocumentChanges = &t
	}
	if e.caps.CreateFiles {
		caps.Workspace.WorkspaceEdit.ResourceOperations = []protocol.ResourceOperationKind{protocol.ResourceOperationKindCreate}
	}
	if e.caps.ChangeAnnotations {
		caps.Workspace.WorkspaceEdit.ChangeAnnotationSupport = &protocol.ChangeAnnotationsSupportOptions{}
	}
	if e.caps.CodeActionLiteral {
		caps.TextDocument.CodeAction.CodeActionLiteralSupport.CodeActionKind.ValueSet = []protocol.CodeActionKind{protocol.CodeActionKindQuickFix, protocol.CodeActionKindRefactor, protocol.CodeActionKindSource}
	}
	exp := map[string]bool{}
	if e.caps.PluginAnswers {
		exp["lspRouterAnswers"] = true
	}
	if !e.caps.NoExecuteWait {
		exp["lspRouterExecuteCommandWaits"] = true
	}
	if e.caps.Context != nil {
		exp["lspRouterContext"] = true
	}
	if len(exp) > 0 {
		b, err := json.Marshal(exp)
		if err != nil {
			return nil, err
		}
		caps.Experimental = protocol.LSPAny(b)
	}
	params := &protocol.InitializeParams{Capabilities: caps, ClientInfo: protocol.ClientInfo{Name: "fakeeditor"}}
	if root != "" {
		u := uri.File(root)
		//lint:ignore SA1019 editors such as Neovim 0.7 still send rootUri
		params.RootURI = &u
	}
	if initOptions != nil {
		b, err := json.Marshal(initOptions)
		if err != nil {
			return nil, err
		}
		params.InitializationOptions = protocol.LSPAny(b)
	}
	res, err := e.Server.Initialize(ctx, params)
	if err != nil {
		return nil, err
	}
	return res, e.Server.Initialized(ctx, &protocol.InitializedParams{})
}

// URI returns the file URI of path.
func URI(path string) string { return string(uri.File(path)) }

// Open opens a buffer with version 1.
func (e *Editor) Open(ctx context.Context, path, lang, text string) error {
	e.mu.Lock()
	e.buffers[URI(path)] = &buffer{lang: lang, version: 1, text: text}
	e.mu.Unlock()
	return e.Server.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: uri.File(path), LanguageID: protocol.LanguageKind(lang), Version: 1, Text: text}})
}

// Edit changes a buffer incrementally (replace rng with text) and sends it.
func (e *Editor) Edit(ctx context.Context, path string, rng codectx.Range, text string) error {
	return e.change(ctx, path, func(old string) (string, error) { return applyOne(old, rng, text) },
		&protocol.TextDocumentContentChangePartial{Range: toRange(rng), Text: text})
}

// Replace replaces a buffer's whole text and sends a full change.
func (e *Editor) Replace(ctx context.Context, path, text string) error {
	return e.change(ctx, path, func(string) (string, error) { return text, nil },
		&protocol.TextDocumentContentChangeWholeDocument{Text: text})
}

// change updates the buffer, bumps its version and sends didChange.
func (e *Editor) change(ctx context.Context, path string, apply func(string) (string, error), ev protocol.TextDocumentContentChangeEvent) error {
	u := URI(path)
	e.mu.Lock()
	b, ok := e.buffers[u]
	if !ok {
		e.mu.Unlock()
		return fmt.Errorf("%s is not open", path)
	}
	newText, err := apply(b.text)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	b.text = newText
	b.version++
	v := b.version
	e.mu.Unlock()
	return e.Server.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri.URI(u)}, Version: v},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{ev},
	})
}

// Text returns the editor's copy of a buffer and its version.
func (e *Editor) Text(path string) (string, int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.buffers[URI(path)]
	if !ok {
		return "", 0
	}
	return b.text, b.version
}

// Args builds the argument object of an action command.
func (e *Editor) Args(path string, rng codectx.Range, instruction string) map[string]any {
	_, v := e.Text(path)
	args := map[string]any{"uri": URI(path), "range": rng, "version": v}
	if instruction != "" {
		args["instruction"] = instruction
	}
	return args
}

// Execute runs workspace/executeCommand; cancelling ctx sends $/cancelRequest.
func (e *Editor) Execute(ctx context.Context, command string, args ...any) (json.RawMessage, error) {
	raw := make([]protocol.LSPAny, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		raw[i] = b
	}
	var result jsonrpc2.RawMessage
	err := protocol.Call(ctx, e.conn, protocol.MethodWorkspaceExecuteCommand, &protocol.ExecuteCommandParams{Command: command, Arguments: raw}, &result)
	return json.RawMessage(result), err
}

// CancelProgress sends window/workDoneProgress/cancel for a token.
func (e *Editor) CancelProgress(ctx context.Context, token string) error {
	return e.conn.Notify(ctx, protocol.MethodWindowWorkDoneProgressCancel, &protocol.WorkDoneProgressCancelParams{Token: protocol.String(token)})
}

// Progress returns the progress events so far.
func (e *Editor) Progress() []ProgressEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.progress)
}

// CreatedTokens returns the tokens the server asked to create.
func (e *Editor) CreatedTokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.created)
}

// Messages returns the window/showMessage notifications so far.
func (e *Editor) Messages() []protocol.ShowMessageParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.messages)
}

// Shown returns the URIs the server asked to show with window/showDocument.
func (e *Editor) Shown() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.shown)
}

// Answers returns the lsp-router/answer notifications so far.
func (e *Editor) Answers() []json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.answers)
}

// Statuses returns the lsp-router/status notifications so far.
func (e *Editor) Statuses() []json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.statuses)
}

// AppliedEdits returns, per workspace/applyEdit, whether it was applied.
func (e *Editor) AppliedEdits() []bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.applyResults)
}

// EditRequests returns every workspace/applyEdit the server sent, as sent
// (labels and change annotations included).
func (e *Editor) EditRequests() []protocol.ApplyWorkspaceEditParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.editParams)
}

// WaitFor waits until cond holds or timeout passes.
func (e *Editor) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.After(timeout)
	for {
		if cond() {
			return true
		}
		select {
		case <-e.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			return cond()
		}
	}
}

func (e *Editor) custom(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	params := append(json.RawMessage(nil), req.Params()...)
	switch req.Method() {
	case "lsp-router/answer":
		e.mu.Lock()
		e.answers = append(e.answers, params)
		e.mu.Unlock()
	case "lsp-router/status":
		e.mu.Lock()
		e.statuses = append(e.statuses, params)
		e.mu.Unlock()
	default:
		if e.caps.Context != nil && strings.HasPrefix(req.Method(), "lsp-router/context/") {
			return e.caps.Context(ctx, req.Method(), params)
		}
		return jsonrpc2.MethodNotFoundHandler(ctx, req)
	}
	e.signal()
	return nil, nil
}

// applyEdit applies a workspace edit like an editor: all or nothing, stale
// versions refused, then a didChange per changed buffer.
func (e *Editor) applyEdit(ctx context.Context, p *protocol.ApplyWorkspaceEditParams) (*protocol.ApplyWorkspaceEditResult, error) {
	type change struct {
		uri   string
		text  string
		edits []protocol.TextEdit
	}
	var changes []change
	e.mu.Lock()
	e.editParams = append(e.editParams, *p)
	e.mu.Unlock()
	refuse := func(reason string) (*protocol.ApplyWorkspaceEditResult, error) {
		e.mu.Lock()
		e.applyResults = append(e.applyResults, false)
		e.mu.Unlock()
		e.signal()
		return &protocol.ApplyWorkspaceEditResult{Applied: false, FailureReason: &reason}, nil
	}
	if e.DeclineEdits {
		return refuse("declined by the user")
	}
	e.mu.Lock()
	created := map[string]bool{}
	onDisk := map[string]bool{} // edited files that are not open
	for _, dc := range p.Edit.DocumentChanges {
		if cf, ok := dc.(*protocol.CreateFile); ok {
			if _, err := os.Stat(uri.URI(cf.URI).Path()); err == nil && (cf.Options == nil || cf.Options.IgnoreIfExists == nil || !*cf.Options.IgnoreIfExists) {
				e.mu.Unlock()
				return refuse("file exists: " + string(cf.URI))
			}
			created[string(cf.URI)] = true
			continue
		}
		td, ok := dc.(*protocol.TextDocumentEdit)
		if !ok {
			e.mu.Unlock()
			return refuse("unsupported resource operation")
		}
		u := string(td.TextDocument.URI)
		b, ok := e.buffers[u]
		if !ok {
			// Like an editor: a file that is not open is edited on disk
			// (here: loaded into a buffer and written back).
			path := uri.URI(td.TextDocument.URI).Path()
			data, err := os.ReadFile(path)
			if err != nil && !created[u] {
				e.mu.Unlock()
				return refuse("cannot read " + path + ": " + err.Error())
			}
			b = &buffer{text: string(data)}
			onDisk[u] = true
		}
		if td.TextDocument.Version != nil && *td.TextDocument.Version != b.version {
			e.mu.Unlock()
			return refuse(fmt.Sprintf("version mismatch: edit for %d, buffer at %d", *td.TextDocument.Version, b.version))
		}
		var edits []protocol.TextEdit
		for _, el := range td.Edits {
			switch x := el.(type) {
			case *protocol.TextEdit:
				edits = append(edits, *x)
			case *protocol.AnnotatedTextEdit:
				edits = append(edits, x.TextEdit)
			}
		}
		text, err := applyAll(b.text, edits)
		if err != nil {
			e.mu.Unlock()
			return refuse(err.Error())
		}
		changes = append(changes, change{u, text, edits})
	}
	for u, edits := range p.Edit.Changes {
		b, ok := e.buffers[string(u)]
		if !ok {
			e.mu.Unlock()
			return refuse("document not open: " + string(u))
		}
		text, err := applyAll(b.text, edits)
		if err != nil {
			e.mu.Unlock()
			return refuse(err.Error())
		}
		changes = append(changes, change{string(u), text, edits})
	}
	e.mu.Unlock()
	for _, c := range changes {
		path := uri.URI(c.uri).Path()
		if onDisk[c.uri] {
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				return nil, err
			}
			continue
		}
		if e.IncrementalEdits && len(c.edits) == 1 {
			te := c.edits[0]
			if err := e.change(context.WithoutCancel(ctx), path, func(string) (string, error) { return c.text, nil },
				&protocol.TextDocumentContentChangePartial{Range: te.Range, Text: te.NewText}); err != nil {
				return nil, err
			}
			continue
		}
		if err := e.Replace(context.WithoutCancel(ctx), path, c.text); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	e.applyResults = append(e.applyResults, true)
	e.mu.Unlock()
	e.signal()
	return &protocol.ApplyWorkspaceEditResult{Applied: true}, nil
}

// applyAll applies edits the way an editor does, with the same UTF-16
// rules the server uses.
func applyAll(text string, pes []protocol.TextEdit) (string, error) {
	tes := make([]edits.TextEdit, len(pes))
	for i, e := range pes {
		tes[i] = edits.TextEdit{Range: fromRange(e.Range), NewText: e.NewText}
	}
	return edits.Apply(text, tes)
}

func applyOne(text string, rng codectx.Range, newText string) (string, error) {
	return edits.Apply(text, []edits.TextEdit{{Range: rng, NewText: newText}})
}

func toRange(r codectx.Range) protocol.Range {
	return protocol.Range{
		Start: protocol.Position{Line: uint32(r.Start.Line), Character: uint32(r.Start.Character)},
		End:   protocol.Position{Line: uint32(r.End.Line), Character: uint32(r.End.Character)},
	}
}

func fromRange(r protocol.Range) codectx.Range {
	return codectx.Range{
		Start: codectx.Position{Line: int(r.Start.Line), Character: int(r.Start.Character)},
		End:   codectx.Position{Line: int(r.End.Line), Character: int(r.End.Character)},
	}
}

// client is the protocol.Client the server talks to.
type client struct {
	protocol.UnimplementedClient
	e *Editor
}

func (c *client) Progress(_ context.Context, p *protocol.ProgressParams) error {
	var v struct{ Kind, Title, Message string }
	_ = json.Unmarshal(p.Value, &v)
	tok := fmt.Sprint(p.Token)
	if s, ok := p.Token.(protocol.String); ok {
		tok = string(s)
	}
	c.e.mu.Lock()
	c.e.progress = append(c.e.progress, ProgressEvent{Token: tok, Kind: v.Kind, Title: v.Title, Message: v.Message, Time: time.Now()})
	c.e.mu.Unlock()
	c.e.signal()
	return nil
}

func (c *client) WorkDoneProgressCreate(_ context.Context, p *protocol.WorkDoneProgressCreateParams) error {
	c.e.mu.Lock()
	if s, ok := p.Token.(protocol.String); ok {
		c.e.created = append(c.e.created, string(s))
	}
	c.e.mu.Unlock()
	return nil
}

func (c *client) ShowMessage(_ context.Context, p *protocol.ShowMessageParams) error {
	c.e.mu.Lock()
	c.e.messages = append(c.e.messages, *p)
	c.e.mu.Unlock()
	c.e.signal()
	return nil
}

func (c *client) LogMessage(context.Context, *protocol.LogMessageParams) error { return nil }

func (c *client) ShowDocument(_ context.Context, p *protocol.ShowDocumentParams) (*protocol.ShowDocumentResult, error) {
	c.e.mu.Lock()
	c.e.shown = append(c.e.shown, string(p.URI))
	c.e.mu.Unlock()
	c.e.signal()
	return &protocol.ShowDocumentResult{Success: true}, nil
}

func (c *client) ApplyEdit(ctx context.Context, p *protocol.ApplyWorkspaceEditParams) (*protocol.ApplyWorkspaceEditResult, error) {
	return c.e.applyEdit(ctx, p)
}

func (c *client) ShowMessageRequest(_ context.Context, p *protocol.ShowMessageRequestParams) (*protocol.MessageActionItem, error) {
	c.e.mu.Lock()
	c.e.requests = append(c.e.requests, *p)
	choice := c.e.Confirm
	c.e.mu.Unlock()
	c.e.signal()
	if choice == "" {
		return nil, nil
	}
	return &protocol.MessageActionItem{Title: choice}, nil
}

// SetConfirm sets the action the user picks on the next prompts ("" dismisses).
func (e *Editor) SetConfirm(choice string) {
	e.mu.Lock()
	e.Confirm = choice
	e.mu.Unlock()
}

// Requests returns the window/showMessageRequest prompts the server sent.
func (e *Editor) Requests() []protocol.ShowMessageRequestParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]protocol.ShowMessageRequestParams(nil), e.requests...)
}

// MessagesContaining returns the messages whose text contains substr.
func (e *Editor) MessagesContaining(substr string) []string {
	var out []string
	for _, m := range e.Messages() {
		if strings.Contains(m.Message, substr) {
			out = append(out, m.Message)
		}
	}
	return out
}
