// Package gateway serves lsp-router's engine over the OpenAI API, so that
// coding agents and editors' AI plugins (Continue, aider, opencode, Codex
// CLI, Qwen Code) use the local models with `model: auto`: classified,
// routed, balanced across a team's endpoints, allow-listed, pinned and
// audited like the editor's requests. It keeps no state between requests,
// so any number of replicas run behind a load balancer.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/classify"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/security/audit"
)

// Engine is what the gateway needs of the router (*router.Pipeline).
type Engine interface {
	Chat(ctx context.Context, req router.ChatRequest, onChunk func(router.ChatChunk) error) (*router.ChatResult, error)
	Models(ctx context.Context) ([]router.ModelInfo, error)
}

// Options configure a Server.
type Options struct {
	// Keys, when set, require a bearer token on the API; nil serves
	// everyone as "local" (loopback only: the command refuses otherwise).
	Keys *Keys
	// MaxRequestBytes caps a request body; MaxConcurrentPerKey the requests
	// one key has open at once.
	MaxRequestBytes     int64
	MaxConcurrentPerKey int
	Logger              *slog.Logger
}

// Server is the OpenAI-compatible HTTP handler.
type Server struct {
	eng     Engine
	opts    Options
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux

	mu   sync.Mutex
	open map[string]int // requests open per key owner
}

// AutoModels are the virtual models: auto classifies, auto:CATEGORY fixes
// the category.
var AutoModels = []string{"auto", "auto:coding", "auto:reasoning", "auto:analysis", "auto:documentation"}

// New returns the handler.
func New(eng Engine, opts Options) *Server {
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = 4 << 20
	}
	if opts.MaxConcurrentPerKey <= 0 {
		opts.MaxConcurrentPerKey = 8
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{eng: eng, opts: opts, log: opts.Logger, metrics: newMetrics(), open: map[string]int{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	m.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.metrics.write(w)
	})
	m.Handle("GET /v1/models", s.api("/v1/models", s.models))
	m.Handle("POST /v1/chat/completions", s.api("/v1/chat/completions", s.chatCompletions))
	m.Handle("POST /v1/completions", s.api("/v1/completions", s.completions))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found",
			fmt.Sprintf("no route %s %s: the gateway serves GET /v1/models, POST /v1/chat/completions, POST /v1/completions, GET /healthz, GET /metrics", r.Method, r.URL.Path))
	})
	s.mux = m
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// statusWriter remembers the status code for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// caller is who sent a request.
type caller struct{ owner string }

// api wraps an API handler with authentication, the per-key concurrency
// limit, the body size limit and the metrics.
func (s *Server) api(endpoint string, h func(http.ResponseWriter, *http.Request, caller)) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := &statusWriter{ResponseWriter: rw}
		defer func() { s.metrics.request(endpoint, w.code) }()
		c := caller{owner: "local"}
		if s.opts.Keys != nil {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			owner, known := s.opts.Keys.Owner(strings.TrimSpace(tok))
			if !ok || !known {
				w.Header().Set("WWW-Authenticate", `Bearer realm="lsp-router"`)
				writeError(w, http.StatusUnauthorized, "authentication_error", "invalid_api_key",
					"missing or unknown API key: send \"Authorization: Bearer <key>\" with a key listed (hashed) in gateway.keys_file")
				return
			}
			c.owner = owner
		}
		if !s.acquire(c.owner) {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded",
				fmt.Sprintf("%d requests of this key are open already (gateway.max_concurrent_per_key): wait for one to finish", s.opts.MaxConcurrentPerKey))
			return
		}
		defer s.release(c.owner)
		s.metrics.addInflight(1)
		defer s.metrics.addInflight(-1)
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes)
		// A slow sender must not hold a slot: the body has a deadline,
		// lifted once it is read (decode) so the answer can stream.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(BodyReadTimeout))
		h(w, r, c)
	})
}

func (s *Server) acquire(owner string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[owner] >= s.opts.MaxConcurrentPerKey {
		return false
	}
	s.open[owner]++
	return true
}

func (s *Server) release(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[owner]--; s.open[owner] <= 0 {
		delete(s.open, owner)
	}
}

// apiError is OpenAI's error body.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Error: errorBody{Message: msg, Type: typ, Code: code}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// BodyReadTimeout bounds the reading of a request body.
const BodyReadTimeout = time.Minute

// decode reads a JSON body, answering the error itself when it fails.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
				fmt.Sprintf("the request is larger than %d bytes (gateway.max_request_bytes): send less context", mbe.Limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "the body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) models(w http.ResponseWriter, r *http.Request, _ caller) {
	infos, err := s.eng.Models(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "server_error", "discovery_failed", err.Error())
		return
	}
	out := struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{Object: "list"}
	for _, id := range AutoModels {
		out.Data = append(out.Data, modelObject{ID: id, Object: "model", OwnedBy: "lsp-router"})
	}
	seen := map[string]bool{}
	for _, m := range infos {
		if !m.Chat || m.Refused != "" || seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		out.Data = append(out.Data, modelObject{ID: m.ID, Object: "model", OwnedBy: m.Service})
	}
	writeJSON(w, out)
}

// resolveModel splits the client's model into a named model or a category.
func resolveModel(model string) (named, category string, err error) {
	switch {
	case model == "" || model == "auto":
		return "", "", nil
	case strings.HasPrefix(model, "auto:"):
		c := strings.TrimPrefix(model, "auto:")
		for _, k := range classify.Categories {
			if c == k {
				return "", c, nil
			}
		}
		return "", "", fmt.Errorf("unknown virtual model %q: use auto, auto:coding, auto:reasoning, auto:analysis or auto:documentation", model)
	}
	return model, "", nil
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// sse writes a server-sent events stream.
type sse struct {
	w       http.ResponseWriter
	started bool
}

func (e *sse) start() {
	if e.started {
		return
	}
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	e.w.WriteHeader(http.StatusOK)
}

func (e *sse) send(v any) error {
	e.start()
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(e.w, "data: %s\n\n", b); err != nil {
		return err
	}
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (e *sse) done() {
	e.start()
	io.WriteString(e.w, "data: [DONE]\n\n")
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
}

// failure answers a failed generation: an HTTP error before the stream
// started, an error event inside it after.
func (s *Server) failure(w http.ResponseWriter, stream *sse, err error) {
	status, typ, code := http.StatusBadGateway, "server_error", "upstream_error"
	var ex *selection.ExhaustedError
	var fe *audit.FailureError
	switch {
	case errors.Is(err, router.ErrUnknownModel):
		status, typ, code = http.StatusNotFound, "invalid_request_error", "model_not_found"
	case errors.Is(err, router.ErrNoServices):
		status, code = http.StatusServiceUnavailable, "no_service"
	case errors.Is(err, selection.ErrNoCandidate):
		status, code = http.StatusServiceUnavailable, "no_model"
	case errors.As(err, &ex):
		status, code = http.StatusBadGateway, "all_models_failed"
	case errors.As(err, &fe):
		// The audit record could not be written: nothing was answered.
		status, code = http.StatusServiceUnavailable, "audit_failed"
	}
	msg := err.Error()
	if stream != nil && stream.started {
		_ = stream.send(apiError{Error: errorBody{Message: msg, Type: typ, Code: code}})
		return
	}
	writeError(w, status, typ, code, msg)
}

func setRouteHeaders(w http.ResponseWriter, c router.ChatChunk) {
	w.Header().Set("X-LSP-Router-Model", c.Model)
	w.Header().Set("X-LSP-Router-Service", c.Service)
	if c.Category != "" {
		w.Header().Set("X-LSP-Router-Category", c.Category)
	}
}

// run sends req to the engine, recording the metrics. onChunk sees every
// chunk with the time since the request started.
func (s *Server) run(ctx context.Context, req router.ChatRequest, onChunk func(router.ChatChunk) error) (*router.ChatResult, error) {
	start := time.Now()
	var ttft time.Duration
	first := router.ChatChunk{}
	res, err := s.eng.Chat(ctx, req, func(c router.ChatChunk) error {
		if ttft == 0 {
			ttft = time.Since(start)
			first = c
		}
		return onChunk(c)
	})
	g := generation{ttft: ttft, duration: time.Since(start), failed: err != nil, model: first.Model, service: first.Service}
	if res != nil {
		g.model, g.service, g.tokensIn, g.tokensOut, g.fallbacks = res.Model, res.Service, res.TokensIn, res.TokensOut, res.Fallbacks
	}
	var ex *selection.ExhaustedError
	if errors.As(err, &ex) {
		g.fallbacks = len(ex.Attempts)
	}
	if ctx.Err() == nil || err == nil {
		s.metrics.generation(g)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("generation failed", "owner", strings.TrimPrefix(req.Agent, "gateway:"), "err", err)
	}
	return res, err
}
