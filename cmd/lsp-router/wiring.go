package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/catalog"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/discovery"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/prompt"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/router/session"
	"github.com/lsp-router/lsp-router/security"
	"github.com/lsp-router/lsp-router/security/audit"
	"github.com/lsp-router/lsp-router/security/checksum"
	"github.com/lsp-router/lsp-router/security/redact"
)

// engineFactory builds the router engine for the LSP server.
func engineFactory(e *env) lsp.EngineFactory {
	return func(cfg *config.Config, workspace, client string) (router.Engine, error) {
		if client != "" {
			setAuditAgent(audit.NormalizeAgent(client))
		}
		w, err := wire(cfg, workspace, e.log, true)
		if err != nil {
			return nil, err
		}
		return w.engine, nil
	}
}

// wired is everything built from one configuration.
type wired struct {
	cfg       *config.Config
	engine    *router.Pipeline
	cache     *discovery.Cache
	discCfg   discovery.Config
	dialer    *security.Dialer
	http      *http.Client
	audit     *audit.Log
	auditErr  error
	keyErrors []string
}

// auditLogs keeps one open audit log per path for the process: the engine
// is rebuilt on every settings change, the log's chain must not be.
var auditLogs = struct {
	sync.Mutex
	m     map[string]*audit.Log
	agent string // the editor, when it said who it is
}{m: map[string]*audit.Log{}}

// setAuditAgent records the editor's name for logs opened from now on; the
// editor's own clientInfo beats guessing from the parent process.
func setAuditAgent(agent string) {
	auditLogs.Lock()
	defer auditLogs.Unlock()
	auditLogs.agent = agent
}

func openAudit(cfg *config.Config) (*audit.Log, error) {
	path := cfg.AuditPath()
	auditLogs.Lock()
	defer auditLogs.Unlock()
	if l, ok := auditLogs.m[path]; ok {
		return l, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log directory: %w", err)
	}
	opts := audit.DefaultOptions()
	if cfg.Security.AuditMaxBytes > 0 {
		opts.MaxBytes = cfg.Security.AuditMaxBytes
	}
	opts.Agent = auditLogs.agent
	opts.Plaintext = cfg.Security.LogQueriesPlaintext
	opts.LogResponses = cfg.Security.LogResponses
	l, err := audit.Open(path, opts)
	if err != nil {
		return nil, err
	}
	auditLogs.m[path] = l
	return l, nil
}

func policyOf(cfg *config.Config) security.Policy {
	return security.Policy{AllowExternal: cfg.Security.AllowExternal, AllowedHosts: cfg.Security.AllowedHosts,
		AllowedCIDRs: cfg.Security.AllowedCIDRs, AllowProxy: cfg.Security.AllowProxy}
}

// wire builds the engine and its parts from cfg. withSources starts the code
// context backends (the CLI's route and models commands do not need them).
func wire(cfg *config.Config, workspace string, log *slog.Logger, withSources bool) (*wired, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &wired{cfg: cfg}
	if cfg.Security.AuditEnabled {
		w.audit, w.auditErr = openAudit(cfg)
		if w.auditErr != nil {
			log.Error("audit log unavailable; queries are not recorded", "err", w.auditErr)
		}
	}
	dialer, err := security.NewDialer(policyOf(cfg),
		security.WithConnectTimeout(cfg.Generation.ConnectTimeout.Or(2*time.Second)),
		security.WithOnDeny(func(ctx context.Context, d *security.DeniedError) {
			log.Warn("connection refused by the network allowlist", "host", d.Host, "rule", d.Rule)
			if w.audit != nil {
				w.audit.Write(audit.Event{Type: audit.EventSecurity, Target: d.Host, Rule: string(d.Rule), Detail: d.Error(), Success: false})
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("security: %w", err)
	}
	w.dialer, w.http = dialer, dialer.HTTPClient()

	dc := discovery.Config{Defaults: map[llm.Kind]discovery.EndpointConfig{}, HTTPClient: w.http, ProbeTimeout: cfg.Routing.ProbeTimeout.Duration,
		MayResolve: dialer.MayResolve}
	for name, s := range cfg.Services {
		key, err := llm.LoadAPIKey(s.APIKeyEnv, s.APIKeyFile)
		if err != nil {
			w.keyErrors = append(w.keyErrors, fmt.Sprintf("services.%s: %v", name, err))
		}
		dc.Defaults[llm.Kind(name)] = discovery.EndpointConfig{Enabled: s.IsEnabled(), Endpoint: s.Endpoint, Priority: s.Priority, Timeout: s.Timeout.Duration, APIKey: key}
	}
	for _, c := range cfg.CustomEndpoints {
		key, err := llm.LoadAPIKey(c.APIKeyEnv, c.APIKeyFile)
		if err != nil {
			w.keyErrors = append(w.keyErrors, fmt.Sprintf("custom endpoint %s: %v", c.Name, err))
		}
		dc.Custom = append(dc.Custom, discovery.CustomEndpoint{Name: c.Name, Endpoint: c.Endpoint, Priority: c.Priority, APIStyle: llm.APIStyle(c.APIStyle), APIKey: key})
	}
	w.discCfg = dc
	w.cache, err = discovery.NewCache(dc, cfg.Routing.DiscoveryTTL.Duration)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	for _, k := range w.keyErrors {
		log.Warn(k)
	}

	cat, err := loadCatalog(cfg)
	if err != nil {
		return nil, err
	}
	prompts, err := prompt.New(cfg.Prompts)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	table := selection.Table{}
	for c, r := range cfg.TaskRouting {
		table[c] = selection.Routing{Primary: r.PrimaryModels, Fallback: r.FallbackModels, MinContext: r.MinContext, RequireSerena: r.RequireSerena}
	}
	redactor, err := redact.New(cfg.Security.Redaction.ExtraPatterns)
	if err != nil {
		return nil, fmt.Errorf("security.redaction.extra_patterns: %w", err)
	}
	llmOpts := llm.Options{
		FirstTokenTimeout: cfg.Generation.FirstTokenTimeout.Duration,
		IdleTimeout:       cfg.Generation.IdleTimeout.Duration,
		KeepAlive:         cfg.Generation.KeepAlive,
	}
	deps := router.Deps{
		Services:  w.cache,
		NewClient: func(svc llm.Service) llm.Client { return llm.NewClient(svc, w.http, llmOpts) },
		Catalog:   cat,
		Routing:   table,
		Prompts:   prompts,
		SessionOptions: session.Options{
			KeepLast:         cfg.Context.PreserveRecentMessages,
			MaxContextTokens: cfg.Context.MaxToolOutputTokens,
		},
		MaxAnswerTokens: cfg.Generation.MaxAnswerTokens,
		ClassifyWithLLM: cfg.Routing.LLMClassifier,
		VRAMCeilingGB:   cfg.Routing.VRAMCeilingGB,
		AllowExternal:   cfg.Security.AllowExternal,
		Redactor:        redactor,
		Logger:          log,
		Gather:          codectx.GatherOptions{ReferenceLimit: cfg.Context.MaxReferences},
		Closers:         []func() error{func() error { w.cache.Close(); return nil }},
		// Turning redaction off loosens security.
		DisableRedaction: !cfg.Security.Redaction.Enabled,
	}
	if w.audit != nil {
		deps.Audit = w.audit
	}
	if cfg.Security.VerifyChecksums {
		deps.ModelPolicy = pinPolicy(cfg)
	}
	if withSources {
		deps.Sources = append(contextSources(cfg, workspace, log, w, &deps), &router.SyntaxSource{}, codectx.BufferSource{})
	}
	w.engine, err = router.New(deps)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// pinPolicy refuses models whose digest is not pinned or does not match.
func pinPolicy(cfg *config.Config) router.ModelPolicy {
	pins := checksum.Pins(cfg.Security.ModelPins)
	return func(svc llm.Service, m llm.Model) (bool, string) {
		r := pins.Verify(m.ID, m.Digest)
		if r.Allowed() {
			return true, ""
		}
		return false, r.Reason
	}
}

// close releases what wire started, for one-shot CLI commands.
func (w *wired) close() {
	w.engine.Close()
}

// loadCatalog returns the built-in catalog (parsed once per process), with
// the user's catalog_file entries applied when there is one.
func loadCatalog(cfg *config.Config) (*catalog.Catalog, error) {
	if cfg.Routing.CatalogFile == "" {
		return catalog.Default(), nil
	}
	b, err := os.ReadFile(cfg.Routing.CatalogFile)
	if err != nil {
		return nil, fmt.Errorf("routing.catalog_file: %w", err)
	}
	entries, err := catalog.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("routing.catalog_file %s: %w", cfg.Routing.CatalogFile, err)
	}
	cat, err := catalog.Load(entries)
	if err != nil {
		return nil, fmt.Errorf("routing.catalog_file %s: %w", cfg.Routing.CatalogFile, err)
	}
	return cat, nil
}
