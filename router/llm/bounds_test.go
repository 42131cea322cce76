package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// boundKinds covers both wire formats: Ollama's native NDJSON and OpenAI
// SSE (llama.cpp, whose mid-stream "error:" events share the reader, and LM
// Studio).
var boundKinds = []llm.Kind{llm.KindOllama, llm.KindLlamaCpp, llm.KindLMStudio}

// floodLimit is how much more than the cap a flood may write before the
// client's close reaches it: socket buffers on both ends. An unbounded
// client never closes, so the test would time out instead.
const floodLimit = 32 << 20

func TestEndlessStreamIsCutAtTheAnswerCap(t *testing.T) {
	for _, kind := range boundKinds {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Flood: llmtest.FloodEndless})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, fastOpts())
			req := chatReq(kind, "hi")
			req.MaxTokens = 10_000 // cap: 160,000 bytes
			got, _, err := collect(t, c, context.Background(), req)
			if !errors.Is(err, llm.ErrAnswerTooLarge) {
				t.Fatalf("want ErrAnswerTooLarge, got %v", err)
			}
			if want := llm.AnswerLimit(10_000); len(got) != want || want != 160_000 {
				t.Fatalf("partial answer is %d bytes, want exactly the cap %d", len(got), want)
			}
			if !strings.HasPrefix(got, "all work and no play") {
				t.Fatalf("partial answer lost its beginning: %.40q", got)
			}
			msg := err.Error()
			if !strings.Contains(msg, "exceeded 156 KiB") || !strings.Contains(msg, "raise generation.max_answer_tokens") {
				t.Fatalf("message does not say what happened and what to do: %s", msg)
			}
			waitGone(t, srv) // the body was closed: the server stops generating
			if n := srv.FloodBytes(); n > floodLimit {
				t.Fatalf("server wrote %d bytes before the client left", n)
			}
		})
	}
}

func TestSmallMaxTokensStillAllowsTheMinimumCap(t *testing.T) {
	if got := llm.AnswerLimit(8); got != llm.MinAnswerBytes {
		t.Fatalf("AnswerLimit(8) = %d, want %d", got, llm.MinAnswerBytes)
	}
	if got := llm.AnswerLimit(0); got != 8192*llm.BytesPerToken {
		t.Fatalf("AnswerLimit(0) = %d", got)
	}
	// A real answer within max_tokens is never cut.
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: strings.Repeat("token ", 2000)})
	defer srv.Close()
	c := llm.NewClient(service(llm.KindOllama, srv), nil, fastOpts())
	req := chatReq(llm.KindOllama, "hi")
	req.MaxTokens = 2000
	got, _, err := collect(t, c, context.Background(), req)
	if err != nil || len(got) != 12000 {
		t.Fatalf("len=%d err=%v", len(got), err)
	}
}

func TestLineWithoutEndIsCut(t *testing.T) {
	for _, kind := range boundKinds {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Flood: llmtest.FloodLongLine})
			defer srv.Close()
			c := llm.NewClient(service(kind, srv), nil, fastOpts())
			_, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
			if !errors.Is(err, llm.ErrLineTooLong) {
				t.Fatalf("want ErrLineTooLong, got %v", err)
			}
			if !strings.Contains(err.Error(), "without a line break") || !strings.Contains(err.Error(), "chat API") {
				t.Fatalf("message: %s", err)
			}
			waitGone(t, srv)
			if n := srv.FloodBytes(); n > floodLimit {
				t.Fatalf("server wrote %d bytes before the client left", n)
			}
		})
	}
}

func TestEmptyChunksDoNotResetTheIdleTimeout(t *testing.T) {
	for _, kind := range boundKinds {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Flood: llmtest.FloodReplyThenEmptyChunks, Reply: "Hello", ChunkDelay: 5 * time.Millisecond})
			defer srv.Close()
			opts := fastOpts()
			opts.IdleTimeout = 300 * time.Millisecond
			c := llm.NewClient(service(kind, srv), nil, opts)
			got, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
			if !errors.Is(err, llm.ErrIdleTimeout) {
				t.Fatalf("want ErrIdleTimeout, got %v", err)
			}
			if got != "Hello" {
				t.Fatalf("partial answer = %q, want the one real chunk", got)
			}
			if !strings.Contains(err.Error(), "keep-alives") {
				t.Fatalf("message: %s", err)
			}
			waitGone(t, srv)
		})
	}
}

func TestEmptyChunksDoNotCountAsFirstToken(t *testing.T) {
	for _, kind := range boundKinds {
		t.Run(string(kind), func(t *testing.T) {
			// Only empty chunks and keep-alives from the start: the
			// first-token timeout fires, the idle one (disabled) cannot.
			srv := llmtest.New(kind, llmtest.Options{Flood: llmtest.FloodEmptyChunks, ChunkDelay: 5 * time.Millisecond})
			defer srv.Close()
			opts := fastOpts()
			opts.FirstTokenTimeout = 300 * time.Millisecond
			opts.IdleTimeout = -1
			c := llm.NewClient(service(kind, srv), nil, opts)
			_, _, err := collect(t, c, context.Background(), chatReq(kind, "hi"))
			if !errors.Is(err, llm.ErrFirstTokenTimeout) {
				t.Fatalf("want ErrFirstTokenTimeout, got %v", err)
			}
			waitGone(t, srv)
		})
	}
}

func TestTotalTimeoutEndsAnEndlessStream(t *testing.T) {
	for _, kind := range boundKinds {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Flood: llmtest.FloodEndless, ChunkDelay: 20 * time.Millisecond})
			defer srv.Close()
			opts := fastOpts()
			opts.TotalTimeout = 300 * time.Millisecond
			c := llm.NewClient(service(kind, srv), nil, opts)
			req := chatReq(kind, "hi")
			req.MaxTokens = 1 << 20 // the size cap must not be what ends it
			got, _, err := collect(t, c, context.Background(), req)
			if !errors.Is(err, llm.ErrTotalTimeout) {
				t.Fatalf("want ErrTotalTimeout, got %v", err)
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a total timeout must not look like the caller's cancellation: %v", err)
			}
			if got == "" {
				t.Fatal("the partial answer was lost")
			}
			if !strings.Contains(err.Error(), "raise generation.total_timeout") {
				t.Fatalf("message: %s", err)
			}
			waitGone(t, srv)
		})
	}
}

func TestTotalTimeoutCoversRetries(t *testing.T) {
	// Every request fails with "loading"; retries would go on for a long
	// backoff, but the total timeout ends the call.
	srv := llmtest.New(llm.KindVLLM, llmtest.Options{FailWith: llmtest.FailLoading})
	defer srv.Close()
	opts := fastOpts()
	opts.MaxRetries = 10
	opts.RetryBackoff = time.Hour
	opts.TotalTimeout = 200 * time.Millisecond
	c := llm.NewClient(service(llm.KindVLLM, srv), nil, opts)
	_, _, err := collect(t, c, context.Background(), chatReq(llm.KindVLLM, "hi"))
	if !errors.Is(err, llm.ErrTotalTimeout) {
		t.Fatalf("want ErrTotalTimeout, got %v", err)
	}
}

func TestSSEDataWithoutBlankLineIsBounded(t *testing.T) {
	// Short, well-formed data: lines that never end the event.
	r := llm.NewSSEReader(&repeatReader{s: "data: {\"choices\":[]}\n"})
	r.MaxLine = 64 << 10
	_, err := r.Next()
	if !errors.Is(err, llm.ErrLineTooLong) {
		t.Fatalf("want ErrLineTooLong, got %v", err)
	}
	nd := llm.NewNDJSONReader(&repeatReader{s: "xxxxxxxx"})
	nd.MaxLine = 64 << 10
	if _, err := nd.Next(); !errors.Is(err, llm.ErrLineTooLong) {
		t.Fatalf("NDJSON: want ErrLineTooLong, got %v", err)
	}
}

// repeatReader yields s forever.
type repeatReader struct {
	s string
	i int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.i:])
		n += c
		r.i = (r.i + c) % len(r.s)
	}
	return n, nil
}
