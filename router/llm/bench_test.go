package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// replayTransport answers every request with a recorded stream from memory,
// so the benchmark measures the client's relay cost alone: reading, parsing
// and handing each chunk to the callback.
type replayTransport struct {
	body        []byte
	contentType string
}

func (t replayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {t.contentType}},
		Body: io.NopCloser(bytes.NewReader(t.body)), Request: r}, nil
}

func recordSSE(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		c, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
			"model": "qwen2.5-coder-7b-instruct", "choices": []any{map[string]any{"index": 0,
				"delta": map[string]any{"content": fmt.Sprintf(" tok%d", i)}, "finish_reason": nil}}})
		fmt.Fprintf(&b, "data: %s\n\n", c)
	}
	b.WriteString(`data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":` + fmt.Sprint(n) + "}}\n\ndata: [DONE]\n\n")
	return b.Bytes()
}

func recordNDJSON(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		c, _ := json.Marshal(map[string]any{"model": "qwen2.5-coder:7b", "created_at": "2025-01-01T00:00:00.000000000Z",
			"message": map[string]any{"role": "assistant", "content": fmt.Sprintf(" tok%d", i)}, "done": false})
		b.Write(c)
		b.WriteByte('\n')
	}
	b.WriteString(`{"model":"qwen2.5-coder:7b","done":true,"prompt_eval_count":10,"eval_count":` + fmt.Sprint(n) + "}\n")
	return b.Bytes()
}

// benchRelay streams `chunks` chunks per op and reports the mean cost per
// chunk, chunks per second and the p99 gap between two deltas reaching the
// callback (which, with the data already in memory, is the relay's own
// per-chunk latency).
func benchRelay(b *testing.B, kind llm.Kind, body []byte, chunks int) {
	hc := &http.Client{Transport: replayTransport{body: body, contentType: "text/event-stream"}}
	c := llm.NewClient(llm.Service{Kind: kind, Endpoint: "http://bench.invalid"}, hc, llm.Options{})
	req := llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "user", Content: "hi"}}}
	gaps := make([]time.Duration, 0, chunks*b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		last := time.Now()
		n := 0
		_, err := c.Chat(context.Background(), req, func(string) error {
			now := time.Now()
			gaps = append(gaps, now.Sub(last))
			last = now
			n++
			return nil
		})
		if err != nil || n != chunks {
			b.Fatalf("n=%d err=%v", n, err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	total := float64(chunks * b.N)
	b.ReportMetric(float64(elapsed.Nanoseconds())/total, "ns/chunk")
	b.ReportMetric(total/elapsed.Seconds(), "chunks/s")
	b.ReportMetric(float64(gaps[len(gaps)*99/100].Nanoseconds()), "p99-ns/chunk")
}

func BenchmarkRelaySSE(b *testing.B) {
	benchRelay(b, llm.KindVLLM, recordSSE(1000), 1000)
}

func BenchmarkRelayNDJSON(b *testing.B) {
	benchRelay(b, llm.KindOllama, recordNDJSON(1000), 1000)
}

// BenchmarkRelayLoopback streams from a double over a real loopback TCP
// connection: server encoding and the network stack are included.
func BenchmarkRelayLoopback(b *testing.B) {
	for _, kind := range []llm.Kind{llm.KindOllama, llm.KindLlamaCpp} {
		b.Run(string(kind), func(b *testing.B) {
			const chunks = 500
			srv := llmtest.New(kind, llmtest.Options{ChunkSize: 4, Reply: string(bytes.Repeat([]byte("abcd"), chunks))})
			defer srv.Close()
			c := llm.NewClient(llm.Service{Kind: kind, Endpoint: srv.URL}, nil, llm.Options{})
			req := llm.ChatRequest{Model: llmtest.DefaultModel(kind).ID, Messages: []llm.Message{{Role: "user", Content: "hi"}}}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				n := 0
				if _, err := c.Chat(context.Background(), req, func(string) error { n++; return nil }); err != nil || n != chunks {
					b.Fatalf("n=%d err=%v", n, err)
				}
			}
			b.ReportMetric(float64(chunks*b.N)/time.Since(start).Seconds(), "chunks/s")
		})
	}
}

// endlessBody is a response body that repeats unit forever after prefix and
// samples the heap as it goes, so a benchmark sees the peak while the client
// reads, not just after.
type endlessBody struct {
	prefix, unit []byte
	off          int
	read         int64
	sample       func()
	closed       bool
}

func (e *endlessBody) Read(p []byte) (int, error) {
	n := 0
	if len(e.prefix) > 0 {
		n = copy(p, e.prefix)
		e.prefix = e.prefix[n:]
	}
	for n < len(p) {
		c := copy(p[n:], e.unit[e.off:])
		n += c
		e.off = (e.off + c) % len(e.unit)
	}
	before := e.read
	e.read += int64(n)
	if e.read>>18 != before>>18 { // every 256 KiB
		e.sample()
	}
	return n, nil
}

func (e *endlessBody) Close() error { e.closed = true; return nil }

type endlessTransport struct {
	body        func() *endlessBody
	contentType string
	last        *endlessBody
}

func (t *endlessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	t.last = t.body()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {t.contentType}},
		Body: t.last, Request: r}, nil
}

// BenchmarkEndlessStreamMemory feeds the client streams that never end (each
// op reads one until the client's bound cuts it) and reports the peak live
// heap above the baseline while reading, the bytes read before the cut and
// the bytes allocated per op. Without bounds these grow until the process
// dies (the issue measured 1.47 GB in 8.5 s); with them the peak stays near
// the answer cap (max_answer_tokens 2048 → 64 KiB) or the 1 MiB line cap.
func BenchmarkEndlessStreamMemory(b *testing.B) {
	sseChunk := []byte(`data: {"choices":[{"index":0,"delta":{"content":"all work and no play "},"finish_reason":null}]}` + "\n\n")
	ndChunk := []byte(`{"model":"m","message":{"role":"assistant","content":"all work and no play "},"done":false}` + "\n")
	cases := []struct {
		name, ctype  string
		kind         llm.Kind
		prefix, unit []byte
		want         error
	}{
		{"sse-endless", "text/event-stream", llm.KindVLLM, nil, sseChunk, llm.ErrAnswerTooLarge},
		{"sse-no-blank-line", "text/event-stream", llm.KindVLLM, nil, []byte("data: {\"choices\":[]}\n"), llm.ErrLineTooLong},
		{"ndjson-endless", "application/x-ndjson", llm.KindOllama, nil, ndChunk, llm.ErrAnswerTooLarge},
		{"ndjson-endless-line", "application/x-ndjson", llm.KindOllama, []byte(`{"message":{"content":"`), []byte("xxxxxxxxxxxxxxxx"), llm.ErrLineTooLong},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var base runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&base)
			var peak uint64
			sample := func() {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base.HeapAlloc && m.HeapAlloc-base.HeapAlloc > peak {
					peak = m.HeapAlloc - base.HeapAlloc
				}
			}
			tr := &endlessTransport{contentType: tc.ctype, body: func() *endlessBody {
				return &endlessBody{prefix: tc.prefix, unit: tc.unit, sample: sample}
			}}
			c := llm.NewClient(llm.Service{Kind: tc.kind, Endpoint: "http://bench.invalid"}, &http.Client{Transport: tr}, llm.Options{})
			req := llm.ChatRequest{Model: "m", MaxTokens: 2048, Messages: []llm.Message{{Role: "user", Content: "hi"}}}
			var read int64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var answer []byte
				_, err := c.Chat(context.Background(), req, func(d string) error { answer = append(answer, d...); return nil })
				if !errors.Is(err, tc.want) {
					b.Fatalf("want %v, got %v", tc.want, err)
				}
				if !tr.last.closed {
					b.Fatal("the body was not closed at the bound")
				}
				sample()
				read += tr.last.read
			}
			b.StopTimer()
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(read)/float64(b.N)/(1<<20), "read-MiB/op")
		})
	}
}
