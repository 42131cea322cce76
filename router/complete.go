package router

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/completion"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/prompt"
	"github.com/lsp-router/lsp-router/router/selection"
)

// CategoryCompletion is the routing category of inline completions: its
// own, because completion latency matters more than model size.
const CategoryCompletion = "completion"

// ActionComplete names inline completion in the audit log.
const ActionComplete Action = "complete"

// CompletionOptions are [completion] (config.Completion).
type CompletionOptions struct {
	Enabled bool
	// Model, when set, is the only model used ("id" or "id@service").
	Model         string
	MaxTokens     int
	MaxLines      int
	ContextTokens int
	Timeout       time.Duration
}

func (o CompletionOptions) withDefaults() CompletionOptions {
	o.MaxTokens = cmp.Or(o.MaxTokens, 128)
	o.MaxLines = cmp.Or(o.MaxLines, 12)
	o.ContextTokens = cmp.Or(o.ContextTokens, 1536)
	o.Timeout = cmp.Or(o.Timeout, 5*time.Second)
	return o
}

// CompletionRequest asks for the text to insert at the cursor.
type CompletionRequest struct {
	Path       string
	LanguageID string
	Text       string
	// Offset is the cursor's byte offset in Text.
	Offset        int
	WorkspaceRoot string
	// Others are the other open documents (snippets of the same language
	// are given to the model, most recently edited first).
	Others []completion.Document
	Agent  string
}

// CompletionResult is the suggestion; Text is "" when there is none to
// show.
type CompletionResult struct {
	Text    string
	Model   string
	Service string
	// Cached is true when the suggestion came from the cache (typing
	// through an earlier one): no model was asked.
	Cached bool
}

// ErrCompletionDisabled: completion.enabled is false.
var ErrCompletionDisabled = errors.New("inline completion is off (completion.enabled = false)")

// completionState is the engine's completion cache.
type completionState struct {
	once  sync.Once
	cache *completion.Cache
}

func (p *Pipeline) completionCache() *completion.Cache {
	p.comp.once.Do(func() { p.comp.cache = completion.NewCache(512) })
	return p.comp.cache
}

// completionCandidate is one model that can fill in the middle.
type completionCandidate struct {
	a      selection.Available
	svc    llm.Service
	params float64
	format string
}

// completionModels lists the models that can complete, best first: a
// FIM-capable model (the catalog's fim) on a server with a completion API,
// never a chat-only or embedding model, never one running outside the
// network unless allowed. Loaded before cold (a load costs seconds), then
// the fastest: small, but not the tiniest when a 1-8B model is there.
func (p *Pipeline) completionModels(ctx context.Context, named string) ([]completionCandidate, error) {
	avail, services, refused, err := p.available(ctx)
	if err != nil {
		return nil, err
	}
	var out []completionCandidate
	for _, a := range avail {
		svc := services[a.Endpoint]
		m := p.d.Catalog.Match(a.ModelID)
		if !a.Chat || m.Embedding || m.FIM == "" || !llm.SupportsFIM(svc) || (a.External != "" && !p.d.AllowExternal) {
			continue
		}
		if named != "" && !modelNamed(named, a) {
			continue
		}
		out = append(out, completionCandidate{a: a, svc: svc, params: m.ParamsB, format: m.FIM})
	}
	sweet := func(b float64) int {
		if b >= 1 && b <= 8 {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(x, y completionCandidate) int {
		if x.a.Loaded != y.a.Loaded {
			if x.a.Loaded {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(sweet(x.params), sweet(y.params)), cmp.Compare(sizeKey(x.params), sizeKey(y.params)),
			cmp.Compare(x.a.Priority, y.a.Priority))
	})
	if len(out) == 0 {
		switch {
		case named != "":
			return nil, fmt.Errorf("completion.model %q is not available as a fill-in-the-middle model: check `lsp-router discover`, or leave completion.model empty to pick one", named)
		case len(avail) == 0:
			return nil, noModels(refused)
		}
		return nil, errors.New("no fill-in-the-middle model is available for inline completion: pull one, e.g. `ollama pull qwen2.5-coder:1.5b` (chat-only models cannot complete code)")
	}
	return out, nil
}

// sizeKey orders unknown sizes (0) last.
func sizeKey(b float64) float64 {
	if b <= 0 {
		return math.MaxFloat64
	}
	return b
}

// modelNamed reports whether name ("id" or "id@service") names a.
func modelNamed(name string, a selection.Available) bool {
	if strings.EqualFold(name, a.ModelID) {
		return true
	}
	id, svc, ok := strings.Cut(name, "@")
	return ok && strings.EqualFold(id, a.ModelID) && (strings.EqualFold(svc, a.Service) || strings.EqualFold(svc, a.ServiceKind))
}

// Complete returns the inline completion at the cursor: the context window
// around it (and snippets of other open files), sent to a small loaded
// fill-in-the-middle model in the server's native FIM form or the family's
// template, redacted and audited like every query, then post-processed
// into ghost text. Cancelling ctx closes the upstream request.
func (p *Pipeline) Complete(ctx context.Context, req CompletionRequest) (CompletionResult, error) {
	o := p.d.Completion.withDefaults()
	if !p.d.Completion.Enabled {
		return CompletionResult{}, ErrCompletionDisabled
	}
	if req.Offset < 0 || req.Offset > len(req.Text) {
		return CompletionResult{}, fmt.Errorf("cursor offset %d is outside the document (%d bytes)", req.Offset, len(req.Text))
	}
	cands, err := p.completionModels(ctx, o.Model)
	if err != nil {
		return CompletionResult{}, err
	}
	best := cands[0]
	count := prompt.Estimator(prompt.FamilyOf(best.a.ModelID))
	snippetBudget := o.ContextTokens / 4
	prefix, suffix := completion.Window(req.Text, req.Offset, o.ContextTokens-snippetBudget, count)
	if cached, ok := p.completionCache().Get(best.a.ModelID, prefix, suffix); ok {
		return CompletionResult{Text: cached, Model: best.a.ModelID, Service: best.a.Service, Cached: true}, nil
	}
	snippets := completion.Snippets(req.Others, req.Path, req.LanguageID, req.WorkspaceRoot, snippetBudget, snippetBudget/2, count)
	if sig, ok := p.callSignature(ctx, req); ok {
		snippets = append(snippets, sig)
	}

	start := time.Now()
	areq := Request{Action: ActionComplete, Agent: req.Agent}
	warning, err := p.auditStart(areq)
	if err != nil {
		return CompletionResult{}, fmt.Errorf("completion refused, nothing was sent: %w", err)
	}
	if warning != "" {
		p.log.Warn(warning)
	}
	ctx, secrets := withTally(ctx)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	// Redacted once here, for the request and its audit record; the
	// redacting client checks again what leaves the process.
	rprefix, rsuffix, rsnippets := prefix, suffix, snippets
	if p.d.Redactor != nil {
		rprefix, rsuffix = redactText(ctx, p.d.Redactor, prefix), redactText(ctx, p.d.Redactor, suffix)
		rsnippets = make([]completion.Snippet, len(snippets))
		for i, sn := range snippets {
			rsnippets[i] = sn
			rsnippets[i].Text = redactText(ctx, p.d.Redactor, sn.Text)
		}
	}
	st := &runState{category: CategoryCompletion}
	var res CompletionResult
	var usage llm.Usage
	var lastErr error
	for i, c := range cands {
		if i == 2 {
			break // a completion that waits for a third model is too late
		}
		fr, shown := p.fimRequest(c, rprefix, rsuffix, rsnippets, req.LanguageID, o)
		// The audit log may keep the query text: never with the secrets
		// (the parts were redacted above).
		st.query = shown
		fc, ok := p.d.NewClient(c.svc).(llm.FIMClient)
		if !ok {
			lastErr = llm.ErrNoFIM
			continue
		}
		out, err := fc.FIM(ctx, fr)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			var le *llm.Error
			if errors.As(err, &le) && (le.Status >= 500 || le.Status == 0) {
				p.d.Services.Invalidate(c.a.Endpoint)
			}
			continue
		}
		tpl, _ := completion.TemplateFor(c.format)
		text := completion.Process(out.Text, prefix, suffix, completion.PostOptions{Language: req.LanguageID, MaxLines: o.MaxLines, Stop: tpl.Stop})
		res = CompletionResult{Text: text, Model: c.a.ModelID, Service: c.a.Service}
		usage = out.Usage
		lastErr = nil
		if c.a.ModelID == best.a.ModelID {
			p.completionCache().Put(c.a.ModelID, prefix, suffix, text)
		}
		break
	}
	st.redactions = secrets.count()
	var ares *Result
	if lastErr == nil {
		ares = &Result{Model: res.Model, Service: res.Service, Category: CategoryCompletion, Answer: res.Text,
			TokensIn: usage.PromptTokens, TokensOut: usage.CompletionTokens, Redactions: st.redactions}
	}
	if aerr := p.audit(areq, ares, st, lastErr, time.Since(start)); aerr != nil {
		switch {
		case isAuditWarning(aerr):
			p.log.Warn(aerr.Error())
		case lastErr == nil:
			return CompletionResult{}, fmt.Errorf("the completion is withheld because its audit record failed: %w", aerr)
		}
	}
	if lastErr != nil {
		return CompletionResult{}, lastErr
	}
	return res, nil
}

// fimRequest builds the request for candidate c: native prefix and suffix
// for servers with FIM (snippets as llama.cpp's input_extra, or commented
// file headers in the prefix), and the family's template for the others.
// shown is the request as one text, in the template, for the audit log.
func (p *Pipeline) fimRequest(c completionCandidate, prefix, suffix string, snippets []completion.Snippet, language string, o CompletionOptions) (fr llm.FIMRequest, shown string) {
	tpl, _ := completion.TemplateFor(c.format)
	fr = llm.FIMRequest{Model: c.a.ModelID, Prefix: prefix, Suffix: suffix, MaxTokens: o.MaxTokens, Stop: tpl.Stop,
		// Completion wants the likeliest continuation, not variety.
		Temperature: new(0.2)}
	if c.svc.Kind == llm.KindLlamaCpp {
		for _, s := range snippets {
			name := s.Path
			if s.Signature {
				name = "signature of " + s.Path
			}
			fr.Extra = append(fr.Extra, llm.FIMFile{Filename: name, Text: s.Text})
		}
	} else {
		fr.Prefix = completion.WithSnippets(prefix, snippets, language)
	}
	shown = tpl.Prompt(fr.Prefix, suffix)
	if _, native := llm.FIMRoute(c.svc.Kind); !native {
		fr.Prompt = shown // servers with native FIM never see the template
	}
	return fr, shown
}

// FIM sends req with prefix, suffix, prompt and snippets redacted.
func (c redactingClient) FIM(ctx context.Context, req llm.FIMRequest) (llm.FIMResult, error) {
	fc, ok := c.next.(llm.FIMClient)
	if !ok {
		return llm.FIMResult{}, llm.ErrNoFIM
	}
	req.Prefix = redactText(ctx, c.r, req.Prefix)
	req.Suffix = redactText(ctx, c.r, req.Suffix)
	req.Prompt = redactText(ctx, c.r, req.Prompt)
	extra := make([]llm.FIMFile, len(req.Extra))
	for i, e := range req.Extra {
		extra[i] = llm.FIMFile{Filename: e.Filename, Text: redactText(ctx, c.r, e.Text)}
	}
	req.Extra = extra
	return fc.FIM(ctx, req)
}

// signatureTimeout bounds the language server's hover for a completion:
// the suggestion is worth less than the latency.
const signatureTimeout = 100 * time.Millisecond

// callSignature asks the code-context sources (a language server, Serena)
// for the hover of the function whose call the cursor is in ("strings.
// Fields(|"), and returns its signature (the first line of the hover's
// first code block) as a snippet. Only the signature: no documentation
// text from outside the workspace goes to the model.
func (p *Pipeline) callSignature(ctx context.Context, req CompletionRequest) (completion.Snippet, bool) {
	name, at, ok := completion.CalledName(req.Text, req.Offset)
	if !ok {
		return completion.Snippet{}, false
	}
	q := codectx.Query{Path: req.Path, Text: req.Text, LanguageID: req.LanguageID, WorkspaceRoot: req.WorkspaceRoot,
		Position: codectx.PositionOf(req.Text, at)}
	hctx, cancel := context.WithTimeout(ctx, signatureTimeout)
	defer cancel()
	for _, src := range p.d.Sources {
		h, err := src.Hover(hctx, q, nil)
		if err != nil || h == "" {
			continue
		}
		if sig := completion.Signature(h); sig != "" {
			return completion.Snippet{Path: name, Text: sig, Signature: true}, true
		}
	}
	return completion.Snippet{}, false
}
