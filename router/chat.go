package router

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/classify"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/prompt"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/security/audit"
)

// ChatRequest is a conversation a client wrote itself (a coding agent
// through the OpenAI-compatible gateway): the router picks the model and
// the endpoint, and passes the messages through unchanged.
type ChatRequest struct {
	Messages []Message
	// Model is the model id the client asked for; "" lets the router choose
	// by Category or by classifying the conversation.
	Model string
	// Category fixes the task category (the virtual model auto:coding);
	// "" classifies the conversation.
	Category string
	// Tools is set when the request carried tool schemas (an agent).
	Tools       bool
	MaxTokens   int
	Temperature *float64
	Stop        []string
	// Agent names who asked (the gateway key's owner) in the audit record.
	Agent string
	// Command is the audit record's command ("chat", "completion").
	Command string
}

// ChatChunk is one piece of a streamed chat answer, naming the model that
// writes it (the same for every chunk of one answer).
type ChatChunk struct {
	Model, Service, Category string
	Delta                    string
}

// ChatResult is how a chat ended.
type ChatResult struct {
	Model, Service, Category string
	Answer                   string
	TokensIn, TokensOut      int
	// Fallbacks counts the candidates that failed before the answer.
	Fallbacks int
}

// ErrUnknownModel is returned (wrapped) when a chat names a model no
// available service offers.
var ErrUnknownModel = errors.New("model not available")

// Chat runs a client's conversation through the engine's chat path:
// classification (for auto), selection, balancing with prefix affinity,
// the allowlist (the dialer) and pins (the model policy), fallback and the
// audit record. Fallback to the next candidate happens only before the first
// chunk reached onChunk: once the client has seen part of an answer, a
// failure ends the request. An error from onChunk stops the generation.
func (p *Pipeline) Chat(ctx context.Context, req ChatRequest, onChunk func(ChatChunk) error) (*ChatResult, error) {
	start := time.Now()
	if req.Command == "" {
		req.Command = "chat"
	}
	if onChunk == nil {
		onChunk = func(ChatChunk) error { return nil }
	}
	warning, err := p.chatAuditStart(req)
	if err != nil {
		return nil, fmt.Errorf("query refused, nothing was sent: %w", err)
	}
	if warning != "" {
		p.log.Warn(warning)
	}
	res, cat, level, err := p.chat(ctx, req, onChunk)
	if aerr := p.chatAudit(req, res, cat, level, err, time.Since(start)); aerr != nil {
		switch {
		case isAuditWarning(aerr):
			p.log.Warn(aerr.Error())
		case err == nil:
			return nil, fmt.Errorf("the answer is withheld because its audit record failed: %w", aerr)
		default:
			err = fmt.Errorf("%w (and its audit record failed: %v)", err, aerr)
		}
	}
	return res, err
}

// ChatCategory is the category auto would route a conversation to, and
// the signals that decided it.
func (p *Pipeline) ChatCategory(ctx context.Context, msgs []Message, tools bool) classify.Result {
	key := classKeyOf(msgs, tools)
	if r, ok := p.classes.get(key); ok {
		return r
	}
	turns := make([]classify.Turn, len(msgs))
	for i, m := range msgs {
		turns[i] = classify.Turn{Role: m.Role, Content: m.Content}
	}
	r := p.d.Classifier.ClassifyConversation(ctx, turns, tools)
	th := p.d.Classifier.Threshold
	if th == 0 {
		th = classify.DefaultThreshold
	}
	// A low-confidence result with the LLM hook set may be a transient
	// LLM failure: the next request asks again.
	if p.d.Classifier.LLM == nil || r.Confidence >= th {
		p.classes.put(key, r)
	}
	return r
}

// classCache remembers the category of a conversation's user turns. An
// agent's loop sends the same user turns with every tool round (only the
// assistant and tool messages grow), and the patterns read the user turns
// and the tools flag only, so each round would classify the same text
// again: about a third of the gateway's own CPU time per request.
type classCache struct {
	mu sync.Mutex
	m  map[classKey]classify.Result
}

// classKey is a 128-bit keyed hash of the user turns and the tools flag:
// with a per-process random seed, no client can make two conversations
// collide on purpose.
type classKey [2]uint64

// classCacheMax bounds the cache; when full it starts over, so memory
// stays flat however many conversations pass.
const classCacheMax = 4096

var classSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func classKeyOf(msgs []Message, tools bool) classKey {
	var k classKey
	for i := range k {
		var h maphash.Hash
		h.SetSeed(classSeeds[i])
		if tools {
			h.WriteByte(1)
		} else {
			h.WriteByte(0)
		}
		for _, m := range msgs {
			if m.Role != "user" {
				continue
			}
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], uint64(len(m.Content)))
			h.Write(n[:])
			h.WriteString(m.Content)
		}
		k[i] = h.Sum64()
	}
	return k
}

func (c *classCache) get(k classKey) (classify.Result, bool) {
	c.mu.Lock()
	r, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		r.Signals = slices.Clone(r.Signals) // the caller may append
	}
	return r, ok
}

func (c *classCache) put(k classKey, r classify.Result) {
	r.Signals = slices.Clone(r.Signals)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= classCacheMax {
		c.m = make(map[classKey]classify.Result, 64)
	}
	c.m[k] = r
}

func (p *Pipeline) chat(ctx context.Context, req ChatRequest, onChunk func(ChatChunk) error) (*ChatResult, string, selection.Level, error) {
	if len(req.Messages) == 0 {
		return nil, "", 0, errors.New("no messages: send at least one user message")
	}
	cat := req.Category
	if cat == "" && req.Model == "" {
		cat = p.ChatCategory(ctx, req.Messages, req.Tools).Category
	}
	msgs := make([]llm.Message, len(req.Messages))
	pmsgs := make([]prompt.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = llm.Message{Role: m.Role, Content: m.Content}
		pmsgs[i] = prompt.Message{Role: m.Role, Content: m.Content}
	}
	avail, services, refused, err := p.available(ctx)
	if err != nil {
		return nil, cat, 0, err
	}
	if len(avail) == 0 {
		return nil, cat, 0, ErrNoServices
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.d.MaxAnswerTokens
	}
	var decision selection.Decision
	if req.Model != "" {
		decision, err = namedModel(req.Model, avail, refused)
		if err != nil {
			return nil, cat, 0, err
		}
	} else {
		tokens := prompt.CountMessages(pmsgs, prompt.Estimator(""))
		decision = p.selectModel(cat, tokens, avail, "")
		decision.Skipped = append(decision.Skipped, refused...)
	}
	decision, release := p.inflight.reserve(decision, AffinityKey(req.Messages), true)
	defer release()

	// Once a chunk went out, a failure must not start another model's
	// answer: the attempt cancels the executor's context to stop it.
	actx, stop := context.WithCancel(ctx)
	defer stop()
	var streamErr error
	var answer strings.Builder
	var usage llm.Usage
	attempt := func(ctx context.Context, c selection.Choice, level selection.Level) error {
		svc, ok := services[c.Endpoint]
		if !ok {
			return selection.Mark(selection.KindModelMissing, fmt.Errorf("service %s is gone", c.Service))
		}
		if level == selection.LevelReducedContext {
			// The client's messages pass unchanged: there is no smaller
			// prompt to retry with.
			return selection.Mark(selection.KindContextTooLong, errors.New("the client's messages cannot be shortened by the router"))
		}
		answer.Reset()
		sent := false
		u, err := p.d.NewClient(svc).Chat(ctx, llm.ChatRequest{Model: c.Model, Messages: msgs, MaxTokens: maxTokens,
			Temperature: firstTemp(req.Temperature, p.d.Temperature), Stop: req.Stop},
			func(delta string) error {
				if delta == "" {
					return nil
				}
				sent = true
				answer.WriteString(delta)
				return onChunk(ChatChunk{Model: c.Model, Service: c.Service, Category: cat, Delta: delta})
			})
		if err != nil {
			if ctx.Err() == nil {
				p.d.Services.Invalidate(c.Endpoint)
			}
			if sent {
				streamErr = err
				if p.d.Breakers != nil && ctx.Err() == nil {
					p.d.Breakers.Failure(c.Endpoint)
				}
				stop()
				return err
			}
			return classifyLLMError(err)
		}
		usage = u
		if usage.PromptTokens == 0 {
			usage.PromptTokens = prompt.CountMessages(pmsgs, prompt.Estimator(prompt.FamilyOf(c.Model)))
		}
		if usage.CompletionTokens == 0 {
			usage.CompletionTokens = prompt.EstimateTokens(prompt.FamilyOf(c.Model), answer.String())
		}
		return nil
	}
	run, err := p.exec.Run(actx, decision, attempt)
	if streamErr != nil {
		return nil, cat, run.Level, fmt.Errorf("the answer broke off after it started (no other model was tried): %w", streamErr)
	}
	if err != nil {
		return nil, cat, run.Level, err
	}
	return &ChatResult{Model: run.Choice.Model, Service: run.Choice.Service, Category: cat, Answer: answer.String(),
		TokensIn: usage.PromptTokens, TokensOut: usage.CompletionTokens, Fallbacks: len(run.Attempts)}, cat, run.Level, nil
}

// namedModel is the decision for a client that named a model: every
// endpoint that serves it, in priority order, and nothing else.
func namedModel(id string, avail []selection.Available, refused []selection.Skip) (selection.Decision, error) {
	var cands []selection.Choice
	for _, a := range avail {
		if a.ModelID != id || !a.Chat {
			continue
		}
		cands = append(cands, selection.Choice{Model: a.ModelID, Service: a.Service, ServiceKind: a.ServiceKind,
			Endpoint: a.Endpoint, ContextLength: a.ContextLength, Loaded: a.Loaded, Priority: a.Priority, Level: selection.LevelPrimary, Why: "named by the client"})
	}
	if len(cands) == 0 {
		for _, s := range refused {
			if s.Model == id {
				return selection.Decision{}, fmt.Errorf("%w: %s on %s is refused: %s", ErrUnknownModel, id, s.Service, s.Reason)
			}
		}
		return selection.Decision{}, fmt.Errorf("%w: no running service offers %q: list the models with GET /v1/models, or use \"auto\"", ErrUnknownModel, id)
	}
	// Same model on several endpoints: lower priority value first, all at
	// the primary level so that the balancer orders them by load and
	// affinity.
	slices.SortStableFunc(cands, func(a, b selection.Choice) int { return a.Priority - b.Priority })
	return selection.Decision{Model: cands[0].Model, Service: cands[0].Service, Chosen: cands[0], Fallbacks: cands[1:]}, nil
}

func firstTemp(ts ...*float64) *float64 {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}

// chatAuditStart writes the query_start record of a chat.
func (p *Pipeline) chatAuditStart(req ChatRequest) (string, error) {
	if p.d.Audit == nil {
		return "", nil
	}
	err := p.d.Audit.Write(audit.Event{Type: audit.EventQueryStart, Command: req.Command, Agent: req.Agent, Success: true})
	switch {
	case err == nil:
		return "", nil
	case isAuditWarning(err):
		return err.Error(), nil
	}
	return "", err
}

// chatAudit writes the query record of a chat, like audit for editors.
func (p *Pipeline) chatAudit(req ChatRequest, res *ChatResult, cat string, level selection.Level, err error, latency time.Duration) error {
	if p.d.Audit == nil {
		return nil
	}
	var q strings.Builder
	for _, m := range req.Messages {
		q.WriteString(m.Role)
		q.WriteString(": ")
		q.WriteString(m.Content)
		q.WriteString("\n")
	}
	ev := audit.Event{Type: audit.EventQuery, Command: req.Command, Agent: req.Agent, Category: cat,
		LatencyMS: latency.Milliseconds(), Success: err == nil, Query: q.String()}
	if level > 0 {
		ev.FallbackLevel = int(level) - 1
	}
	if res != nil {
		ev.Model, ev.Service, ev.TokensIn, ev.TokensOut, ev.Response = res.Model, res.Service, res.TokensIn, res.TokensOut, res.Answer
	}
	if err != nil {
		ev.Error = err.Error()
	}
	return p.d.Audit.Write(ev)
}
