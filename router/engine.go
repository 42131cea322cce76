package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/catalog"
	"github.com/lsp-router/lsp-router/router/classify"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/prompt"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/router/session"
	"github.com/lsp-router/lsp-router/security/audit"
	"github.com/lsp-router/lsp-router/security/redact"
)

// ServiceSource lists the LLM services that are up now. discovery.Cache
// implements it.
type ServiceSource interface {
	Services(ctx context.Context) ([]llm.Service, error)
	// Invalidate asks for a re-probe of a service whose call just failed.
	Invalidate(endpoint string)
}

// ModelPolicy decides whether a discovered model may be used (checksum pins).
// It returns a reason when it refuses.
type ModelPolicy func(svc llm.Service, m llm.Model) (ok bool, reason string)

// Verifier reports the diagnostics a language server finds in path before
// and after an edit, so the edit can be checked before it reaches the
// editor. It leaves the server with the original text.
type Verifier interface {
	Diagnose(ctx context.Context, path, languageID, original, edited string) (before, after []codectx.Diagnostic, err error)
}

// Auditor records audit events; *audit.Log implements it.
type Auditor interface {
	Write(audit.Event) error
}

// Deps are the engine's collaborators, built from the configuration by the
// caller (cmd/lsp-router). Only Services, NewClient and Prompts are required.
type Deps struct {
	Services  ServiceSource
	NewClient func(svc llm.Service) llm.Client
	Catalog   *catalog.Catalog
	Routing   selection.Table
	Breakers  *selection.Breakers
	// Sources are asked for code context in order: Serena, the built-in
	// language-server backend, the buffer.
	Sources []codectx.Source
	Gather  codectx.GatherOptions
	Prompts *prompt.Builder
	// Sessions keeps follow-up conversations; nil makes one from
	// SessionOptions, summarising older turns with the smallest available
	// model unless SessionOptions.Summarize is set.
	Sessions       *session.Store
	SessionOptions session.Options
	Classifier     *classify.Classifier
	Verifier       Verifier
	Audit          Auditor
	ModelPolicy    ModelPolicy
	// ClassifyWithLLM lets the smallest available chat model classify
	// free-text requests the patterns are unsure about (routing.llm_classifier).
	ClassifyWithLLM bool
	// SerenaAvailable reports whether Serena answers (for require_serena).
	SerenaAvailable func() bool
	// Serena, when set, makes requests wait for a starting Serena before
	// gathering context (see waitForSerena).
	Serena SerenaGate
	// Redactor replaces secrets in everything sent to a model; nil uses
	// redact.Default() unless DisableRedaction (security.redaction.enabled
	// = false) is set.
	Redactor         *redact.Redactor
	DisableRedaction bool
	// AllowExternal lets models that run outside the network (Ollama cloud
	// models) be used (security.allow_external).
	AllowExternal bool
	// QueueDepth, when set, adds the servers' own queues to the balancer's
	// load (QueueDepths.Depth).
	QueueDepth      QueueDepthFunc
	MaxAnswerTokens int
	VRAMCeilingGB   float64
	Temperature     *float64
	Logger          *slog.Logger
	// Closers are closed with the engine (language servers, Serena, caches).
	Closers []func() error
	// Completion is [completion]: inline completions (Complete).
	Completion CompletionOptions
}

// Pipeline is the engine: context, classification, selection, prompt,
// generation with fallback, edits, verification, audit.
type Pipeline struct {
	d        Deps
	exec     *selection.Executor
	log      *slog.Logger
	once     sync.Once
	inflight inflight
	comp     completionState
	classes  classCache
}

// New returns an engine. Missing optional parts get working defaults.
func New(d Deps) (*Pipeline, error) {
	if d.Services == nil || d.NewClient == nil {
		return nil, errors.New("router: Services and NewClient are required")
	}
	if d.Prompts == nil {
		b, err := prompt.New(nil)
		if err != nil {
			return nil, err
		}
		d.Prompts = b
	}
	if d.Catalog == nil {
		d.Catalog = catalog.Default()
	}
	if d.Breakers == nil {
		d.Breakers = selection.NewBreakers(3, 30*time.Second, time.Now)
	}
	if d.Classifier == nil {
		d.Classifier = &classify.Classifier{}
	}
	if d.MaxAnswerTokens <= 0 {
		d.MaxAnswerTokens = 2048
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if len(d.Sources) == 0 {
		d.Sources = []codectx.Source{codectx.BufferSource{}}
	}
	if d.DisableRedaction {
		d.Redactor = nil
	} else if d.Redactor == nil {
		d.Redactor = redact.Default()
	}
	if d.Redactor != nil {
		next, r := d.NewClient, d.Redactor
		d.NewClient = func(svc llm.Service) llm.Client { return redactingClient{next: next(svc), r: r} }
	}
	p := &Pipeline{d: d, exec: &selection.Executor{Breakers: d.Breakers}, log: d.Logger}
	p.inflight.queue = d.QueueDepth
	if p.d.Sessions == nil {
		opts := d.SessionOptions
		if opts.Summarize == nil {
			opts.Summarize = p.summarizeWithSmallestModel
		}
		p.d.Sessions = session.NewStore(opts)
	}
	if d.ClassifyWithLLM && d.Classifier.LLM == nil {
		p.d.Classifier = &classify.Classifier{LLM: p.classifyWithSmallestModel, Threshold: d.Classifier.Threshold}
	}
	return p, nil
}

// summarizeWithSmallestModel condenses older conversation turns when a
// conversation outgrows its model's window. It only runs then, and the
// session falls back to an extractive summary when it fails.
func (p *Pipeline) summarizeWithSmallestModel(ctx context.Context, msgs []prompt.Message) (string, error) {
	var b strings.Builder
	b.WriteString("Summarise this conversation about code in at most 8 short bullet points. Keep names, decisions and open questions.\n\n")
	for _, m := range msgs {
		b.WriteString(m.Role)
		b.WriteString(": ")
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return p.askSmallestModel(ctx, b.String(), 400)
}

// classifyWithSmallestModel asks the smallest available chat model for the
// category: a warm sub-2B model answers in a few hundred milliseconds on a
// CPU, which is only worth it when the patterns are unsure.
func (p *Pipeline) classifyWithSmallestModel(ctx context.Context, text string) (string, error) {
	return p.askSmallestModel(ctx, classify.LLMPrompt(text), 8)
}

// askSmallestModel sends one user message to the smallest available chat
// model and returns its answer.
func (p *Pipeline) askSmallestModel(ctx context.Context, content string, maxTokens int) (string, error) {
	avail, services, _, err := p.available(ctx)
	if err != nil {
		return "", err
	}
	var best *selection.Available
	var bestSize float64
	for i, a := range avail {
		m := p.d.Catalog.Match(a.ModelID)
		if !a.Chat || m.Embedding || m.ParamsB <= 0 || (a.External != "" && !p.d.AllowExternal) {
			continue
		}
		if best == nil || m.ParamsB < bestSize {
			best, bestSize = &avail[i], m.ParamsB
		}
	}
	if best == nil {
		return "", errors.New("no chat model available")
	}
	var b strings.Builder
	_, err = p.d.NewClient(services[best.Endpoint]).Chat(ctx, llm.ChatRequest{Model: best.ModelID, MaxTokens: maxTokens,
		Messages: []llm.Message{{Role: "user", Content: content}}},
		func(d string) error { b.WriteString(d); return nil })
	return stripReasoning(b.String()), err
}

// Close stops what the engine started (language servers, Serena).
func (p *Pipeline) Close() error {
	var errs []error
	p.once.Do(func() {
		for _, c := range p.d.Closers {
			errs = append(errs, c())
		}
	})
	return errors.Join(errs...)
}

// DidOpen, DidChange and DidClose forward the editor's buffers to sources
// that keep a language server in sync.
func (p *Pipeline) DidOpen(path, languageID string, version int32, text string) {
	for _, s := range p.d.Sources {
		if o, ok := s.(interface {
			DidOpen(path, languageID string, version int32, text string)
		}); ok {
			o.DidOpen(path, languageID, version, text)
		}
	}
}

// DidChange forwards a buffer change.
func (p *Pipeline) DidChange(path string, version int32, text string) {
	for _, s := range p.d.Sources {
		if o, ok := s.(interface {
			DidChange(path string, version int32, text string)
		}); ok {
			o.DidChange(path, version, text)
		}
	}
}

// DidClose forwards a buffer close.
func (p *Pipeline) DidClose(path string) {
	for _, s := range p.d.Sources {
		if o, ok := s.(interface{ DidClose(path string) }); ok {
			o.DidClose(path)
		}
	}
}

// category decides the task category: fixed by the action, classified for
// free text.
func (p *Pipeline) category(ctx context.Context, req Request) (category string, confidence float64, why string) {
	if c, ok := classify.ForAction(string(req.Action)); ok {
		return c, 1, "fixed by action " + string(req.Action)
	}
	res := p.d.Classifier.Classify(ctx, req.Instruction)
	return res.Category, res.Confidence, "classified from the request: " + strings.Join(res.Signals, ", ")
}

// available lists the chat models of the services that are up, minus those
// the model policy refuses (reported in refused).
func (p *Pipeline) available(ctx context.Context) ([]selection.Available, map[string]llm.Service, []selection.Skip, error) {
	services, err := p.d.Services.Services(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("discover LLM services: %w", err)
	}
	var out []selection.Available
	var refused []selection.Skip
	byEndpoint := map[string]llm.Service{}
	for _, svc := range services {
		if svc.Status != llm.StatusOnline {
			continue
		}
		byEndpoint[svc.Endpoint] = svc
		for _, m := range svc.Models {
			if p.d.ModelPolicy != nil {
				if ok, reason := p.d.ModelPolicy(svc, m); !ok {
					refused = append(refused, selection.Skip{Model: m.ID, Service: svc.Name, Reason: reason})
					continue
				}
			}
			out = append(out, selection.Available{
				Service: svc.Name, ServiceKind: string(svc.Kind), Endpoint: svc.Endpoint,
				Priority: svc.Priority, ModelID: m.ID, ContextLength: m.ContextLength,
				Loaded: m.Loaded, Chat: m.Chat, Digest: m.Digest, External: externalReason(m),
			})
		}
	}
	return out, byEndpoint, refused, nil
}

// ErrNoServices says that no local LLM service with a chat model is up, and
// how to start one.
var ErrNoServices = errors.New("no local LLM service with a chat model is running: start one (e.g. `ollama serve` then `ollama pull qwen2.5-coder:7b`, or `llama-server -m model.gguf`), then check with `lsp-router discover`")

// Route explains which model would answer a request, without calling it.
func (p *Pipeline) Route(ctx context.Context, req Request, promptTokens int) (*RouteReport, error) {
	// The LLM classifier may send the request to a model: audited first,
	// like any query (a dry run is what auditStart records for it).
	if _, fixed := classify.ForAction(string(req.Action)); !fixed {
		dry := req
		dry.DryRun = true
		if _, err := p.auditStart(dry); err != nil {
			return nil, fmt.Errorf("query refused, nothing was sent: %w", err)
		}
	}
	cat, conf, why := p.category(ctx, req)
	avail, _, refused, err := p.available(ctx)
	if err != nil {
		return nil, err
	}
	d := p.selectModel(cat, promptTokens, avail, req.Model)
	d.Skipped = append(d.Skipped, refused...)
	rep := &RouteReport{Category: cat, Confidence: conf, CategoryWhy: why, Decision: d}
	if len(avail) == 0 {
		return rep, noModels(refused)
	}
	return rep, d.Err
}

// RouteReport is the explained routing decision for `lsp-router route`.
type RouteReport struct {
	Category    string             `json:"category"`
	Confidence  float64            `json:"confidence"`
	CategoryWhy string             `json:"category_why"`
	Decision    selection.Decision `json:"decision"`
}

// selectModel ranks the available models for cat; a model the caller
// named comes first, before the category's task_routing primaries.
func (p *Pipeline) selectModel(cat string, promptTokens int, avail []selection.Available, model string) selection.Decision {
	req := selection.Request{
		Category: cat, PromptTokens: promptTokens, AnswerTokens: p.d.MaxAnswerTokens,
		VRAMCeilingGB: p.d.VRAMCeilingGB, AllowExternal: p.d.AllowExternal,
	}
	if p.d.SerenaAvailable != nil {
		req.SerenaAvailable = p.d.SerenaAvailable()
	}
	table := p.d.Routing
	if model != "" {
		table = maps.Clone(p.d.Routing)
		if table == nil {
			table = selection.Table{}
		}
		r := table[cat]
		r.Primary = append([]string{model}, r.Primary...)
		table[cat] = r
	}
	return selection.Select(req, avail, table, p.d.Catalog)
}

// Models lists the available models joined with the catalog.
func (p *Pipeline) Models(ctx context.Context) ([]ModelInfo, error) {
	services, err := p.d.Services.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("discover LLM services: %w", err)
	}
	var out []ModelInfo
	for _, svc := range services {
		if svc.Status != llm.StatusOnline {
			continue
		}
		for _, m := range svc.Models {
			match := p.d.Catalog.Match(m.ID)
			info := ModelInfo{
				ID: m.ID, Service: svc.Name, Family: match.Family, ParamsB: match.ParamsB,
				Quantization:  firstNonEmpty(match.Quantization, strings.ToLower(m.Quantization)),
				ContextLength: m.ContextLength, CatalogID: match.CatalogID, Estimated: match.Estimated,
				Chat: m.Chat && !match.Embedding, Loaded: m.Loaded, Digest: m.Digest,
				External: m.External, ExternalReason: m.ExternalReason,
			}
			if m.ParamsB > 0 && info.ParamsB == 0 {
				info.ParamsB = m.ParamsB
			}
			if info.ContextLength == 0 {
				info.ContextLength = match.ContextLength
			}
			if p.d.ModelPolicy != nil {
				if ok, reason := p.d.ModelPolicy(svc, m); !ok {
					info.Refused = reason
				}
			}
			out = append(out, info)
		}
	}
	return out, nil
}

// externalReason is selection's External for m: where it runs, or "".
func externalReason(m llm.Model) string {
	if !m.External {
		return ""
	}
	return firstNonEmpty(m.ExternalReason, "the server reports that it runs elsewhere")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
