package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/doctor"
	"github.com/lsp-router/lsp-router/langserver"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/serena"
)

// contextSources builds the code-context backends in their order: Serena
// when configured, then the editor's own language servers when the editor
// offers them (codectx.EditorSlot: the LSP server attaches the editor to
// each request), then the language servers lsp-router runs itself. Serena
// starts in the background; the own language servers start only when a
// request needs what the sources before them did not answer, and stop
// after context.language_servers_idle_timeout. Building them never blocks
// the editor; requests wait for a starting Serena up to
// serena.start_timeout (deps.Serena).
func contextSources(cfg *config.Config, workspace string, log *slog.Logger, w *wired, deps *router.Deps) []codectx.Source {
	var out []codectx.Source
	if cfg.Serena.Enabled {
		sc := serena.New(serenaConfig(cfg, serenaWorkspace(cfg, workspace), w, log))
		sc.Start()
		out = append(out, sc)
		deps.SerenaAvailable = func() bool { return sc.Status().State == serena.StateReady }
		deps.Serena = sc
		deps.Closers = append(deps.Closers, func() error { return sc.Close() })
	}
	out = append(out, codectx.EditorSlot{})
	backend := langserver.New(langserver.Config{Table: languageTable(cfg), Logger: log,
		IdleTimeout: cfg.Context.LanguageServersIdleTimeout.Duration})
	deps.Closers = append(deps.Closers, func() error { return backend.Close() })
	deps.Verifier = verifier{backend}
	return append(out, syncedBackend{backend})
}

// serenaWorkspace is the project Serena works on: serena.workspace when
// set, else the workspace lsp-router was started for.
func serenaWorkspace(cfg *config.Config, workspace string) string {
	if cfg.Serena.Workspace != "" {
		return cfg.Serena.Workspace
	}
	return workspace
}

// wireFor is env.wire for a command about one file: the code-context
// backends work on the file's project (ask --file), not on the working
// directory, which may be a subdirectory of it or elsewhere.
func (e *env) wireFor(workspace string) (*wired, bool) {
	wd, _ := os.Getwd()
	cfg, ok := e.loadConfig(wd)
	if !ok {
		return nil, false
	}
	if workspace == "" {
		workspace = wd
	}
	w, err := wire(cfg, workspace, e.log, true)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router: %v\n", err)
		return nil, false
	}
	return w, true
}

func serenaConfig(cfg *config.Config, workspace string, w *wired, log *slog.Logger) serena.Config {
	c := serena.Config{Workspace: workspace, Command: cfg.Serena.Command, URL: cfg.Serena.URL,
		CallTimeout: cfg.Serena.Timeout.Duration, StartBudget: cfg.Serena.StartTimeout.Duration, Logger: log}
	if w != nil {
		c.HTTPClient = w.http // streamable HTTP goes through the allowlist too
	}
	return c
}

// languageTable is the built-in table with the user's commands applied.
func languageTable(cfg *config.Config) langserver.Table {
	t := langserver.DefaultTable()
	for lang, ls := range cfg.LanguageServers {
		if ls.Enabled != nil && !*ls.Enabled {
			delete(t, lang)
			continue
		}
		if len(ls.Command) > 0 {
			t[lang] = [][]string{ls.Command}
		}
	}
	return t
}

// syncedBackend adapts the backend's document sync to the engine's
// context-free observer calls: they come from the LSP read loop, which must
// not wait for a language server.
type syncedBackend struct{ *langserver.Backend }

var _ codectx.Lazy = syncedBackend{}

const syncTimeout = 30 * time.Second

func (b syncedBackend) DidOpen(path, languageID string, version int32, text string) {
	// The backend records the text and opens it in the server in the
	// background, so this returns at once and keeps sync order.
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	b.Backend.DidOpen(ctx, path, languageID, version, text)
}

func (b syncedBackend) DidChange(path string, version int32, text string) {
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	b.Backend.DidChange(ctx, path, version, text)
}

func (b syncedBackend) DidClose(path string) {
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	b.Backend.DidClose(ctx, path)
}

// verifier checks an edit with the built-in language server: it shows the
// server the edited text, reads the diagnostics, then restores the text.
type verifier struct{ b *langserver.Backend }

// verifyVersion numbers the verification texts far above any editor
// version, so the backend takes them as newer than what the editor sent;
// the editor's next change resets the document anyway.
var verifyVersion atomic.Int32

func init() { verifyVersion.Store(1 << 30) }

// Verifies reports whether Diagnose would check path (see there), so the
// engine can skip building the edited text when it would not.
func (v verifier) Verifies(ctx context.Context, path, languageID string) bool {
	return codectx.EditorFrom(ctx) == nil || v.b.Running(languageID, path)
}

func (v verifier) Diagnose(ctx context.Context, path, languageID, original, edited string) (before, after []codectx.Diagnostic, err error) {
	if !v.Verifies(ctx, path, languageID) {
		// The editor's language servers gave the context; starting one of
		// our own only to check the edit would cost what editor context
		// saves. The editor shows the edit's diagnostics at once anyway.
		return nil, nil, errors.New("not verified: the editor's language servers provide context and lsp-router runs none for this workspace")
	}
	q := codectx.Query{Path: path, Text: original, LanguageID: languageID, Version: verifyVersion.Add(1)}
	if before, err = v.b.Diagnostics(ctx, q, nil); err != nil {
		return nil, nil, err
	}
	q.Text, q.Version = edited, verifyVersion.Add(1)
	after, err = v.b.Diagnostics(ctx, q, nil)
	if rerr := v.b.DidChange(context.WithoutCancel(ctx), path, verifyVersion.Add(1), original); rerr != nil && err == nil {
		err = rerr
	}
	return before, after, err
}

// serenaVersionLabel names Serena's own version apart from the MCP SDK's,
// which is all its serverInfo carries.
func serenaVersionLabel(res serena.ProbeResult) string {
	mcp := ""
	if res.MCPVersion != "" {
		mcp = " (MCP SDK " + res.MCPVersion + ")"
	}
	if res.Version == "" {
		return "Serena, version not reported" + mcp
	}
	return "Serena " + res.Version + mcp
}

// serenaUsageEnv is the SERENA_USAGE_REPORTING value lsp-router passes to
// the Serena it starts: always false, air-gapped by default.
func serenaUsageEnv() (string, bool) { return "false", true }

// codeContextChecks reports Serena and the language servers for doctor.
func codeContextChecks(ctx context.Context, cfg *config.Config, workspace string) []doctor.Check {
	var out []doctor.Check
	if cfg.Serena.Enabled {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		res := serena.Probe(pctx, serenaConfig(cfg, serenaWorkspace(cfg, workspace), nil, nil))
		cancel()
		c := doctor.Check{Name: "serena"}
		switch {
		case res.Err != nil:
			c.Status, c.Detail, c.Fix = doctor.Fail, res.Err.Error(), "install Serena (uv tool install serena-agent) or set serena.command / serena.url; or set serena.enabled = false"
		default:
			c.Status = doctor.OK
			c.Detail = fmt.Sprintf("%s at %s, %d tools, started in %s", serenaVersionLabel(res), orDash(res.Path), len(res.Tools), res.StartTime.Round(time.Millisecond))
		}
		out = append(out, c)
	} else {
		out = append(out, doctor.Check{Name: "serena", Status: doctor.OK, Detail: "not configured: code context comes from the language servers below",
			Fix: ""})
	}
	for _, r := range langserver.Lookup(languageTable(cfg)) {
		c := doctor.Check{Name: "language server " + r.Language}
		if r.Found {
			c.Status, c.Detail = doctor.OK, r.Path
		} else {
			c.Status, c.Detail = doctor.Warn, fmt.Sprintf("%s not on PATH: context for %s files comes from the buffer only", r.Command[0], r.Language)
			c.Fix = "install it, or set language_servers." + r.Language + ".command"
		}
		out = append(out, c)
	}
	return out
}
