package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/router"
)

// `lsp-router mcp` serves the engine to coding agents (Claude Code, Codex
// CLI, opencode, Qwen Code...) as MCP tools. The tools run the same
// pipeline as the editor and the CLI: same allowlist, pins, fallback,
// verification and audit. Only the transport and the 1-based positions
// differ.

type mcpFlags struct {
	http      string
	workspace string
}

func init() {
	var f mcpFlags
	register(&command{
		name:    "mcp",
		summary: "serve the engine to coding agents as MCP tools (stdio, or streamable HTTP on loopback)",
		usage:   "[--http 127.0.0.1:PORT] [--workspace DIR]",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.http, "http", "", "serve streamable HTTP at `addr` (loopback only, e.g. 127.0.0.1:8765) instead of stdio; the endpoint is /mcp")
			fs.StringVar(&f.workspace, "workspace", "", "the `dir` whose files the tools may read and write (default: the working directory)")
		},
		run: func(e *env, _ *flag.FlagSet, _ []string) int { return runMCP(e, f) },
	})
}

func runMCP(e *env, f mcpFlags) int {
	ws, err := mcpWorkspace(f.workspace)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router mcp: %v\n", err)
		return exitUsage
	}
	if f.http != "" {
		if err := checkLoopback(f.http); err != nil {
			fmt.Fprintf(e.stderr, "lsp-router mcp: %v\n", err)
			return exitUsage
		}
	}
	cfg, ok := e.loadConfig(ws)
	if !ok {
		return exitFailure
	}
	s := newMCPService(cfg, ws, e.log)
	defer s.close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if f.http == "" {
		// stdout carries the protocol: every message of ours goes to stderr.
		if err := s.server.Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil && !isClosedInput(err) {
			fmt.Fprintf(e.stderr, "lsp-router mcp: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	ln, err := net.Listen("tcp", f.http)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router mcp: %v\n", err)
		return exitFailure
	}
	mux := http.NewServeMux()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.server },
		&mcp.StreamableHTTPOptions{Logger: e.log, SessionTimeout: mcpSessionTimeout})
	// The SDK refuses foreign Host headers (DNS rebinding); this refuses
	// requests a web page in the user's browser sends cross-origin.
	mux.Handle("/mcp", http.NewCrossOriginProtection().Handler(h))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stderr, "lsp-router mcp: serving MCP at http://%s/mcp for the workspace %s\n", ln.Addr(), ws)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(e.stderr, "lsp-router mcp: %v\n", err)
		return exitFailure
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return exitOK
}

// mcpSessionTimeout closes HTTP sessions an agent left idle, so agents
// that come and go do not pile up.
const mcpSessionTimeout = 30 * time.Minute

// isClosedInput is the end of a stdio session: the agent closed our stdin.
func isClosedInput(err error) bool {
	return errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// mcpWorkspace resolves the directory the tools work in.
func mcpWorkspace(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("--workspace %s is not a directory: name the project the agent works on", dir)
	}
	return abs, nil
}

// checkLoopback refuses listen addresses beyond this machine: the MCP
// endpoint has no authentication, and its tools read the workspace.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q is not HOST:PORT: use e.g. 127.0.0.1:8765", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--http %s is not a loopback address: the MCP server has no authentication, so it only listens on 127.0.0.1 or [::1] (e.g. --http 127.0.0.1:8765)", addr)
}

// mcpService holds the MCP server and its engines: the CLI's (wire), one
// for every agent without an [agents.NAME] table, and one per agent that
// has one (its routing applied). Agents are told apart by the name they
// give (clientInfo), which each request stamps on its audit records.
type mcpService struct {
	cfg       *config.Config
	workspace string
	log       *slog.Logger
	server    *mcp.Server

	mu      sync.Mutex
	engines map[string]*wired // by routingKey
	// versions counts the texts each file was given to the language
	// servers with, per engine, so a re-read file is a change, not a
	// second open.
	versions map[string]map[string]int32
	closed   bool
}

func newMCPService(cfg *config.Config, workspace string, log *slog.Logger) *mcpService {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The read cap applies to the files the tools name, read before any
	// engine is wired.
	safefile.SetMaxBytes(cfg.Context.MaxFileBytes)
	s := &mcpService{cfg: cfg, workspace: workspace, log: log, engines: map[string]*wired{}, versions: map[string]map[string]int32{}}
	s.server = mcp.NewServer(&mcp.Implementation{Name: "lsp-router", Title: "lsp-router", Version: version},
		&mcp.ServerOptions{
			Instructions: "lsp-router routes coding questions and edits to the local LLM servers of this network, with the code context of the workspace " + workspace + ". Lines and columns are 1-based.",
			Logger:       log,
			// Tools only: no logging, prompts or resources.
			Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
		})
	s.addTools()
	return s
}

// close stops every engine (language servers, Serena, discovery).
func (s *mcpService) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, w := range s.engines {
		w.close()
	}
	s.engines = map[string]*wired{}
}

// maxAgentName bounds the agent name taken from the client, which is
// untrusted text that ends up in the audit log.
const maxAgentName = 64

// agentName is the audit and [agents.NAME] name of the client that sent
// req: its clientInfo name in lower case, reduced to a short token of
// letters, digits and "-_.". Agents are not editors, so the editors'
// NormalizeAgent (which reads "zed" in any name containing it) is not used.
func agentName(req *mcp.CallToolRequest) string {
	name := ""
	if info := req.ClientInfo(); info != nil {
		name = info.Name
	}
	return cleanAgentName(name)
}

func cleanAgentName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if b.Len() >= maxAgentName {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "unknown"
	}
	return out
}

// configFor is the configuration with agent's task_routing entries
// replacing the top-level ones of the same category.
func configFor(cfg *config.Config, agent string) *config.Config {
	a, ok := cfg.Agents[agent]
	if !ok || len(a.TaskRouting) == 0 {
		return cfg
	}
	c := *cfg
	c.TaskRouting = maps.Clone(cfg.TaskRouting)
	if c.TaskRouting == nil {
		c.TaskRouting = map[string]config.TaskRouting{}
	}
	maps.Copy(c.TaskRouting, a.TaskRouting)
	return &c
}

// routingKey is the engine an agent uses: its own when the configuration
// routes it differently, else the shared one (""). Engines are thus
// bounded by the configuration, not by the names clients send.
func (s *mcpService) routingKey(agent string) string {
	if a, ok := s.cfg.Agents[agent]; ok && len(a.TaskRouting) > 0 {
		return agent
	}
	return ""
}

// engineFor returns the agent's engine, building it on first use.
func (s *mcpService) engineFor(agent string) (*wired, error) {
	key := s.routingKey(agent)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("the server is shutting down")
	}
	if w, ok := s.engines[key]; ok {
		return w, nil
	}
	w, err := wire(configFor(s.cfg, key), s.workspace, s.log, true)
	if err != nil {
		return nil, err
	}
	s.engines[key] = w
	s.versions[key] = map[string]int32{}
	return w, nil
}

// syncFile gives the language servers the text the request was built on,
// as an editor would: open the first time, a change after.
func (s *mcpService) syncFile(agent string, w *wired, req router.Request) {
	s.mu.Lock()
	vs := s.versions[s.routingKey(agent)]
	v := vs[req.Query.Path] + 1
	vs[req.Query.Path] = v
	s.mu.Unlock()
	if v == 1 {
		w.engine.DidOpen(req.Query.Path, req.Query.LanguageID, v, req.Query.Text)
	} else {
		w.engine.DidChange(req.Query.Path, v, req.Query.Text)
	}
}

// allowApply reports whether propose_edit may write: mcp.allow_apply set
// in the user's own configuration (or the editor's), never by a workspace
// file, trusted or not, since it hands writes to whatever drives the agent.
func (s *mcpService) allowApply() bool {
	if !s.cfg.MCP.AllowApply {
		return false
	}
	if s.cfg.Provenance == nil {
		return true
	}
	switch s.cfg.Provenance.Origins["mcp.allow_apply"] {
	case config.OriginUser, config.OriginEditor:
		return true
	}
	return false
}
