package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/config"
)

// clientCaps is what the server needs to know of the editor's capabilities.
type clientCaps struct {
	workDoneProgress  bool
	showDocument      bool
	documentChanges   bool
	changeAnnotations bool
	codeActionLiteral bool
	createFiles       bool // workspaceEdit.resourceOperations has "create"
	// answerNotification is set by our own editor plugins (experimental
	// capability lspRouterAnswers): they render lsp-router/answer themselves,
	// so the server does not also open a document or a message.
	answerNotification bool
	// executeCommandWaits: the client wants an action's result in the
	// workspace/executeCommand response (experimental capability
	// lspRouterExecuteCommandWaits, or initializationOptions
	// executeCommandWaits); by default the response comes at once.
	executeCommandWaits bool
	// editorContext: the editor answers lsp-router/context/* requests
	// from its own language servers (experimental capability
	// lspRouterContext; editor_context.go).
	editorContext bool
}

func readCaps(c protocol.ClientCapabilities) clientCaps {
	var cc clientCaps
	if w := c.Window; w != nil {
		cc.workDoneProgress = w.WorkDoneProgress != nil && *w.WorkDoneProgress
		cc.showDocument = w.ShowDocument != nil && w.ShowDocument.Support
	}
	if ws := c.Workspace; ws != nil && ws.WorkspaceEdit != nil {
		we := ws.WorkspaceEdit
		cc.documentChanges = we.DocumentChanges != nil && *we.DocumentChanges
		cc.changeAnnotations = we.ChangeAnnotationSupport != nil
		cc.createFiles = cc.documentChanges && slices.Contains(we.ResourceOperations, protocol.ResourceOperationKindCreate)
	}
	if td := c.TextDocument; td != nil && td.CodeAction != nil {
		cc.codeActionLiteral = len(td.CodeAction.CodeActionLiteralSupport.CodeActionKind.ValueSet) > 0
	}
	if len(c.Experimental) > 0 {
		var exp struct {
			Answers bool `json:"lspRouterAnswers"`
			Waits   bool `json:"lspRouterExecuteCommandWaits"`
			Context bool `json:"lspRouterContext"`
		}
		if json.Unmarshal(c.Experimental, &exp) == nil {
			cc.answerNotification = exp.Answers
			cc.executeCommandWaits = exp.Waits
			cc.editorContext = exp.Context
		}
	}
	return cc
}

// Initialize records the client's capabilities and settings, builds the
// engine, and answers with what the server offers.
func (s *Server) Initialize(ctx context.Context, params *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	ws := workspaceRoot(params)
	// The wait opt-in is the server's, not a configuration key.
	initOptions, waits := splitWaitOption(params.InitializationOptions)
	s.mu.Lock()
	s.workspace = ws
	s.clientName = params.ClientInfo.Name
	s.caps = readCaps(params.Capabilities)
	s.caps.executeCommandWaits = s.caps.executeCommandWaits || waits
	if params.ProcessID != nil && *params.ProcessID > 0 {
		s.parentPID = int(*params.ProcessID)
	}
	s.mu.Unlock()
	s.conf.mu.Lock()
	if !config.SettingsEmpty(json.RawMessage(initOptions)) {
		s.conf.settings = slices.Clone(json.RawMessage(initOptions))
	}
	s.conf.mu.Unlock()
	// The configuration is read for the workspace the editor opens. With
	// a problem the server still starts (an editor shows a dead server
	// badly) but refuses model calls until it is fixed.
	if err := s.refreshConfig(ctx, true, true); err != nil {
		s.readyOnce.Do(func() { close(s.ready) })
	}
	if s.opts.Notice != "" {
		go s.showMessage(context.WithoutCancel(ctx), protocol.MessageTypeWarning, "%s", s.opts.Notice)
	}
	if s.parentPID > 0 {
		go s.watchParent(s.parentPID)
	}
	s.state.Store(stateInitialized)
	s.log.Info("initialized", "client", params.ClientInfo.Name, "workspace", ws, "parent", s.parentPID)

	syncKind := protocol.TextDocumentSyncKindIncremental
	openClose, includeText := true, true
	res := &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			// Only UTF-16 is negotiated: it is the mandatory default, every
			// client supports it, and the router's positions are UTF-16.
			PositionEncoding: protocol.PositionEncodingKindUTF16,
			TextDocumentSync: &protocol.TextDocumentSyncOptions{
				OpenClose: &openClose,
				Change:    &syncKind,
				// The saved text heals a document that fell out of sync.
				Save: &protocol.SaveOptions{IncludeText: &includeText},
			},
			CodeActionProvider: &protocol.CodeActionOptions{
				CodeActionKinds: codeActionKinds,
			},
			ExecuteCommandProvider: protocol.ExecuteCommandOptions{Commands: commandNames()},
		},
		ServerInfo: protocol.ServerInfo{Name: "lsp-router", Version: protocol.NewOptional(s.opts.Version)},
	}
	s.addCompletionCapabilities(&res.Capabilities)
	return res, nil
}

func workspaceRoot(p *protocol.InitializeParams) string {
	if folders, ok := p.WorkspaceFolders.Get(); ok && len(folders) > 0 {
		if path := uriToPath(string(folders[0].URI)); path != "" {
			return path
		}
	}
	//lint:ignore SA1019 editors such as Neovim 0.7 still send rootUri
	if rootURI := p.RootURI; rootURI != nil {
		if path := uriToPath(string(*rootURI)); path != "" {
			return path
		}
	}
	//lint:ignore SA1019 the oldest clients send only rootPath
	if root, ok := p.RootPath.Get(); ok && root != "" {
		return root
	}
	wd, _ := os.Getwd()
	return wd
}

// rebuildEngine replaces the engine for a new configuration. Running
// commands keep the engine they started with.
func (s *Server) rebuildEngine(cfg *config.Config) {
	defer s.readyOnce.Do(func() { close(s.ready) })
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	if s.opts.NewEngine == nil {
		s.mu.Lock()
		s.cfg = cfg
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	ws, client := s.workspace, s.clientName
	s.mu.Unlock()
	engine, err := s.opts.NewEngine(cfg, ws, client)
	if err != nil {
		s.log.Error("build engine", "err", err)
		s.mu.Lock()
		s.engineErr = err
		s.mu.Unlock()
		return
	}
	// Swap first, close after: a command never finds no engine between.
	s.mu.Lock()
	old := s.engine
	s.engine = engine
	s.cfg = cfg
	s.engineErr = nil
	s.mu.Unlock()
	if c, ok := old.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	// Building the engine (catalog, templates) leaves garbage behind; a
	// sidecar idles most of its life, so give that memory back now.
	debug.FreeOSMemory()
	// Documents opened before a rebuild must reach the new engine too.
	if obs, ok := engine.(DocumentObserver); ok {
		s.docs.mu.RLock()
		for _, d := range s.docs.docs {
			obs.DidOpen(d.Path, d.LanguageID, d.Version, d.Text)
		}
		s.docs.mu.RUnlock()
	}
}

// Initialized needs no work: everything was prepared in Initialize.
func (s *Server) Initialized(context.Context, *protocol.InitializedParams) error { return nil }

// Shutdown cancels running commands; the process stays until exit.
func (s *Server) Shutdown(context.Context) error {
	s.state.Store(stateShutdown)
	s.jobs.cancelAll()
	return nil
}

// Exit ends the process: code 0 after shutdown, 1 without.
func (s *Server) Exit(context.Context) error {
	s.exitedByRequest.Store(true)
	s.finish(s.cleanExitCode())
	return nil
}

// DidChangeConfiguration takes the editor's new settings (the user's own,
// merged over the files) and reads the files again. A change that sets
// nothing (empty, null, {}: eglot sends one on connect) keeps the settings
// from before, initializationOptions included.
func (s *Server) DidChangeConfiguration(ctx context.Context, params *protocol.DidChangeConfigurationParams) error {
	s.conf.mu.Lock()
	if !config.SettingsEmpty(json.RawMessage(params.Settings)) {
		s.conf.settings = slices.Clone(json.RawMessage(params.Settings))
		s.conf.settingsChanged = true
	}
	s.conf.mu.Unlock()
	_ = s.refreshConfig(ctx, true, true)
	return nil
}

// ConfigLoader reads the file configuration (user file, then the workspace
// file over it) for a workspace. Stamp is a cheap fingerprint of the files
// Load reads (sizes, times), checked before each command so that a fixed or
// newly trusted file takes effect without a restart.
type ConfigLoader interface {
	Load(workspace string) (*config.Config, error)
	Stamp(workspace string) string
}

// confState is the session's configuration: the files' layers (or their
// problem) and the editor's settings, which together make the effective
// configuration or the error that refuses model calls.
type confState struct {
	mu     sync.Mutex
	loaded bool
	stamp  string
	file   *config.Config
	// fileErr is the files' problem; model calls wait until it is fixed.
	fileErr error
	// settings are the editor's: initializationOptions, then the last
	// didChangeConfiguration that set something.
	settings        json.RawMessage
	settingsChanged bool
	// applied fingerprints the configuration the engine was built with.
	applied string
	// noticeShown: the untrusted-workspace line is shown once a session.
	noticeShown bool
	// shownErr is the configuration error last shown, so one problem is
	// shown once, not on every command.
	shownErr string
}

// settingsError marks a problem in the editor's settings (not the files).
type settingsError struct{ err error }

func (e settingsError) Error() string { return e.err.Error() }

// configErrorMessage is the one line that says what is wrong, where, and
// that model calls wait for the fix.
func configErrorMessage(err error) string {
	detail := err.Error()
	var ce *config.Error
	if errors.As(err, &ce) {
		parts := make([]string, len(ce.Problems))
		for i, p := range ce.Problems {
			parts[i] = p.String()
		}
		detail = strings.Join(parts, "; ")
	}
	var se settingsError
	if errors.As(err, &se) {
		return "lsp-router: the editor's lsp-router settings are invalid, so model calls are refused until valid settings arrive: " + detail + "; fix the lsp-router settings in your editor"
	}
	return "lsp-router: configuration error, so model calls are refused until it is fixed: " + detail + "; fix the file (check it with: lsp-router config validate)"
}

// refreshConfig reads the files again when they changed (always with
// force), merges the editor's settings, rebuilds the engine when the
// effective configuration changed (in the background with async), and
// returns the error that refuses model calls, if any. It tells the user
// once about ignored workspace keys and once about each configuration
// problem.
func (s *Server) refreshConfig(ctx context.Context, force, async bool) error {
	s.mu.Lock()
	ws := s.workspace
	s.mu.Unlock()

	s.conf.mu.Lock()
	changed := s.conf.settingsChanged
	s.conf.settingsChanged = false
	if s.opts.Loader == nil {
		if !s.conf.loaded {
			s.conf.loaded, s.conf.file, changed = true, s.opts.Config, true
		}
	} else if stamp := s.opts.Loader.Stamp(ws); force || !s.conf.loaded || stamp != s.conf.stamp {
		s.conf.loaded, s.conf.stamp, changed = true, stamp, true
		s.conf.file, s.conf.fileErr = s.opts.Loader.Load(ws)
	}
	cfg, err := s.conf.file, s.conf.fileErr
	if err == nil && len(s.conf.settings) > 0 {
		var oerr error
		if cfg, oerr = config.Overlay(cfg, s.conf.settings); oerr != nil {
			err = settingsError{oerr}
		}
	}
	var notice, problem string
	if err == nil && !s.conf.noticeShown {
		if notice = cfg.Provenance.IgnoredNotice(); notice != "" {
			s.conf.noticeShown = true
		}
	}
	if err != nil {
		if msg := configErrorMessage(err); msg != s.conf.shownErr {
			s.conf.shownErr, problem = msg, msg
		}
	} else {
		s.conf.shownErr = ""
	}
	rebuild := false
	if err == nil && changed {
		b, _ := json.Marshal(cfg)
		if string(b) != s.conf.applied {
			s.conf.applied, rebuild = string(b), true
		}
	}
	s.conf.mu.Unlock()

	if notice != "" {
		s.log.Warn(notice)
		go s.showMessage(ctx, protocol.MessageTypeWarning, "%s", notice)
	}
	if problem != "" {
		s.log.Error(problem)
		go s.showMessage(ctx, protocol.MessageTypeError, "%s", problem)
	}
	if err != nil {
		return jsonrpc2.Errorf(jsonrpc2.Code(protocol.LSPErrorCodesRequestFailed), "%s", configErrorMessage(err))
	}
	if rebuild {
		if async {
			go s.rebuildEngine(cfg)
		} else {
			s.rebuildEngine(cfg)
		}
	}
	return nil
}

// watchParent ends the server when the editor process is gone, so a crashed
// editor does not leave lsp-router running.
func (s *Server) watchParent(pid int) {
	t := time.NewTicker(s.opts.ParentPollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.exited:
			return
		case <-t.C:
			if !processAlive(pid) {
				s.log.Info("editor process is gone; exiting", "pid", pid)
				s.finish(1)
				return
			}
		}
	}
}

func uriToPath(u string) string {
	parsed, err := uri.Parse(u)
	if err != nil || !parsed.IsFile() {
		return ""
	}
	return parsed.Path()
}

func pathToURI(path string) string {
	return string(uri.File(path))
}
