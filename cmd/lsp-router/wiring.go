package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/internal/safefile"
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

// engineFactory builds the router engine for the LSP server. It runs for
// the first configuration and again for every settings change, so it is
// where a change to the security keys is audited, before the new
// configuration (which may turn auditing off) takes effect.
func engineFactory(e *env) lsp.EngineFactory {
	return func(cfg *config.Config, workspace, client string) (router.Engine, error) {
		if client != "" {
			setAuditAgent(audit.NormalizeAgent(client))
		}
		if err := auditConfigChange(cfg, e.log); err != nil {
			return nil, err
		}
		w, err := wire(cfg, workspace, e.log, true)
		if err != nil {
			return nil, err
		}
		// Warm discovery now (the engine is built right after initialize,
		// off its path), so the first command finds the services known.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, _ = w.cache.Refresh(ctx)
		}()
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
	audit     *audit.Recorder // nil when auditing is off
	keyErrors []string
}

// auditLogs keeps one open audit log per path for the process: the engine
// is rebuilt on every settings change, the log's chain must not be. What a
// record keeps (query hashes, texts) is not a property of the open log but
// of each configuration's Recorder, so a settings change applies to the
// next query.
var auditLogs = struct {
	sync.Mutex
	m     map[string]*audit.Log
	agent string // the editor, when it said who it is
	last  *config.Config
}{m: map[string]*audit.Log{}}

// setAuditAgent records the editor's name for logs opened from now on; the
// editor's own clientInfo beats guessing from the parent process.
func setAuditAgent(agent string) {
	auditLogs.Lock()
	defer auditLogs.Unlock()
	auditLogs.agent = agent
}

// openAudit returns the process's open log at cfg's path, opening it (and
// creating its key on first use) when needed. A failed open is not cached:
// the next query tries again, so freeing the disk is enough.
func openAudit(cfg *config.Config) (*audit.Log, error) {
	path := cfg.AuditPath()
	auditLogs.Lock()
	defer auditLogs.Unlock()
	if l, ok := auditLogs.m[path]; ok {
		return l, nil
	}
	opts := audit.DefaultOptions()
	if cfg.Security.AuditMaxBytes > 0 {
		opts.MaxBytes = cfg.Security.AuditMaxBytes
	}
	opts.Agent = auditLogs.agent
	opts.BackgroundSync = cfg.Security.AuditFsync == "background"
	opts.KeyFile = audit.ResolveKeyFile(cfg.Security.AuditKeyFile)
	if opts.KeyFile == "" {
		return nil, fmt.Errorf("no place for the audit key: set security.audit_key_file or $%s", audit.KeyFileEnv)
	}
	l, err := audit.Open(path, opts)
	if err != nil {
		return nil, err
	}
	auditLogs.m[path] = l
	return l, nil
}

// auditRecorder is cfg's view of its audit log, or nil when auditing is off.
func auditRecorder(cfg *config.Config) *audit.Recorder {
	if !cfg.Security.AuditEnabled {
		return nil
	}
	s := cfg.Security
	content := audit.Content{Queries: s.LogQueries, QueryText: s.LogQueries && s.LogQueriesPlaintext, Responses: s.LogResponses}
	return audit.NewRecorder(cfg.AuditPath(), func() (*audit.Log, error) { return openAudit(cfg) }, content, audit.OnFailure(s.AuditOnFailure))
}

// recordAuditEvent writes one event (a trust decision: audit.TrustEvent) to
// cfg's audit log. It returns nil when auditing is off, and a
// *audit.FailureError, whose Warn says whether to go on, when the record
// cannot be written.
func recordAuditEvent(cfg *config.Config, ev audit.Event) error {
	if r := auditRecorder(cfg); r != nil {
		return r.Write(ev)
	}
	return nil
}

// auditConfigChange records a change of security or audit keys between the
// process's previous configuration and next: in the previous log first
// (which next may turn off), then in next's log when that is another file.
// When the change turns auditing off and cannot be recorded, it is refused
// (security.audit_on_failure = "refuse"). The first configuration of the
// process records that external access is on, when it is.
func auditConfigChange(next *config.Config, log *slog.Logger) error {
	auditLogs.Lock()
	prev := auditLogs.last
	auditLogs.Unlock()
	var events []audit.Event
	externalOn := next.Security.AllowExternal && (prev == nil || !prev.Security.AllowExternal)
	if prev != nil {
		keys, detail := changedSecurityKeys(prev.Security, next.Security)
		if len(keys) > 0 {
			events = append(events, audit.Event{Type: audit.EventConfigChange, Keys: keys, Detail: detail, Target: next.Source, Success: true})
		}
	}
	if externalOn {
		events = append(events, audit.Event{Type: audit.EventSecurity, Rule: "allow_external", Detail: "external access turned on: models outside the allowed networks may be used", Target: next.Source, Success: true})
	}
	var recs []*audit.Recorder
	if prev != nil {
		if r := auditRecorder(prev); r != nil {
			recs = append(recs, r)
		}
	}
	if r := auditRecorder(next); r != nil && (len(recs) == 0 || r.Path() != recs[0].Path()) {
		recs = append(recs, r)
	}
	recorded := len(events) == 0
	var failure error
	for _, r := range recs {
		ok := true
		for _, ev := range events {
			if err := r.Write(ev); err != nil {
				log.Error("configuration change not recorded", "err", err)
				failure, ok = err, false
				break
			}
		}
		recorded = recorded || ok
	}
	var fe *audit.FailureError
	if !recorded && !next.Security.AuditEnabled && errors.As(failure, &fe) && !fe.Warn {
		return fmt.Errorf("configuration change not applied: it turns auditing off and cannot be recorded first: %w", failure)
	}
	auditLogs.Lock()
	auditLogs.last = next
	auditLogs.Unlock()
	return nil
}

// changedSecurityKeys lists the security.* keys whose values differ, and
// says how the switches (booleans) changed. Other values are not written:
// paths, hosts and pins are for the configuration, not the log.
func changedSecurityKeys(a, b config.Security) (keys []string, detail string) {
	am, bm := jsonFields(a), jsonFields(b)
	var switches []string
	for _, k := range sortedUnion(am, bm) {
		if bytes.Equal(am[k], bm[k]) {
			continue
		}
		keys = append(keys, "security."+k)
		if isBool(am[k]) || isBool(bm[k]) {
			switches = append(switches, fmt.Sprintf("%s: %s -> %s", k, boolText(am[k]), boolText(bm[k])))
		}
	}
	return keys, strings.Join(switches, ", ")
}

func jsonFields(v any) map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &m)
	return m
}

func sortedUnion(a, b map[string]json.RawMessage) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func isBool(v json.RawMessage) bool { return string(v) == "true" || string(v) == "false" }

// boolText reads an omitted (omitempty) switch as false.
func boolText(v json.RawMessage) string {
	if v == nil {
		return "false"
	}
	return string(v)
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
	w := &wired{cfg: cfg, audit: auditRecorder(cfg)}
	dialer, err := security.NewDialer(policyOf(cfg),
		security.WithConnectTimeout(cfg.Generation.ConnectTimeout.Or(2*time.Second)),
		security.WithOnDeny(func(ctx context.Context, d *security.DeniedError) {
			log.Warn("connection refused by the network allowlist", "host", d.Host, "rule", d.Rule)
			if w.audit != nil {
				_ = w.audit.Write(audit.Event{Type: audit.EventSecurity, Target: d.Host, Rule: string(d.Rule), Detail: d.Error(), Success: false})
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
		dc.Defaults[llm.Kind(name)] = discovery.EndpointConfig{Enabled: s.IsEnabled(), Endpoint: s.Endpoint, Priority: s.Priority, Timeout: s.Timeout.Duration, APIKey: key, ContextLength: s.ContextLength}
	}
	for _, c := range cfg.CustomEndpoints {
		key, err := llm.LoadAPIKey(c.APIKeyEnv, c.APIKeyFile)
		if err != nil {
			w.keyErrors = append(w.keyErrors, fmt.Sprintf("custom endpoint %s: %v", c.Name, err))
		}
		dc.Custom = append(dc.Custom, discovery.CustomEndpoint{Name: c.Name, Endpoint: c.Endpoint, Priority: c.Priority, APIStyle: llm.APIStyle(c.APIStyle), APIKey: key, ContextLength: c.ContextLength})
	}
	w.discCfg = dc
	w.cache, err = discovery.NewCache(dc, cfg.Routing.DiscoveryTTL.Duration)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	for _, k := range w.keyErrors {
		log.Warn(k)
	}

	safefile.SetMaxBytes(cfg.Context.MaxFileBytes) // every workspace read, CLI and server
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
		TotalTimeout:      cfg.Generation.TotalTimeout.Duration,
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
		// vLLM and SGLang report their queues: a shared GPU host's load
		// counts what other routers sent it.
		QueueDepth: router.NewQueueDepths(w.http, time.Second).Depth,
		Completion: router.CompletionOptions{Enabled: cfg.Completion.Enabled, Model: cfg.Completion.Model,
			MaxTokens: cfg.Completion.MaxTokens, MaxLines: cfg.Completion.MaxLines,
			ContextTokens: cfg.Completion.ContextTokens, Timeout: cfg.Completion.Timeout.Duration},
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
