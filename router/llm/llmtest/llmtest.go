// Package llmtest runs faithful test doubles of the local LLM servers that
// lsp-router supports. Each double reproduces its server's wire format from
// the upstream source named beside each route: fingerprint routes and headers, model
// listings, NDJSON or SSE streaming, error body shapes, auth and quirks
// (Ollama imitators, GPT4All's refusal to stream, KoboldCpp's missing final
// newline, llama.cpp's "error:" events...).
//
// A double is an httptest server on a loopback address:
//
//	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "hello"})
//	defer srv.Close()
//	svc := llm.Service{Kind: llm.KindOllama, Endpoint: srv.URL}
//
// and it counts requests, generations started and client disconnects so
// tests can assert what the server saw.
//
// Every fixture names the upstream file (and version or date) it was
// written from, in a comment at the route or handler that serves it. The
// client is also checked against the servers' own bytes, replayed without a
// double, in router/llm/conformance_test.go and router/discovery/wire_test.go.
package llmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/lsp-router/lsp-router/router/llm"
)

// Model describes one model the double serves.
type Model struct {
	ID            string
	Family        string
	ParameterSize string // Ollama style: "7.6B"
	Quantization  string // "Q4_K_M"
	ContextLength int
	Loaded        bool
	Embedding     bool
	Digest        string
	// RemoteModel and RemoteHost make an Ollama double list the model as a
	// cloud model (see OllamaCloudModel): the server runs it elsewhere.
	RemoteModel string
	RemoteHost  string
	// LoadedContext is the window a loaded model runs with: Ollama's /api/ps
	// context_length (4096 when zero), LM Studio's loaded instance
	// config.context_length (ContextLength when zero). An Ollama double
	// reloads the model, counted by Reloads, whenever a chat names another
	// num_ctx, as the real server does.
	LoadedContext int
	// NoInsert: the model's Ollama template has no .Suffix, so
	// /api/generate refuses a suffix ("does not support insert").
	NoInsert bool
}

// OllamaCloudModel is a cloud model as Ollama lists it in /api/tags beside
// local ones, from ListModelResponse in ollama/ollama api/types.go (commit
// fb30760, 2026-08-21: fields remote_model and remote_host, omitted for
// local models) and the cloud model names of its docs/cloud.mdx. A chat to
// it leaves the machine through Ollama. The real remote_host is Ollama's own
// cloud host (defaultCloudProxyBaseURL in server/cloud_proxy.go); the double
// names a reserved .invalid host instead so no test can reach outside.
func OllamaCloudModel() Model {
	return Model{ID: "gpt-oss:120b-cloud", Family: "gptoss", ParameterSize: "116.8B", Quantization: "MXFP4",
		ContextLength: 131072, Digest: "569662207105aeecfbc8a9ed0fdb2d3fc6fbc0d2ee8cbd3e1a1b6d44a6f3a7c1",
		RemoteModel: "gpt-oss:120b", RemoteHost: "https://ollama.invalid:443"}
}

// Failure selects an injected failure.
type Failure int

const (
	// FailNone serves normally.
	FailNone Failure = iota
	// FailMidStream sends FailAfter chunks (default 1), then the server's
	// mid-stream error (HTTP status stays 200).
	FailMidStream
	// FailLoading answers chat with the server's 503 "loading" error for the
	// first FailCount chat requests (0 = all of them). /health answers 503 too
	// while it lasts.
	FailLoading
	// FailInternal answers chat with a 500 in the server's error shape.
	FailInternal
	// FailCloseMidStream drops the connection after FailAfter chunks without
	// any error event, as a crashed server does.
	FailCloseMidStream
)

// ChatRequest is a chat request as the double decoded it.
type ChatRequest struct {
	Path     string
	Model    string
	Messages []llm.Message
	Stream   bool
	// Raw is the whole JSON body, for asserting fields such as
	// options.num_ctx or keep_alive.
	Raw    map[string]any
	Header http.Header
}

// Options configure a double. The zero value serves one default chat model
// that answers "Hello from <server>."
type Options struct {
	// Models served; nil means one default chat model.
	Models []Model
	// Reply is the answer text; ReplyFunc, when set, computes it per request;
	// Echo answers with the last user message.
	Reply     string
	ReplyFunc func(ChatRequest) string
	Echo      bool
	// ChunkSize is the number of runes per streamed chunk; 0 streams word by
	// word (each word with its trailing space).
	ChunkSize int
	// FirstTokenDelay is waited before the first chunk; ChunkDelay between
	// chunks. Both end early when the client goes away.
	FirstTokenDelay time.Duration
	ChunkDelay      time.Duration
	// StallAfter > 0 stops sending after that many chunks and holds the
	// connection open until the client leaves (for idle-timeout tests).
	StallAfter int
	// FailWith injects a failure; FailCount and FailAfter tune it.
	FailWith  Failure
	FailCount int
	FailAfter int
	// APIKey, when set, is required as a Bearer token where the real server
	// checks it.
	APIKey string
	// Addr is the listen address, default "127.0.0.1:0". Use "127.0.0.2:PORT"
	// to put two doubles on the same port number on different hosts.
	Addr string
	// ImitateOllama makes GET / answer "Ollama is running" as well, on top of
	// the Ollama routes the real server already imitates.
	ImitateOllama bool
	// Pings sends an SSE comment line (": ping") and an "event:" line before
	// each chunk, as proxies and llama.cpp do.
	Pings bool
	// Version overrides the self-reported version.
	Version string
	// Flood replaces the streamed reply with an endless hostile stream (see
	// Flood); FloodBytes reports how much of it was written.
	Flood Flood
	// Router plays llama-server in router mode (several models, each with
	// its own status; only Loaded ones run, with LoadedContext or
	// ContextLength as their window). Only for llama.cpp.
	Router bool
	// FIMReply is the middle the fill-in-the-middle routes answer (Reply
	// when empty); FIMFunc, when set, computes it per request.
	FIMReply string
	FIMFunc  func(FIMRequest) string
}

// Server is a running double.
type Server struct {
	Kind llm.Kind
	// URL is the base URL, e.g. "http://127.0.0.1:41234".
	URL string

	opts     Options
	srv      *httptest.Server
	mux      *http.ServeMux
	requests atomic.Int64
	chats    atomic.Int64
	gens     atomic.Int64
	discs    atomic.Int64
	failLeft atomic.Int64
	// floodBytes counts what the Flood modes wrote.
	floodBytes atomic.Int64

	mu       sync.Mutex
	windows  map[string]int // Ollama: model -> window it is loaded with now
	reloads  int
	bodies   []ChatRequest
	paths    []string
	fim      fimState
	goneOnce sync.Once
	gone     chan struct{}
}

// New starts a double of kind. It panics if it cannot listen, like httptest.
func New(kind llm.Kind, opts Options) *Server {
	s, err := Start(kind, opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is New with an error instead of a panic.
func Start(kind llm.Kind, opts Options) (*Server, error) {
	if !kind.Valid() {
		return nil, fmt.Errorf("llmtest: unknown kind %q", kind)
	}
	if opts.Models == nil {
		opts.Models = []Model{DefaultModel(kind)}
	}
	if opts.Reply == "" {
		opts.Reply = "Hello from " + kind.DisplayName() + "."
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	s := &Server{Kind: kind, opts: opts, mux: http.NewServeMux(), gone: make(chan struct{})}
	if opts.FailWith == FailLoading {
		n := int64(opts.FailCount)
		if n == 0 {
			n = 1 << 62
		}
		s.failLeft.Store(n)
	}
	s.routes()
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("llmtest: listen on %s: %w", opts.Addr, err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the double and closes client connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Addr is the host:port the double listens on.
func (s *Server) Addr() string { return s.srv.Listener.Addr().String() }

// Requests counts every HTTP request received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// ChatRequests counts chat requests received, including refused ones.
func (s *Server) ChatRequests() int64 { return s.chats.Load() }

// Generations counts chat requests the double accepted and began answering:
// the number a real server would have spent GPU time on.
func (s *Server) Generations() int64 { return s.gens.Load() }

// Disconnects counts generations cut short because the client closed the
// connection.
func (s *Server) Disconnects() int64 { return s.discs.Load() }

// ClientGone is closed the first time a client closes its connection while a
// generation is running, which is what stops generation on a real server.
func (s *Server) ClientGone() <-chan struct{} { return s.gone }

// Chats returns the chat requests received so far.
func (s *Server) Chats() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatRequest(nil), s.bodies...)
}

// Reloads counts how often an Ollama double reloaded an already loaded
// model because a chat named another num_ctx than its loaded window: each
// costs a real user seconds (runnerRef.needsReload in ollama/ollama
// server/sched.go, commit fb30760, 2026-08-21).
func (s *Server) Reloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloads
}

// loadedWindow is the window md runs with now; 0 when it is not loaded.
func (s *Server) loadedWindow(md Model) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.windows[md.ID]; ok {
		return w
	}
	if !md.Loaded {
		return 0
	}
	if md.LoadedContext > 0 {
		return md.LoadedContext
	}
	return 4096 // Ollama's default num_ctx below 24 GiB of VRAM (envconfig ContextLength)
}

// ollamaLoad plays the scheduler for one chat: a request whose num_ctx
// differs from the loaded window reloads the model with it; without
// num_ctx a loaded model keeps its window.
func (s *Server) ollamaLoad(md Model, numCtx int) {
	cur := s.loadedWindow(md)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.windows == nil {
		s.windows = map[string]int{}
	}
	switch {
	case numCtx <= 0 && cur > 0:
		s.windows[md.ID] = cur
	case numCtx <= 0:
		s.windows[md.ID] = 4096
	case cur > 0 && numCtx != cur:
		s.reloads++
		s.windows[md.ID] = numCtx
	default:
		s.windows[md.ID] = numCtx
	}
}

// Paths returns "METHOD /path" of every request received, in order.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	s.paths = append(s.paths, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if !s.preflight(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// DefaultModel is the model a double serves when Options.Models is nil, named
// the way that server names models.
func DefaultModel(kind llm.Kind) Model {
	m := Model{Family: "qwen2", ParameterSize: "7.6B", Quantization: "Q4_K_M", ContextLength: 32768,
		Loaded: true, Digest: "dae161e27b0e90dd1856c8bb3209201fd6736d8eb66298e75ed87571486f4364"}
	switch kind {
	case llm.KindOllama, llm.KindOpenWebUI:
		m.ID = "qwen2.5-coder:7b"
	case llm.KindVLLM, llm.KindSGLang, llm.KindTGI:
		m.ID = "Qwen/Qwen2.5-Coder-7B-Instruct"
		m.Quantization = ""
	case llm.KindLlamaCpp:
		m.ID = "qwen2.5-coder-7b-instruct-q4_k_m.gguf"
	case llm.KindKoboldCpp:
		m.ID = "koboldcpp/qwen2.5-coder-7b-instruct-q4_k_m"
	case llm.KindGPT4All:
		m.ID = "Qwen2.5-Coder-7B-Instruct"
	case llm.KindTextGenWebUI:
		m.ID = "Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf"
	default:
		m.ID = "qwen2.5-coder-7b-instruct"
	}
	return m
}

func (s *Server) model(id string) (Model, bool) {
	for _, m := range s.opts.Models {
		if m.ID == id {
			return m, true
		}
	}
	return Model{}, false
}

func (s *Server) version(def string) string {
	if s.opts.Version != "" {
		return s.opts.Version
	}
	return def
}

// authorized checks the Bearer key (or LocalAI's x-api-key).
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.APIKey == "" {
		return true
	}
	if r.Header.Get("Authorization") == "Bearer "+s.opts.APIKey {
		return true
	}
	return s.Kind == llm.KindLocalAI && r.Header.Get("x-api-key") == s.opts.APIKey
}

// loading reports whether the double currently plays a server that loads a
// model.
func (s *Server) loading() bool {
	return s.opts.FailWith == FailLoading && s.failLeft.Load() > 0
}

// reply computes the answer for a request.
func (s *Server) reply(req ChatRequest) string {
	switch {
	case s.opts.ReplyFunc != nil:
		return s.opts.ReplyFunc(req)
	case s.opts.Echo:
		for i := len(req.Messages) - 1; i >= 0; i-- {
			if req.Messages[i].Role == "user" {
				return req.Messages[i].Content
			}
		}
		return ""
	}
	return s.opts.Reply
}

// chunks splits text the way the double streams it.
func (s *Server) chunks(text string) []string {
	var out []string
	if s.opts.ChunkSize > 0 {
		for len(text) > 0 {
			i, n := 0, 0
			for i < len(text) && n < s.opts.ChunkSize {
				_, size := utf8.DecodeRuneInString(text[i:])
				i += size
				n++
			}
			out = append(out, text[:i])
			text = text[i:]
		}
		return out
	}
	for len(text) > 0 {
		i := strings.IndexAny(text, " \n")
		if i < 0 {
			out = append(out, text)
			break
		}
		// Keep the separator run with the word before it.
		j := i
		for j < len(text) && (text[j] == ' ' || text[j] == '\n') {
			j++
		}
		out = append(out, text[:j])
		text = text[j:]
	}
	return out
}

// wait sleeps d unless the client leaves first; false means it left.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *Server) clientLeft() {
	s.discs.Add(1)
	s.goneOnce.Do(func() { close(s.gone) })
}

// decodeChat reads a chat body. On failure it has answered already.
func (s *Server) decodeChat(w http.ResponseWriter, r *http.Request) (ChatRequest, bool) {
	s.chats.Add(1)
	var raw map[string]any
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error(), "invalid_request_error")
		return ChatRequest{}, false
	}
	req := ChatRequest{Path: r.URL.Path, Raw: raw, Header: r.Header.Clone()}
	req.Model, _ = raw["model"].(string)
	// Ollama's native API streams unless told not to; OpenAI style does not
	// stream unless asked.
	req.Stream = r.URL.Path == "/api/chat"
	if st, ok := raw["stream"].(bool); ok {
		req.Stream = st
	}
	if msgs, ok := raw["messages"].([]any); ok {
		for _, m := range msgs {
			mm, _ := m.(map[string]any)
			role, _ := mm["role"].(string)
			content, _ := mm["content"].(string)
			req.Messages = append(req.Messages, llm.Message{Role: role, Content: content})
		}
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, req)
	s.mu.Unlock()
	return req, true
}

// countWords is the double's tokenizer: one token per whitespace-separated
// word. Tests compare exact counts against it.
func countWords(s string) int { return len(strings.Fields(s)) }

// CountTokens is the count the doubles' tokenize endpoints report for text.
func CountTokens(text string) int { return countWords(text) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Service describes the double as discovery would, for tests that want a
// ready llm.Service without running a scan. Model facts the double does not
// publish for its kind are still filled in from Options.Models.
func (s *Server) Service() llm.Service {
	svc := llm.Service{Kind: s.Kind, Name: s.Kind.DisplayName(), Endpoint: s.URL, APIStyle: s.Kind.DefaultStyle(),
		Status: llm.StatusOnline, APIKey: s.opts.APIKey, Models: []llm.Model{}}
	for _, m := range s.opts.Models {
		svc.Models = append(svc.Models, llm.Model{ID: m.ID, DisplayName: m.ID, Family: m.Family,
			ParameterSize: m.ParameterSize, ParamsB: llm.ParseParameterSize(m.ParameterSize),
			Quantization: m.Quantization, ContextLength: m.ContextLength, Loaded: m.Loaded, Chat: !m.Embedding,
			Digest: m.Digest, External: m.RemoteHost != "" || m.RemoteModel != ""})
		if svc.Models[len(svc.Models)-1].External {
			svc.Models[len(svc.Models)-1].ExternalReason = "runs on " + m.RemoteHost + " through Ollama"
		}
	}
	return svc
}
