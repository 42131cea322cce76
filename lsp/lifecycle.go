package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"runtime/debug"
	"slices"
	"time"

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
		}
		if json.Unmarshal(c.Experimental, &exp) == nil {
			cc.answerNotification = exp.Answers
		}
	}
	return cc
}

// Initialize records the client's capabilities and settings, builds the
// engine, and answers with what the server offers.
func (s *Server) Initialize(ctx context.Context, params *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	ws := workspaceRoot(params)
	cfg := s.opts.Config
	var cfgErr error
	if len(params.InitializationOptions) > 0 {
		cfg, cfgErr = config.Overlay(cfg, json.RawMessage(params.InitializationOptions))
	}
	s.mu.Lock()
	s.workspace = ws
	s.clientName = params.ClientInfo.Name
	s.caps = readCaps(params.Capabilities)
	s.cfg = cfg
	if params.ProcessID != nil && *params.ProcessID > 0 {
		s.parentPID = int(*params.ProcessID)
	}
	s.mu.Unlock()
	go s.rebuildEngine(cfg)
	if s.opts.Notice != "" {
		go s.showMessage(context.WithoutCancel(ctx), protocol.MessageTypeWarning, "%s", s.opts.Notice)
	}
	if cfgErr != nil {
		// The editor cannot show an error from initialize well; tell the
		// user once initialized and carry on with the file configuration.
		go func() {
			s.showMessage(context.WithoutCancel(ctx), protocol.MessageTypeWarning, "lsp-router: initializationOptions ignored: %v", cfgErr)
		}()
	}
	if s.parentPID > 0 {
		go s.watchParent(s.parentPID)
	}
	s.state.Store(stateInitialized)
	s.log.Info("initialized", "client", params.ClientInfo.Name, "workspace", ws, "parent", s.parentPID)

	syncKind := protocol.TextDocumentSyncKindIncremental
	openClose := true
	return &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			// Only UTF-16 is negotiated: it is the mandatory default, every
			// client supports it, and the router's positions are UTF-16.
			PositionEncoding: protocol.PositionEncodingKindUTF16,
			TextDocumentSync: &protocol.TextDocumentSyncOptions{
				OpenClose: &openClose,
				Change:    &syncKind,
				Save:      protocol.Boolean(false),
			},
			CodeActionProvider: &protocol.CodeActionOptions{
				CodeActionKinds: codeActionKinds,
			},
			ExecuteCommandProvider: protocol.ExecuteCommandOptions{Commands: commandNames()},
		},
		ServerInfo: protocol.ServerInfo{Name: "lsp-router", Version: protocol.NewOptional(s.opts.Version)},
	}, nil
}

func workspaceRoot(p *protocol.InitializeParams) string {
	if folders, ok := p.WorkspaceFolders.Get(); ok && len(folders) > 0 {
		if path := uriToPath(string(folders[0].URI)); path != "" {
			return path
		}
	}
	if p.RootURI != nil {
		if path := uriToPath(string(*p.RootURI)); path != "" {
			return path
		}
	}
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
	s.closeEngine()
	s.mu.Lock()
	s.engine = engine
	s.cfg = cfg
	s.mu.Unlock()
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
	s.finish(s.cleanExitCode())
	return nil
}

// DidChangeConfiguration overlays the editor's new settings on the file
// configuration and rebuilds the engine.
func (s *Server) DidChangeConfiguration(ctx context.Context, params *protocol.DidChangeConfigurationParams) error {
	if settings := bytes.TrimSpace(params.Settings); len(settings) == 0 || string(settings) == "null" || string(settings) == "{}" {
		// Nothing to change. eglot sends {} right after initialize: a
		// rebuild from the file configuration would drop the
		// initializationOptions.
		return nil
	}
	cfg, err := config.Overlay(s.opts.Config, json.RawMessage(params.Settings))
	if err != nil {
		go s.showMessage(context.WithoutCancel(ctx), protocol.MessageTypeWarning, "lsp-router: settings ignored: %v", err)
		return nil
	}
	go s.rebuildEngine(cfg)
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
