package llm_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

const reply = "func main() {\n\tprintln(\"hi\")\n}\nDone."

func service(kind llm.Kind, srv *llmtest.Server) llm.Service {
	m := llmtest.DefaultModel(kind)
	return llm.Service{Kind: kind, Endpoint: srv.URL, Status: llm.StatusOnline,
		Models: []llm.Model{{ID: m.ID, Family: m.Family, ContextLength: m.ContextLength, Chat: true}}}
}

func chatReq(kind llm.Kind, text string) llm.ChatRequest {
	return llm.ChatRequest{Model: llmtest.DefaultModel(kind).ID,
		Messages: []llm.Message{{Role: "system", Content: "You are terse."}, {Role: "user", Content: text}}}
}

func fastOpts() llm.Options {
	return llm.Options{RetryBackoff: time.Millisecond, FirstTokenTimeout: 20 * time.Second, IdleTimeout: 20 * time.Second}
}

func collect(t *testing.T, c llm.Client, ctx context.Context, req llm.ChatRequest) (string, llm.Usage, error) {
	t.Helper()
	var sb strings.Builder
	u, err := c.Chat(ctx, req, func(d string) error { sb.WriteString(d); return nil })
	return sb.String(), u, err
}

func asLLMError(t *testing.T, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *llm.Error, got %T: %v", err, err)
	}
	return e
}

// waitGone waits for the double to see the client's connection close. The
// bound is generous: it only keeps a broken test from hanging.
func waitGone(t *testing.T, srv *llmtest.Server) {
	t.Helper()
	select {
	case <-srv.ClientGone():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s double never saw the client close the connection", srv.Kind)
	}
}

// usageReported lists kinds whose stream ends with real token counts.
var usageReported = map[llm.Kind]bool{
	llm.KindOllama: true, llm.KindLlamaCpp: true, llm.KindJan: true, llm.KindVLLM: true, llm.KindSGLang: true,
	llm.KindLMStudio: true, llm.KindLocalAI: true, llm.KindOpenAI: true, llm.KindGPT4All: true,
}

func TestStreamingChatAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		for _, pings := range []bool{false, true} {
			name := string(kind)
			if pings {
				name += "/pings"
			}
			t.Run(name, func(t *testing.T) {
				srv := llmtest.New(kind, llmtest.Options{Reply: reply, Pings: pings})
				defer srv.Close()
				c := llm.NewClient(service(kind, srv), nil, fastOpts())
				got, u, err := collect(t, c, context.Background(), chatReq(kind, "say hi"))
				if err != nil {
					t.Fatalf("chat: %v", err)
				}
				if got != reply {
					t.Fatalf("answer = %q, want %q", got, reply)
				}
				if srv.Generations() != 1 || srv.ChatRequests() != 1 {
					t.Fatalf("server saw %d chat requests, %d generations; want 1 and 1", srv.ChatRequests(), srv.Generations())
				}
				if usageReported[kind] {
					if u.CompletionTokens == 0 || u.PromptTokens == 0 {
						t.Fatalf("usage not read from the final chunk: %+v", u)
					}
				} else if u.PromptTokens == 100 && u.CompletionTokens == 100 {
					t.Fatalf("placeholder usage taken for real counts: %+v", u)
				}
				body := srv.Chats()[0]
				wantStream := kind != llm.KindGPT4All
				if body.Stream != wantStream {
					t.Fatalf("stream = %v, want %v (GPT4All cannot stream, the rest must)", body.Stream, wantStream)
				}
			})
		}
	}
}

func TestOllamaSendsNumCtxAndKeepAlive(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	svc := service(llm.KindOllama, srv)
	svc.Models[0].ContextLength = 8192
	c := llm.NewClient(svc, nil, fastOpts())
	long := strings.Repeat("word ", 12000) // ~60k chars: more than the model's window
	for _, tc := range []struct {
		text string
		min  int
		max  int
	}{{"short prompt", 2048, 4096}, {long, 8192, 8192}} {
		if _, _, err := collect(t, c, context.Background(), chatReq(llm.KindOllama, tc.text)); err != nil {
			t.Fatal(err)
		}
		chats := srv.Chats()
		raw := chats[len(chats)-1].Raw
		opts, _ := raw["options"].(map[string]any)
		n, _ := opts["num_ctx"].(float64)
		if int(n) < tc.min || int(n) > tc.max {
			t.Errorf("num_ctx = %v for a %d-char prompt, want within [%d,%d]", opts["num_ctx"], len(tc.text), tc.min, tc.max)
		}
		if raw["keep_alive"] != llm.DefaultKeepAlive {
			t.Errorf("keep_alive = %v, want %q", raw["keep_alive"], llm.DefaultKeepAlive)
		}
	}
}

func TestMidStreamErrorAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		if kind == llm.KindGPT4All {
			continue // never streams
		}
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Reply: "one two three four", FailWith: llmtest.FailMidStream, FailAfter: 2})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, llm.Options{MaxRetries: 3, RetryBackoff: time.Millisecond})
			got, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
			e := asLLMError(t, err)
			if !e.MidStream || e.Retryable {
				t.Fatalf("mid-stream error flags wrong: %+v", e)
			}
			if e.Message == "" || strings.Contains(e.Message, "{") {
				t.Fatalf("server message not extracted: %q", e.Message)
			}
			if got != "one two " {
				t.Fatalf("partial answer = %q, want the two chunks sent before the error", got)
			}
			if srv.ChatRequests() != 1 {
				t.Fatalf("a started generation was re-submitted: %d requests", srv.ChatRequests())
			}
		})
	}
}

func TestConnectionDroppedMidStreamIsNotRetried(t *testing.T) {
	for _, kind := range []llm.Kind{llm.KindOllama, llm.KindVLLM} {
		srv := llmtest.New(kind, llmtest.Options{Reply: "one two three", FailWith: llmtest.FailCloseMidStream})
		c := llm.NewClient(service(kind, srv), nil, llm.Options{MaxRetries: 3, RetryBackoff: time.Millisecond})
		_, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
		e := asLLMError(t, err)
		if e.Retryable || !e.MidStream {
			t.Errorf("%s: dropped stream: %+v", kind, e)
		}
		if srv.ChatRequests() != 1 {
			t.Errorf("%s: re-submitted after the stream broke: %d requests", kind, srv.ChatRequests())
		}
		srv.Close()
	}
}

// checksModel lists kinds that refuse an unknown model; the others serve
// their one model whatever is asked (GPT4All silently falls back).
var checksModel = map[llm.Kind]bool{
	llm.KindOllama: true, llm.KindLMStudio: true, llm.KindJan: true, llm.KindOpenWebUI: true,
	llm.KindLocalAI: true, llm.KindVLLM: true, llm.KindSGLang: true, llm.KindOpenAI: true,
}

func TestModelNotFoundAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, fastOpts())
			req := chatReq(kind, "hi")
			req.Model = "no-such-model:1b"
			_, _, err := collect(t, c, context.Background(), req)
			if kind == llm.KindGPT4All {
				// The server would fall back silently; the client refuses
				// a model discovery did not list.
				e := asLLMError(t, err)
				if !e.ModelNotFound || srv.ChatRequests() != 0 {
					t.Fatalf("%+v, %d requests", e, srv.ChatRequests())
				}
				return
			}
			if !checksModel[kind] {
				if err != nil {
					t.Fatalf("%s ignores the model name and should answer: %v", kind, err)
				}
				return
			}
			e := asLLMError(t, err)
			if !e.ModelNotFound || e.Auth || e.Retryable || e.Status != http.StatusNotFound ||
				!errors.Is(err, llm.ErrModelNotFound) || errors.Is(err, llm.ErrAuth) {
				t.Fatalf("flags wrong: %+v", e)
			}
			if !strings.Contains(err.Error(), "pick a listed model") {
				t.Fatalf("error does not say what to do: %v", err)
			}
			if srv.Generations() != 0 {
				t.Fatal("generation started for a missing model")
			}
		})
	}
}

func TestAuthFailureAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		if kind == llm.KindOllama || kind == llm.KindGPT4All {
			continue // no API keys
		}
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{APIKey: "s3cret"})
			defer srv.Close()
			svc := service(kind, srv)
			for _, key := range []string{"", "wrong"} {
				c := llm.NewClient(svc, nil, fastOpts())
				if key != "" {
					c = llm.NewClient(svc, nil, llm.Options{APIKey: key})
				}
				_, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
				e := asLLMError(t, err)
				if !e.Auth || e.Retryable || e.ModelNotFound || !errors.Is(err, llm.ErrAuth) {
					t.Fatalf("key %q: flags wrong: %+v", key, e)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatal("error leaks the key")
				}
			}
			svc.APIKey = "s3cret"
			if _, _, err := collect(t, llm.NewClient(svc, nil, fastOpts()), context.Background(), chatReq(kind, "hi")); err != nil {
				t.Fatalf("with the right key: %v", err)
			}
		})
	}
}

func TestCancellationClosesConnectionAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		if kind == llm.KindGPT4All {
			continue // the whole answer arrives at once: nothing to cancel mid-stream
		}
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Reply: "a b c d e f", ChunkDelay: time.Hour})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, fastOpts())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := c.Chat(ctx, chatReq(kind, "hi"), func(string) error { cancel(); return nil })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("want context.Canceled, got %v", err)
			}
			waitGone(t, srv)
			if srv.ChatRequests() != 1 {
				t.Fatalf("requests = %d", srv.ChatRequests())
			}
		})
	}
}

func TestCallbackErrorStopsGeneration(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: "a b c d", ChunkDelay: time.Hour})
	defer srv.Close()
	stop := errors.New("editor closed")
	_, err := llm.NewClient(service(llm.KindLlamaCpp, srv), nil, fastOpts()).Chat(context.Background(),
		chatReq(llm.KindLlamaCpp, "hi"), func(string) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("want the callback's error, got %v", err)
	}
	waitGone(t, srv)
}

func TestFirstTokenTimeoutAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		t.Run(string(kind), func(t *testing.T) {
			// Generous enough that a loaded machine still delivers the
			// request to the double before the timer fires (30 ms did not).
			t.Parallel()
			srv := llmtest.New(kind, llmtest.Options{FirstTokenDelay: time.Hour})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, llm.Options{FirstTokenTimeout: 500 * time.Millisecond,
				MaxRetries: 3, RetryBackoff: time.Millisecond})
			_, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
			e := asLLMError(t, err)
			if !e.Timeout || e.Retryable || !strings.Contains(e.Message, "first-token") ||
				!errors.Is(err, llm.ErrFirstTokenTimeout) || errors.Is(err, context.Canceled) {
				t.Fatalf("want a first-token timeout, got %+v", e)
			}
			waitGone(t, srv)
			if srv.ChatRequests() != 1 {
				t.Fatalf("generation re-submitted after a timeout: %d requests", srv.ChatRequests())
			}
		})
	}
}

func TestIdleTimeoutAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		if kind == llm.KindGPT4All {
			continue
		}
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Reply: "a b c", StallAfter: 1})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, llm.Options{IdleTimeout: 30 * time.Millisecond, MaxRetries: 3})
			got, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
			e := asLLMError(t, err)
			if !e.Timeout || !e.MidStream || !strings.Contains(e.Message, "idle") || !errors.Is(err, llm.ErrIdleTimeout) {
				t.Fatalf("want an idle timeout, got %+v", e)
			}
			if got != "a " {
				t.Fatalf("partial answer = %q", got)
			}
			waitGone(t, srv)
			if srv.ChatRequests() != 1 {
				t.Fatalf("re-submitted: %d requests", srv.ChatRequests())
			}
		})
	}
}

func TestRetryWhileLoadingDoesNotDuplicateGeneration(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{FailWith: llmtest.FailLoading, FailCount: 2, Reply: "ok"})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, llm.Options{MaxRetries: 2, RetryBackoff: time.Millisecond})
			got, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
			if err != nil || got != "ok" {
				t.Fatalf("after two 503s: %q, %v", got, err)
			}
			if srv.ChatRequests() != 3 || srv.Generations() != 1 {
				t.Fatalf("requests=%d generations=%d, want 3 and 1", srv.ChatRequests(), srv.Generations())
			}
		})
	}
}

func TestRetriesExhaustedReportsLoading(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{FailWith: llmtest.FailLoading})
	defer srv.Close()
	c := llm.NewClient(service(llm.KindLlamaCpp, srv), nil, llm.Options{MaxRetries: 2, RetryBackoff: time.Millisecond})
	_, _, err := collect(t, c, context.Background(), chatReq(llm.KindLlamaCpp, "hi"))
	e := asLLMError(t, err)
	if e.Status != 503 || !e.Retryable || e.Message != "Loading model" {
		t.Fatalf("got %+v", e)
	}
	if srv.ChatRequests() != 3 || srv.Generations() != 0 {
		t.Fatalf("requests=%d generations=%d", srv.ChatRequests(), srv.Generations())
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := llm.NewClient(llm.Service{Kind: llm.KindVLLM, Endpoint: "http://" + addr}, nil,
		llm.Options{MaxRetries: 1, RetryBackoff: time.Millisecond})
	_, _, err = collect(t, c, context.Background(), llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "user", Content: "x"}}})
	e := asLLMError(t, err)
	if !e.Retryable || e.Status != 0 || e.Timeout {
		t.Fatalf("got %+v", e)
	}
}

func TestChatRejectsBadRequests(t *testing.T) {
	c := llm.NewClient(llm.Service{Kind: llm.KindOllama, Endpoint: "http://127.0.0.1:1"}, nil, llm.Options{})
	if _, err := c.Chat(context.Background(), llm.ChatRequest{Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil); err == nil ||
		!strings.Contains(err.Error(), "no model") {
		t.Fatalf("missing model: %v", err)
	}
	if _, err := c.Chat(context.Background(), llm.ChatRequest{Model: "m"}, nil); err == nil || !strings.Contains(err.Error(), "no messages") {
		t.Fatalf("missing messages: %v", err)
	}
}

func TestEmbeddingModelRefusesChat(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{{ID: "nomic-embed-text:latest", Embedding: true, ContextLength: 2048}}})
	defer srv.Close()
	c := llm.NewClient(llm.Service{Kind: llm.KindOllama, Endpoint: srv.URL}, nil, fastOpts())
	_, err := c.Chat(context.Background(), llm.ChatRequest{Model: "nomic-embed-text:latest", Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
	e := asLLMError(t, err)
	if e.Status != 400 || !strings.Contains(e.Message, "does not support chat") {
		t.Fatalf("got %+v", e)
	}
}

// exactTokenizer lists kinds with a tokenize endpoint.
var exactTokenizer = map[llm.Kind]bool{llm.KindLlamaCpp: true, llm.KindVLLM: true, llm.KindLocalAI: true,
	llm.KindKoboldCpp: true, llm.KindTextGenWebUI: true, llm.KindTGI: true}

func TestCountTokensAllKinds(t *testing.T) {
	text := "func add(a, b int) int { return a + b }"
	for _, kind := range llm.AllKinds() {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{APIKey: "k"})
			defer srv.Close()
			svc := srv.Service() // carries the double's key
			n, exact, err := llm.NewClient(svc, nil, fastOpts()).CountTokens(context.Background(), svc.Models[0].ID, text)
			if err != nil {
				t.Fatal(err)
			}
			if exact != exactTokenizer[kind] {
				t.Fatalf("exact = %v, want %v", exact, exactTokenizer[kind])
			}
			if exact && n != llmtest.CountTokens(text) {
				t.Fatalf("n = %d, want the server's count %d", n, llmtest.CountTokens(text))
			}
			if !exact && (n < 8 || n > 20) {
				t.Fatalf("estimate %d is implausible for %d chars", n, len(text))
			}
		})
	}
}

func TestCountTokensFallsBackWhenTokenizerFails(t *testing.T) {
	// A llama.cpp with a key we do not have: tokenize is refused, the
	// estimate still answers.
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{APIKey: "k"})
	defer srv.Close()
	n, exact, err := llm.NewClient(service(llm.KindLlamaCpp, srv), nil, fastOpts()).CountTokens(context.Background(), "m", "hello world")
	if err != nil || exact || n == 0 {
		t.Fatalf("n=%d exact=%v err=%v", n, exact, err)
	}
}

func TestProxyAnsweringWithoutStreaming(t *testing.T) {
	// Some proxies drop stream:true and answer with one JSON document.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"whole answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`)
	}))
	defer srv.Close()
	c := llm.NewClient(llm.Service{Kind: llm.KindOpenAI, Endpoint: srv.URL + "/v1"}, nil, fastOpts())
	got, u, err := collect(t, c, context.Background(), llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "user", Content: "x"}}})
	if err != nil || got != "whole answer" || u.CompletionTokens != 2 {
		t.Fatalf("%q %+v %v", got, u, err)
	}
}

func TestStreamEndingWithoutDoneIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/chat" {
			fmt.Fprint(w, `{"message":{"content":"par"},"done":false}`+"\n")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}]}\n\n")
	}))
	defer srv.Close()
	for _, kind := range []llm.Kind{llm.KindOllama, llm.KindOpenAI} {
		c := llm.NewClient(llm.Service{Kind: kind, Endpoint: srv.URL}, nil, fastOpts())
		got, _, err := collect(t, c, context.Background(), llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "user", Content: "x"}}})
		e := asLLMError(t, err)
		if got != "par" || !e.MidStream || e.Retryable || !strings.Contains(e.Message, "stream ended") {
			t.Errorf("%s: %q %+v", kind, got, e)
		}
	}
}

func TestContextTooLongAllKinds(t *testing.T) {
	// Long enough for every too-long signal: Open WebUI's silent
	// truncation is only checked above 1024 tokens.
	long := strings.Repeat("token ", 1500)
	for _, kind := range llm.AllKinds() {
		t.Run(string(kind), func(t *testing.T) {
			m := llmtest.DefaultModel(kind)
			m.ContextLength = 16
			srv := llmtest.New(kind, llmtest.Options{Models: []llmtest.Model{m}, Reply: "ok"})
			defer srv.Close()
			_, _, err := collect(t, llm.NewClient(srv.Service(), nil, fastOpts()), context.Background(), chatReq(kind, long))
			switch kind {
			case llm.KindOllama, llm.KindKoboldCpp, llm.KindTextGenWebUI:
				if err != nil { // these truncate silently
					t.Fatalf("want an answer, got %v", err)
				}
				return
			}
			e := asLLMError(t, err)
			if !e.ContextTooLong || e.ModelNotFound || e.Retryable || e.Auth || !errors.Is(err, llm.ErrContextTooLong) {
				t.Fatalf("flags wrong: %+v", e)
			}
			if !strings.Contains(err.Error(), "larger context window") {
				t.Fatalf("no advice: %v", err)
			}
		})
	}
}
