package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Client streams chat completions from one service and counts tokens.
type Client interface {
	// Chat sends req and calls onDelta with each piece of answer text as it
	// arrives. An error from onDelta stops the stream (closing the
	// connection, which stops generation) and is returned. Usage holds the
	// server's final counts when it reported them.
	Chat(ctx context.Context, req ChatRequest, onDelta func(string) error) (Usage, error)
	// CountTokens counts text's tokens for model. exact is true when the
	// server's tokenizer did it; otherwise n is a calibrated estimate.
	CountTokens(ctx context.Context, model, text string) (n int, exact bool, err error)
}

// Defaults for Options' zero values.
const (
	DefaultFirstTokenTimeout = 5 * time.Minute
	DefaultIdleTimeout       = 90 * time.Second
	DefaultMaxRetries        = 2
	DefaultRetryBackoff      = 500 * time.Millisecond
	DefaultKeepAlive         = "10m"
	DefaultTotalTimeout      = 10 * time.Minute
)

// Answer size bound. A token is 3 to 5 bytes of text on average; 16 bytes
// per token leaves four times that for long tokens, multi-byte scripts and a
// reasoning block, so an honest server that stops at max_tokens never hits
// it, while a server that ignores max_tokens (or streams without end) is cut.
const (
	// BytesPerToken converts ChatRequest.MaxTokens into the answer's byte cap.
	BytesPerToken = 16
	// MinAnswerBytes is the smallest cap, for tiny MaxTokens (the classifier
	// asks for 8 tokens) and for servers that count tokens differently.
	MinAnswerBytes = 64 << 10
	// defaultAnswerTokens sizes the cap when MaxTokens is 0 (the server decides).
	defaultAnswerTokens = 8192
)

// AnswerLimit is the most answer text, in bytes, accepted for a request of
// maxTokens tokens: max(MinAnswerBytes, maxTokens*BytesPerToken). Reasoning
// text a server sends in its own field counts too: the server generates it
// within the same max_tokens.
func AnswerLimit(maxTokens int) int {
	if maxTokens <= 0 {
		maxTokens = defaultAnswerTokens
	}
	return max(MinAnswerBytes, maxTokens*BytesPerToken)
}

// lineLimit bounds one stream line or event for an answer cap: a proxy may
// put a whole answer, JSON-escaped, on one line.
func lineLimit(answerLimit int) int {
	return max(DefaultMaxLine, 2*answerLimit+64<<10)
}

// Options tune a Client. The connect timeout belongs to the *http.Client's
// dialer; the two below bound a generation once the request is sent.
type Options struct {
	// FirstTokenTimeout bounds the wait from sending the request to the first
	// streamed chunk. Generous by default: a cold model loads for minutes.
	// Negative disables it.
	FirstTokenTimeout time.Duration
	// IdleTimeout bounds the gap between two pieces of answer text. Only text
	// resets it: keep-alive comments, empty deltas and chunks without text do
	// not, so a server that sends nothing but those is cut. Negative disables it.
	IdleTimeout time.Duration
	// TotalTimeout bounds one Chat call from the first request to the last
	// byte, retries included. Negative disables it.
	TotalTimeout time.Duration
	// APIKey overrides Service.APIKey when set.
	APIKey string
	// MaxRetries is how often a request that failed before the server started
	// generating is sent again. Negative disables retries.
	MaxRetries int
	// RetryBackoff is the pause before the first retry; it doubles after each.
	RetryBackoff time.Duration
	// KeepAlive is sent to Ollama so the model stays loaded between queries.
	KeepAlive string
}

func (o Options) withDefaults() Options {
	if o.FirstTokenTimeout == 0 {
		o.FirstTokenTimeout = DefaultFirstTokenTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.TotalTimeout == 0 {
		o.TotalTimeout = DefaultTotalTimeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.KeepAlive == "" {
		o.KeepAlive = DefaultKeepAlive
	}
	return o
}

// NewClient returns the adapter for svc's kind and API style. httpClient is
// used as is (it carries the allowlist dialer and connect timeout); nil means
// http.DefaultClient. The client must not set a global Timeout, which would
// cut long generations: the first-token and idle timeouts do that job.
func NewClient(svc Service, httpClient *http.Client, opts Options) Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	opts = opts.withDefaults()
	key := svc.APIKey
	if opts.APIKey != "" {
		key = opts.APIKey
	}
	style := svc.APIStyle
	if style == "" {
		style = svc.Kind.DefaultStyle()
	}
	if svc.Kind == "" {
		svc.Kind = KindOpenAI
	}
	return &client{
		svc:   svc,
		base:  BaseURL(svc.Endpoint),
		style: style,
		http:  httpClient,
		opts:  opts,
		key:   key,
	}
}

// BaseURL normalizes a configured endpoint: no trailing slash and no trailing
// "/v1", because the adapters add the full API path themselves.
func BaseURL(endpoint string) string {
	b := strings.TrimRight(strings.TrimSpace(endpoint), "/")
	b = strings.TrimSuffix(b, "/v1")
	return b
}

type client struct {
	svc   Service
	base  string
	style APIStyle
	http  *http.Client
	opts  Options
	key   string
}

// Sentinels for errors.Is on timeout errors. Timeouts do not wrap
// context.Canceled, so callers can tell them from a user's cancellation.
var (
	ErrFirstTokenTimeout = errors.New("first-token timeout")
	ErrIdleTimeout       = errors.New("idle timeout")
	// ErrTotalTimeout: the whole call took longer than Options.TotalTimeout.
	ErrTotalTimeout = errors.New("total timeout")
	// ErrAnswerTooLarge: the answer grew past AnswerLimit(MaxTokens). The
	// text up to the limit was delivered to onDelta before the error.
	ErrAnswerTooLarge = errors.New("answer too large")
)

var (
	errFirstToken = ErrFirstTokenTimeout
	errIdle       = ErrIdleTimeout
	errTotal      = ErrTotalTimeout
)

// chatPath is where each kind serves chat in the client's style.
func (c *client) chatPath() string {
	if c.style == StyleOllama {
		return "/api/chat"
	}
	if c.svc.Kind == KindOpenWebUI {
		return "/api/chat/completions"
	}
	return "/v1/chat/completions"
}

// streams reports whether the server can stream in this style. GPT4All
// answers stream:true with 400.
func (c *client) streams() bool { return c.svc.Kind != KindGPT4All }

func (c *client) Chat(ctx context.Context, req ChatRequest, onDelta func(string) error) (Usage, error) {
	if req.Model == "" {
		return Usage{}, fmt.Errorf("chat with %s at %s: no model given: pick one of the service's models", c.svc.Kind.DisplayName(), c.base)
	}
	if len(req.Messages) == 0 {
		return Usage{}, fmt.Errorf("chat with %s at %s: no messages to send", c.svc.Kind.DisplayName(), c.base)
	}
	if onDelta == nil {
		onDelta = func(string) error { return nil }
	}
	if c.svc.Kind == KindGPT4All && len(c.svc.Models) > 0 {
		// GPT4All answers an unknown model with its default one, silently:
		// refuse here instead of returning another model's answer.
		if _, ok := c.svc.Model(req.Model); !ok {
			return Usage{}, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", ModelNotFound: true,
				Message: fmt.Sprintf("no model %q (GPT4All would silently answer with its default model)", req.Model)}
		}
	}
	var body []byte
	var err error
	if c.style == StyleOllama {
		body, err = json.Marshal(c.ollamaBody(req))
	} else {
		body, err = json.Marshal(c.openAIBody(req))
	}
	if err != nil {
		return Usage{}, fmt.Errorf("encode chat request: %w", err)
	}
	parent := ctx
	if c.opts.TotalTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.opts.TotalTimeout, errTotal)
		defer cancel()
	}
	limit := AnswerLimit(req.MaxTokens)
	backoff := c.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		usage, started, err := c.chatOnce(parent, ctx, body, limit, onDelta)
		if err != nil {
			c.recogniseTooLong(req, err)
		} else if terr := c.silentTruncation(req, usage); terr != nil {
			return usage, terr
		}
		if err == nil || started || !IsRetryable(err) || attempt >= c.opts.MaxRetries {
			return usage, err
		}
		// Nothing was generated: the server refused the connection or said
		// it is loading. Wait and send the same request again.
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			if parent.Err() == nil {
				return Usage{}, c.streamErr(parent, ctx, err, false)
			}
			return Usage{}, fmt.Errorf("chat with %s at %s: %w (after: %v)", c.svc.Kind.DisplayName(), c.base, ctx.Err(), err)
		case <-t.C:
		}
		backoff *= 2
	}
}

// chatOnce sends one request. started is true once the server answered 200,
// after which the request must never be sent again. parent is the caller's
// context (its end is the caller's cancellation); ctx adds the total deadline.
func (c *client) chatOnce(parent, ctx context.Context, body []byte, limit int, onDelta func(string) error) (u Usage, started bool, err error) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// One watchdog timer: armed with the first-token timeout, re-armed with
	// the idle timeout at each chunk. streaming tells its callback which of
	// the two expired.
	var streaming atomic.Bool
	wd := time.AfterFunc(time.Hour, func() {
		if streaming.Load() {
			cancel(errIdle)
		} else {
			cancel(errFirstToken)
		}
	})
	wd.Stop()
	defer wd.Stop()
	if c.opts.FirstTokenTimeout > 0 {
		wd.Reset(c.opts.FirstTokenTimeout)
	}
	// tick is called for every piece of answer text, never for empty chunks
	// or keep-alives: a server that only says it is alive is idle.
	tick := func() {
		streaming.Store(true)
		if c.opts.IdleTimeout > 0 {
			wd.Reset(c.opts.IdleTimeout)
		} else {
			wd.Stop()
		}
	}
	out := &sink{c: c, tick: tick, onDelta: onDelta, limit: limit}

	hreq, err := http.NewRequestWithContext(rctx, http.MethodPost, c.base+c.chatPath(), bytes.NewReader(body))
	if err != nil {
		return Usage{}, false, fmt.Errorf("chat with %s: bad endpoint %q: %w", c.svc.Kind.DisplayName(), c.svc.Endpoint, err)
	}
	c.setHeaders(hreq)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return Usage{}, false, c.streamErr(parent, rctx, err, false)
	}
	// Closing the body before reading it to the end closes the connection,
	// which is how the server learns to stop generating when a bound is hit.
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return Usage{}, false, newHTTPError(c.svc.Kind, c.base, "chat", resp.StatusCode, b)
	}
	switch {
	case c.style == StyleOllama:
		u, err = c.readOllama(resp.Body, out)
	case !c.streams() || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
		// GPT4All cannot stream; some proxies ignore stream:true and answer
		// with one JSON document.
		u, err = c.readWhole(resp.Body, out)
	default:
		u, err = c.readSSE(resp.Body, out)
	}
	if err != nil {
		// A timer that fired closed the body: what the reader saw (a line
		// cut in the middle, an early end) is its consequence, not the cause.
		if cause := context.Cause(rctx); cause != nil && !errors.Is(err, errCallback) &&
			(errors.Is(cause, errTotal) || errors.Is(cause, errFirstToken) || errors.Is(cause, errIdle)) {
			return u, true, c.streamErr(parent, rctx, err, streaming.Load())
		}
		var le *Error
		if errors.As(err, &le) || errors.Is(err, errCallback) {
			return u, true, unwrapCallback(err)
		}
		if errors.Is(err, ErrLineTooLong) && context.Cause(rctx) == nil {
			return u, true, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", MidStream: true, Err: ErrLineTooLong,
				Message: fmt.Sprintf("the server sent more than %d KiB without a line break (%v); "+
					"this is not a well-formed stream: check that the endpoint is the server's chat API", lineLimit(limit)>>10, err)}
		}
		return u, true, c.streamErr(parent, rctx, err, streaming.Load())
	}
	wd.Stop()
	drainBody(resp.Body, func() { cancel(errDrain) })
	return u, true, nil
}

// errDrain ends the wait for the rest of a finished answer's body.
var errDrain = errors.New("the server kept the answer open after its end")

// Draining bounds: what a server sends after the end of an answer (the
// last chunk of a chunked body, a final newline) is a few bytes, sent at
// once; a server still sending after drainWait or drainMax is not waited
// for, and its connection is closed as before.
const (
	drainWait = 50 * time.Millisecond
	drainMax  = 64 << 10
)

// drainBody reads what is left of a finished answer's body, so the
// connection goes back to the pool instead of being closed: the readers
// stop at the end marker (Ollama's "done" line, "data: [DONE]"), before the
// body's end, and closing an unread body closes its connection. At 200
// requests a second that is a new connection (and an allowlist check) for
// most requests. stop aborts the read after drainWait.
func drainBody(body io.Reader, stop func()) {
	t := time.AfterFunc(drainWait, stop)
	defer t.Stop()
	_, _ = io.CopyN(io.Discard, body, drainMax)
}

// sink receives the answer text the readers parse: it re-arms the idle
// timer only for real text, enforces the answer's byte cap and hands the
// text to the caller.
type sink struct {
	c       *client
	tick    func()
	onDelta func(string) error
	limit   int // bytes of text (answer and reasoning) accepted
	used    int
}

// text delivers a piece of the answer. Past the cap it delivers the part that
// fits (cut at a UTF-8 boundary), so the caller keeps a partial answer, and
// returns ErrAnswerTooLarge.
func (s *sink) text(t string) error {
	if t == "" {
		return nil
	}
	s.tick()
	if s.used+len(t) > s.limit {
		part := cutUTF8(t, s.limit-s.used)
		s.used = s.limit
		if part != "" {
			if err := s.onDelta(part); err != nil {
				return callbackErr{err}
			}
		}
		return s.tooLarge()
	}
	s.used += len(t)
	if err := s.onDelta(t); err != nil {
		return callbackErr{err}
	}
	s.tick() // time spent in the callback is not the server's idleness
	return nil
}

// reasoning accounts for reasoning text a server sends in its own field
// (Ollama's "thinking", "reasoning_content"): it is generated text, so it
// shows the server is working and counts against the cap, but it is not
// part of the answer.
func (s *sink) reasoning(t string) error {
	if t == "" {
		return nil
	}
	s.tick()
	s.used += len(t)
	if s.used > s.limit {
		return s.tooLarge()
	}
	return nil
}

func (s *sink) tooLarge() *Error {
	return &Error{Kind: s.c.svc.Kind, Endpoint: s.c.base, Op: "chat", MidStream: true, Err: ErrAnswerTooLarge,
		Message: fmt.Sprintf("the answer exceeded %d KiB and was cut there; raise generation.max_answer_tokens "+
			"(the cap is %d bytes per token, at least %d KiB) or ask for less", s.limit>>10, BytesPerToken, MinAnswerBytes>>10)}
}

// cutUTF8 returns at most n bytes of s, not splitting a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// streamErr turns a transport or read failure into the right error: a
// timeout, the caller's cancellation, or a connection problem.
func (c *client) streamErr(parent, rctx context.Context, err error, midStream bool) error {
	cause := context.Cause(rctx)
	switch {
	case errors.Is(cause, errTotal) && parent.Err() == nil:
		return &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", Timeout: true, MidStream: midStream,
			Message: fmt.Sprintf("no complete answer within the total timeout of %s; raise generation.total_timeout or ask for less", c.opts.TotalTimeout), Err: ErrTotalTimeout}
	case errors.Is(cause, errFirstToken):
		return &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", Timeout: true, MidStream: midStream,
			Message: fmt.Sprintf("no answer within the first-token timeout of %s (the model may still be loading; raise generation.first_token_timeout for big models)", c.opts.FirstTokenTimeout), Err: ErrFirstTokenTimeout}
	case errors.Is(cause, errIdle):
		return &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", Timeout: true, MidStream: true,
			Message: fmt.Sprintf("no answer text for longer than the idle timeout of %s (the server stalled or sent only keep-alives); raise generation.idle_timeout if the model is just slow", c.opts.IdleTimeout), Err: ErrIdleTimeout}
	case parent.Err() != nil:
		return fmt.Errorf("chat with %s at %s: %w", c.svc.Kind.DisplayName(), c.base, parent.Err())
	}
	e := newTransportError(c.svc.Kind, c.base, "chat", err)
	if midStream {
		e.MidStream = true
		e.Retryable = false
	}
	return e
}

func (c *client) setHeaders(r *http.Request) {
	r.Header.Set("Content-Type", "application/json")
	if c.style == StyleOllama {
		r.Header.Set("Accept", "application/x-ndjson")
	} else if c.streams() {
		r.Header.Set("Accept", "text/event-stream")
	} else {
		r.Header.Set("Accept", "application/json")
	}
	if c.key != "" {
		r.Header.Set("Authorization", "Bearer "+c.key)
	}
}

// errCallback marks errors returned by the caller's onDelta so they are
// passed through untouched.
var errCallback = errors.New("callback")

type callbackErr struct{ err error }

func (e callbackErr) Error() string        { return e.err.Error() }
func (e callbackErr) Is(target error) bool { return target == errCallback }
func (e callbackErr) Unwrap() error        { return e.err }

func unwrapCallback(err error) error {
	var ce callbackErr
	if errors.As(err, &ce) {
		return ce.err
	}
	return err
}

func (c *client) midStreamErr(data []byte) *Error {
	msg, code := parseErrorBody(data)
	if msg == "" {
		msg = "server reported an error without a message"
	}
	e := &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", Message: msg, MidStream: true}
	classify(e, code)
	e.Retryable = false
	return e
}

func (c *client) truncatedErr(what string) *Error {
	return &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", MidStream: true,
		Message: "stream ended before " + what + " (the server stopped or crashed mid-answer)"}
}

// window is the context window the request is sized against: the model's
// from discovery, else the kind's conservative default.
func (c *client) window(model string) int {
	if m, ok := c.svc.Model(model); ok && m.ContextLength > 0 {
		return m.ContextLength
	}
	return c.svc.Kind.DefaultContext()
}

// needTokens estimates what req occupies in the window: its messages and
// the answer's reserve.
func (c *client) needTokens(req ChatRequest) int {
	family := ""
	if m, ok := c.svc.Model(req.Model); ok {
		family = m.Family
	}
	n := max(req.MaxTokens, 0)
	for _, m := range req.Messages {
		n += EstimateTokens(family, m.Content) + 4
	}
	return n
}

// nearWindowShare: a prompt that fills at least this share of the window is
// "near" it. Token estimates err on the high side, so a prompt the server
// counts as too long is often estimated a little below the window.
const nearWindowShare = 0.75

// recogniseTooLong marks err as a context overflow when the server said so
// without words: GPT4All answers a prompt that does not fit with HTTP 500
// and an empty body. Any other empty 500 (a crash) stays what it is, so
// this counts only when the request was near the window.
func (c *client) recogniseTooLong(req ChatRequest, err error) {
	var e *Error
	if !errors.As(err, &e) || e.ContextTooLong || c.svc.Kind != KindGPT4All ||
		e.Status != http.StatusInternalServerError || !e.emptyBody {
		return
	}
	w := c.window(req.Model)
	need := c.needTokens(req)
	if w > 0 && float64(need) >= nearWindowShare*float64(w) {
		e.ContextTooLong = true
		e.Retryable = false
		e.Message = fmt.Sprintf("empty HTTP 500, which GPT4All answers when the prompt does not fit: about %d tokens with the answer, window %d", need, w)
	}
}

// silentTruncation detects a server that cut the prompt without saying so:
// Ollama behind Open WebUI runs with Ollama's own small window and drops
// the start of a longer prompt, and the usage it reports (prompt_eval_count)
// is then well below what was sent. Only Open WebUI is checked: a native
// Ollama is sent a num_ctx that holds the prompt, and servers that cache a
// prompt prefix report fewer evaluated tokens for other reasons. The
// threshold is half the estimate, far beyond the estimate's error.
func (c *client) silentTruncation(req ChatRequest, u Usage) error {
	if c.svc.Kind != KindOpenWebUI || u.PromptTokens <= 0 {
		return nil
	}
	sent := c.needTokens(ChatRequest{Model: req.Model, Messages: req.Messages})
	if sent < minTruncationCheck || u.PromptTokens*2 >= sent {
		return nil
	}
	return &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", ContextTooLong: true,
		Message: fmt.Sprintf("the server evaluated only %d of about %d prompt tokens: the model behind it truncated the prompt silently "+
			"(set context_length for this endpoint to the window the model runs with)", u.PromptTokens, sent)}
}

// minTruncationCheck: shorter prompts fit any window a server runs with.
const minTruncationCheck = 1024
