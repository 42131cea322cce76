// Package lsp is lsp-router's language server: it serves the editor over
// stdio, keeps the open documents, offers the router's actions as code
// actions and commands, runs them on their own goroutines with progress and
// cancellation, and delivers edits with workspace/applyEdit. It is the one
// place that converts between LSP types and the router's.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/router"
)

// EngineFactory builds the engine for a configuration, workspace root and
// editor (its clientInfo name, for the audit log). It is called after
// initialize and again when the editor changes the settings.
type EngineFactory func(cfg *config.Config, workspace, client string) (router.Engine, error)

// Options configure a Server.
type Options struct {
	// Config is the configuration read from files; the editor's
	// initializationOptions are overlaid on it.
	Config    *config.Config
	NewEngine EngineFactory
	Logger    *slog.Logger
	Version   string
	// ParentPollInterval is how often the editor's process is checked; zero
	// means every 2 seconds.
	ParentPollInterval time.Duration
	// CacheDir is where answers are written as Markdown files for
	// window/showDocument; empty means the user's cache directory.
	CacheDir string
	// Notice, when set, is shown to the user as a warning once the editor
	// is initialized (e.g. a configuration file that could not be used).
	Notice string
	// Loader, when set, reads the configuration for the editor's workspace
	// at initialize and again when its files change, instead of Config.
	Loader ConfigLoader
}

// Server is one editor session.
type Server struct {
	protocol.UnimplementedServer

	opts   Options
	log    *slog.Logger
	docs   *documentStore
	conn   jsonrpc2.Conn
	client protocol.Client

	state atomic.Int32 // lifecycle state

	mu     sync.Mutex
	cfg    *config.Config
	engine router.Engine
	// ready is closed once the first engine build finished (or failed);
	// building it off the initialize path keeps start-up fast.
	ready      chan struct{}
	readyOnce  sync.Once
	engineErr  error
	rebuildMu  sync.Mutex // one engine build at a time
	workspace  string
	clientName string // the editor's clientInfo name
	caps       clientCaps
	parentPID  int

	jobs *jobTable
	conf confState // configuration layers and problems (lifecycle.go)

	completion completions // inline completion (inline_completion.go)

	exitOnce sync.Once
	exitCode int
	exited   chan struct{}
	// exitedByRequest: the editor sent exit (not a closed stream or dead
	// parent), so the session ends without waiting for the stream.
	exitedByRequest atomic.Bool
}

const (
	stateNew int32 = iota
	stateInitialized
	stateShutdown
)

// Serve runs the server on stream until the editor sends exit, the stream
// closes, or the editor's process dies. It returns the process exit code:
// 0 after shutdown+exit, 1 otherwise, as the specification asks.
func Serve(ctx context.Context, stream jsonrpc2.Stream, opts Options) int {
	s := newServer(opts)
	conn := s.start(ctx, stream)
	// A stream that met a framing error reports it (and has logged why);
	// stop then even if a command still holds the connection open.
	var broken <-chan struct{}
	if b, ok := stream.(interface{ Broken() <-chan struct{} }); ok {
		broken = b.Broken()
	}
	select {
	case <-conn.Done():
		if err := conn.Err(); err != nil {
			s.log.Error("editor connection failed", "err", err)
		} else {
			s.log.Info("editor connection closed")
		}
		s.finish(s.cleanExitCode())
	case <-broken:
		s.finish(1)
	case <-s.exited:
	case <-ctx.Done():
		s.finish(1)
	}
	s.jobs.cancelAll()
	s.closeEngineAfterExit()
	// Close waits for the reader, which may sit in a read of stdin that
	// only the editor can end: never let that keep the process alive.
	// After exit nothing is left to read or write (exit is a notification
	// and every response went out before it was read), so the process
	// ends at once instead of waiting for an editor that keeps stdin open.
	closed := make(chan struct{})
	go func() {
		_ = conn.Close()
		close(closed)
	}()
	grace := 500 * time.Millisecond
	select {
	case <-s.exited:
		if s.exitedByRequest.Load() {
			grace = 0
		}
	default:
	}
	select {
	case <-closed:
	case <-time.After(grace):
		if grace > 0 {
			s.log.Debug("connection did not close; exiting anyway")
		}
	}
	return s.exitCode
}

func newServer(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Config == nil {
		opts.Config = config.Default()
	}
	if opts.ParentPollInterval == 0 {
		opts.ParentPollInterval = 2 * time.Second
	}
	return &Server{
		opts:   opts,
		log:    opts.Logger,
		docs:   newDocumentStore(),
		cfg:    opts.Config,
		jobs:   newJobTable(),
		exited: make(chan struct{}),
		ready:  make(chan struct{}),
	}
}

// start wires the connection: cancellation outermost, then our middleware
// (logging, panic recovery, lifecycle guard, concurrency), then the typed
// dispatcher.
func (s *Server) start(ctx context.Context, stream jsonrpc2.Stream) jsonrpc2.Conn {
	conn := jsonrpc2.NewConn(stream, jsonrpc2.WithCodec(Codec{}))
	s.conn = conn
	s.client = protocol.ClientDispatcher(conn)
	ctx = protocol.WithClient(ctx, s.client)
	inner := s.middleware(protocol.ServerHandler(s, jsonrpc2.MethodNotFoundHandler))
	cancellable := protocol.CancelHandler(inner)
	conn.Go(ctx, s.tolerate(func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		switch {
		case inlineMethods[req.Method()]:
			// Not wrapped for cancellation: jsonrpc2's CancelHandler derives
			// a context that outlives a request handled inline, and these
			// are quick anyway.
			return inner(ctx, req)
		case req.Method() == protocol.MethodCancelRequest:
			return cancellable(ctx, req)
		}
		jsonrpc2.Async(ctx)
		return cancellable(ctx, req)
	}))
	return conn
}

func (s *Server) finish(code int) {
	s.exitOnce.Do(func() {
		s.exitCode = code
		close(s.exited)
	})
}

func (s *Server) cleanExitCode() int {
	if s.state.Load() == stateShutdown {
		return 0
	}
	return 1
}

// inlineMethods are handled on the read loop, in wire order: document sync
// must apply in order, and initialize must finish before anything else is
// read. None of them calls back into the client, which would deadlock.
var inlineMethods = map[string]bool{
	protocol.MethodInitialize:                      true,
	protocol.MethodInitialized:                     true,
	protocol.MethodShutdown:                        true,
	protocol.MethodExit:                            true,
	protocol.MethodTextDocumentDidOpen:             true,
	protocol.MethodTextDocumentDidChange:           true,
	protocol.MethodTextDocumentDidClose:            true,
	protocol.MethodTextDocumentDidSave:             true,
	protocol.MethodWorkspaceDidChangeConfiguration: true,
	protocol.MethodWindowWorkDoneProgressCancel:    true,
}

func (s *Server) middleware(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
		method := req.Method()
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in handler", "method", method, "panic", p, "stack", string(debug.Stack()))
				result, err = nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error in %s: %v (the server keeps running; please report this with the log)", method, p)
			}
			level := slog.LevelDebug
			if err != nil && !errors.Is(err, protocol.ErrRequestCancelled) {
				level = slog.LevelWarn
			}
			s.log.Log(ctx, level, "handled", "method", method, "call", req.IsCall(), "ms", time.Since(start).Milliseconds(), "err", err)
		}()
		if err := s.guard(method, req.IsCall()); err != nil {
			if !req.IsCall() {
				s.log.Debug("dropped notification", "method", method, "reason", err)
				return nil, nil
			}
			return nil, err
		}
		return next(ctx, req)
	}
}

// guard enforces the lifecycle: nothing but initialize (and exit) before
// initialize, nothing but exit after shutdown.
func (s *Server) guard(method string, isCall bool) error {
	switch s.state.Load() {
	case stateNew:
		if method == protocol.MethodInitialize || method == protocol.MethodExit {
			return nil
		}
		return jsonrpc2.Errorf(jsonrpc2.ServerNotInitialized, "%s before initialize: send initialize first", method)
	case stateShutdown:
		if method == protocol.MethodExit {
			return nil
		}
		return jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "%s after shutdown: only exit is accepted now", method)
	default:
		if method == protocol.MethodInitialize {
			return jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "initialize sent twice")
		}
		return nil
	}
}

// currentEngine waits for the engine built at initialize.
func (s *Server) currentEngine(ctx context.Context) (router.Engine, *config.Config, error) {
	if err := s.refreshConfig(ctx, false, false); err != nil {
		return nil, nil, err // a configuration problem refuses model calls
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.engine == nil {
		msg := "lsp-router could not start its engine"
		if s.engineErr != nil {
			msg += ": " + s.engineErr.Error()
		}
		return nil, s.cfg, errors.New(msg + "; fix the configuration and restart, or run lsp-router doctor")
	}
	return s.engine, s.cfg, nil
}

// closeEngineAfterExit closes the engine, but after the editor's exit
// waits only briefly: language servers and Serena it started read our
// pipes and end on their own when this process does.
func (s *Server) closeEngineAfterExit() {
	if !s.exitedByRequest.Load() {
		s.closeEngine()
		return
	}
	done := make(chan struct{})
	go func() {
		s.closeEngine()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Millisecond):
		s.log.Debug("engine still closing at exit; its helpers end with this process")
	}
}

func (s *Server) closeEngine() {
	s.mu.Lock()
	e := s.engine
	s.engine = nil
	s.mu.Unlock()
	if c, ok := e.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// notify sends a notification with a payload marshalled by encoding/json
// (our own types are not part of the generated codec).
func (s *Server) notify(ctx context.Context, method string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("marshal notification", "method", method, "err", err)
		return
	}
	if err := s.conn.Notify(context.WithoutCancel(ctx), method, jsonrpc2.RawMessage(b)); err != nil {
		s.log.Debug("notify failed", "method", method, "err", err)
	}
}

func (s *Server) showMessage(ctx context.Context, typ protocol.MessageType, format string, args ...any) {
	err := s.client.ShowMessage(context.WithoutCancel(ctx), &protocol.ShowMessageParams{Type: typ, Message: fmt.Sprintf(format, args...)})
	if err != nil {
		s.log.Debug("showMessage failed", "err", err)
	}
}

// Codec mirrors go.lsp.dev/protocol's unexported codec: protocol types go
// through the generated union-aware encoder, raw messages pass verbatim.
// NewServer hard-wires its own handler chain, so we build the connection
// ourselves to insert middleware and keep document sync ordered.
type Codec struct{}

func (Codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	case *jsonrpc2.RawMessage:
		if m == nil || *m == nil {
			return []byte("null"), nil
		}
		return *m, nil
	}
	return protocol.Marshal(v)
}

func (Codec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}
