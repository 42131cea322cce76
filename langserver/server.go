package langserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/internal/logline"
)

// server is one running language server for one language and root.
type server struct {
	lang, root string
	command    []string
	log        *slog.Logger

	ready chan struct{} // closed when initialized (or failed: see err)
	err   error         // set before ready is closed when the start failed

	cmd  *exec.Cmd
	conn jsonrpc2.Conn
	srv  protocol.Server
	caps protocol.ServerCapabilities

	mu       sync.Mutex
	pull     bool                   // textDocument/diagnostic is available
	diags    map[uri.URI]*published // latest publishDiagnostics per document
	changed  chan struct{}          // closed and replaced at every publish
	opened   map[string]sentDoc     // path -> what the server was last sent
	lastPull map[uri.URI][]protocol.Diagnostic
	exited   bool

	used atomic.Int64 // unix nanoseconds of the last request that needed it
	// cancelStart aborts a start in progress; the start then kills the
	// process itself (s.cmd and s.conn belong to the starting goroutine).
	cancelStart context.CancelFunc
}

// touch records that a request used the server now.
func (s *server) touch() { s.used.Store(time.Now().UnixNano()) }

// lastUsed is when a request last used the server.
func (s *server) lastUsed() time.Time { return time.Unix(0, s.used.Load()) }

// incremental reports whether the server takes ranged changes
// (textDocumentSync change kind Incremental); it is read after ready.
func (s *server) incremental() bool {
	switch k := s.caps.TextDocumentSync.(type) {
	case protocol.TextDocumentSyncKind:
		return k == protocol.TextDocumentSyncKindIncremental
	case *protocol.TextDocumentSyncOptions:
		return k != nil && k.Change != nil && *k.Change == protocol.TextDocumentSyncKindIncremental
	}
	return false
}

// sentDoc is the version and text of a document as the server has it.
type sentDoc struct {
	version int32
	text    string
}

// published is the latest publishDiagnostics of one document.
type published struct {
	version int32 // 0 when the server sends no version
	seq     uint64
	diags   []protocol.Diagnostic
}

// startServer launches command for lang in root and performs the LSP
// handshake in the background; s.ready closes when it is done.
func startServer(lang, root string, command []string, log *slog.Logger, initTimeout time.Duration) *server {
	s := &server{lang: lang, root: root, command: command, log: log.With("language", lang, "root", root),
		ready: make(chan struct{}), diags: map[uri.URI]*published{}, changed: make(chan struct{}),
		opened: map[string]sentDoc{}, lastPull: map[uri.URI][]protocol.Diagnostic{}}
	s.touch()
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	s.cancelStart = cancel
	go func() {
		defer cancel()
		s.err = s.start(ctx)
		if s.err != nil {
			s.log.Warn("language server failed to start", "error", s.err)
		}
		close(s.ready)
	}()
	return s
}

// procRWC joins a subprocess's stdout and stdin into one stream.
type procRWC struct {
	io.ReadCloser
	in io.WriteCloser
}

func (p procRWC) Write(b []byte) (int, error) { return p.in.Write(b) }
func (p procRWC) Close() error {
	err := p.in.Close()
	_ = p.ReadCloser.Close()
	return err
}

func (s *server) start(ctx context.Context) error {
	path, err := exec.LookPath(s.command[0])
	if err != nil {
		return fmt.Errorf("start %s language server: %w: install it or set its command in the configuration", s.lang, err)
	}
	cmd := exec.Command(path, s.command[1:]...)
	cmd.Dir = s.root
	cmd.Stderr = &logline.Writer{Log: s.log, Level: slog.LevelDebug, Msg: "language server stderr"}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", strings.Join(s.command, " "), err)
	}
	s.cmd = cmd
	_, conn, srv := protocol.NewClient(context.Background(), &client{s: s}, jsonrpc2.NewStream(procRWC{stdout, stdin}))
	s.conn, s.srv = conn, srv
	go func() {
		<-conn.Done()
		s.mu.Lock()
		s.exited = true
		s.mu.Unlock()
		_ = cmd.Wait()
		s.log.Info("language server exited", "error", conn.Err())
	}()

	pid := int32(os.Getpid())
	rootURI := uri.File(s.root)
	yes := true
	params := &protocol.InitializeParams{
		ProcessID:  &pid,
		ClientInfo: protocol.ClientInfo{Name: "lsp-router"},
		//lint:ignore SA1019 older servers read only rootUri
		RootURI: &rootURI,
		Capabilities: protocol.ClientCapabilities{
			Workspace: &protocol.WorkspaceClientCapabilities{Configuration: &yes, WorkspaceFolders: &yes},
			TextDocument: &protocol.TextDocumentClientCapabilities{
				Synchronization:    &protocol.TextDocumentSyncClientCapabilities{},
				Hover:              &protocol.HoverClientCapabilities{ContentFormat: []protocol.MarkupKind{protocol.MarkupKindMarkdown, protocol.MarkupKindPlainText}},
				DocumentSymbol:     &protocol.DocumentSymbolClientCapabilities{HierarchicalDocumentSymbolSupport: &yes},
				References:         &protocol.ReferenceClientCapabilities{},
				Definition:         &protocol.DefinitionClientCapabilities{},
				PublishDiagnostics: &protocol.PublishDiagnosticsClientCapabilities{VersionSupport: &yes},
				Diagnostic:         &protocol.DiagnosticClientCapabilities{},
			},
			Window: &protocol.WindowClientCapabilities{WorkDoneProgress: &yes},
		},
	}
	params.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: rootURI, Name: filepath.Base(s.root)}})
	res, err := srv.Initialize(ctx, params)
	if err != nil {
		s.kill()
		return fmt.Errorf("initialize %s: %w", s.command[0], err)
	}
	s.caps = res.Capabilities
	s.mu.Lock()
	s.pull = s.caps.DiagnosticProvider != nil
	s.mu.Unlock()
	if err := srv.Initialized(ctx, &protocol.InitializedParams{}); err != nil {
		s.kill()
		return fmt.Errorf("initialized %s: %w", s.command[0], err)
	}
	s.log.Info("language server ready", "command", s.command, "pull_diagnostics", s.pull)
	return nil
}

// alive reports whether the server started and has not exited.
func (s *server) alive() bool {
	select {
	case <-s.ready:
	default:
		return true // still starting
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err == nil && !s.exited
}

// wait blocks until the server is initialized or ctx is done.
func (s *server) wait(ctx context.Context) error {
	select {
	case <-s.ready:
		return s.err
	case <-ctx.Done():
		return fmt.Errorf("%s language server still starting: %w", s.lang, ctx.Err())
	}
}

func (s *server) kill() {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
}

// shutdown asks the server to exit, then kills it if it does not.
func (s *server) shutdown(ctx context.Context) {
	select {
	case <-s.ready:
	default:
		// Still starting: it holds nothing worth a graceful exit, and
		// waiting for its handshake would hold up the editor's exit.
		s.cancelStart()
		return
	}
	if s.err != nil || s.srv == nil {
		s.kill()
		return
	}
	if err := s.srv.Shutdown(ctx); err == nil {
		_ = s.srv.Exit(ctx)
	}
	done := make(chan struct{})
	go func() { _ = s.conn.Close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.kill()
}

// publish records a publishDiagnostics notification and wakes waiters.
func (s *server) publish(p *protocol.PublishDiagnosticsParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.diags[p.URI]
	pub := &published{diags: p.Diagnostics}
	if v, ok := p.Version.Get(); ok {
		pub.version = v
	}
	if prev != nil {
		pub.seq = prev.seq + 1
	}
	s.diags[p.URI] = pub
	close(s.changed)
	s.changed = make(chan struct{})
}

// client answers the requests and notifications a language server sends.
type client struct {
	protocol.UnimplementedClient
	s *server
}

func (c *client) PublishDiagnostics(_ context.Context, p *protocol.PublishDiagnosticsParams) error {
	c.s.publish(p)
	return nil
}

// Configuration answers null for every item: servers then use their
// defaults, as with an editor that has no settings for them.
func (c *client) Configuration(_ context.Context, p *protocol.ConfigurationParams) ([]protocol.LSPAny, error) {
	out := make([]protocol.LSPAny, len(p.Items))
	for i := range out {
		out[i] = protocol.LSPAny("null")
	}
	return out, nil
}

func (c *client) WorkspaceFolders(context.Context) ([]protocol.WorkspaceFolder, error) {
	return []protocol.WorkspaceFolder{{URI: uri.File(c.s.root), Name: filepath.Base(c.s.root)}}, nil
}

func (c *client) RegisterCapability(_ context.Context, p *protocol.RegistrationParams) error {
	for _, r := range p.Registrations {
		if r.Method == protocol.MethodTextDocumentDiagnostic {
			c.s.mu.Lock()
			c.s.pull = true
			c.s.mu.Unlock()
		}
	}
	return nil
}

func (c *client) UnregisterCapability(context.Context, *protocol.UnregistrationParams) error {
	return nil
}
func (c *client) WorkDoneProgressCreate(context.Context, *protocol.WorkDoneProgressCreateParams) error {
	return nil
}
func (c *client) Progress(context.Context, *protocol.ProgressParams) error { return nil }
func (c *client) LogMessage(_ context.Context, p *protocol.LogMessageParams) error {
	c.s.log.Debug("language server log", "message", messageText(p.Message))
	return nil
}
func (c *client) ShowMessage(_ context.Context, p *protocol.ShowMessageParams) error {
	c.s.log.Info("language server message", "message", messageText(p.Message))
	return nil
}
func (c *client) ShowMessageRequest(_ context.Context, p *protocol.ShowMessageRequestParams) (*protocol.MessageActionItem, error) {
	c.s.log.Info("language server message", "message", messageText(p.Message))
	return nil, nil
}
func (c *client) Telemetry(context.Context, protocol.LSPAny) error { return nil }

// ApplyEdit refuses: the built-in backend only reads.
func (c *client) ApplyEdit(context.Context, *protocol.ApplyWorkspaceEditParams) (*protocol.ApplyWorkspaceEditResult, error) {
	return &protocol.ApplyWorkspaceEditResult{Applied: false}, nil
}
func (c *client) CodeLensRefresh(context.Context) error       { return nil }
func (c *client) SemanticTokensRefresh(context.Context) error { return nil }
func (c *client) InlayHintRefresh(context.Context) error      { return nil }
func (c *client) InlineValueRefresh(context.Context) error    { return nil }
func (c *client) FoldingRangeRefresh(context.Context) error   { return nil }
func (c *client) DiagnosticRefresh(context.Context) error     { return nil }

func messageText(m any) string {
	switch v := m.(type) {
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(m)
}

var errNoServer = errors.New("no language server configured for this language")

// noteErr notices a server that died under a call: a transport error (not
// a JSON-RPC error answer) followed by the connection closing marks the
// server exited, so the next request starts a new one instead of failing.
func (s *server) noteErr(err error) {
	var rpcErr *jsonrpc2.Error
	if err == nil || errors.As(err, &rpcErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	select {
	case <-s.conn.Done():
	case <-time.After(200 * time.Millisecond):
		return
	}
	s.mu.Lock()
	s.exited = true
	s.mu.Unlock()
}
