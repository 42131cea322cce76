package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

type ollamaChatBody struct {
	Model     string        `json:"model"`
	Messages  []Message     `json:"messages"`
	Stream    bool          `json:"stream"`
	KeepAlive string        `json:"keep_alive,omitempty"`
	Options   ollamaOptions `json:"options"`
}

// ollamaOptions are the options a chat sends, in the order a map's keys
// marshal (sorted), so the body is the same bytes as before it was a
// struct; a struct marshals without the map's sorting and boxing.
type ollamaOptions struct {
	NumCtx      int      `json:"num_ctx"`
	NumPredict  int      `json:"num_predict,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
}

// Ollama reloads a loaded model whenever a request's options.num_ctx
// differs from the window it was loaded with (runnerRef.needsReload in
// ollama/ollama server/sched.go, commit fb30760, 2026-08-21): seconds for a
// 7B model, each time. So the client never sends a per-request size: it keeps
// the loaded window (/api/ps context_length) when the prompt fits, and
// otherwise picks the smallest of a few fixed sizes, powers of two from
// MinOllamaWindow up to the model's maximum.

// MinOllamaWindow is the smallest num_ctx sent; Ollama itself never loads a
// model with less (sched.go raises num_ctx to 2048).
const MinOllamaWindow = 2048

// maxOllamaWindow bounds the sizes tried when the model's maximum is unknown.
const maxOllamaWindow = 1 << 20

// defaultReplyReserve is room left for the answer when MaxTokens is unset.
const defaultReplyReserve = 1024

// OllamaWindow is the num_ctx to send for a request that needs need tokens
// (prompt plus answer): loaded when the model is loaded with a window at
// least that large, else the smallest power of two >= MinOllamaWindow that
// holds need, never above max (the model's maximum, 0 when unknown). When
// no size holds need, max (or the largest size) is returned and the server
// reports or truncates the overflow.
func OllamaWindow(need, loaded, max int) int {
	if loaded > 0 && need <= loaded && (max <= 0 || loaded <= max) {
		return loaded
	}
	if max > 0 && max < MinOllamaWindow {
		return max
	}
	for b := MinOllamaWindow; b <= maxOllamaWindow; b *= 2 {
		if max > 0 && b > max {
			break
		}
		if b >= need {
			return b
		}
	}
	if max > 0 {
		return max
	}
	return maxOllamaWindow
}

// windows remembers, per endpoint and model, the num_ctx last sent to an
// Ollama server: the model is loaded with it now, which is newer than what
// discovery saw in /api/ps when the answer was cached.
var windows sync.Map // endpoint + "\x00" + model -> int

func (c *client) ollamaBody(req ChatRequest) ollamaChatBody {
	n := c.numCtx(req)
	windows.Store(c.base+"\x00"+req.Model, n)
	opts := ollamaOptions{NumCtx: n, Temperature: req.Temperature, Stop: req.Stop}
	if req.MaxTokens > 0 {
		opts.NumPredict = req.MaxTokens
	}
	return ollamaChatBody{Model: req.Model, Messages: req.Messages, Stream: true,
		KeepAlive: c.opts.KeepAlive, Options: opts}
}

// numCtx sizes the context window with OllamaWindow: what the request
// needs (the caller's count, else an estimate of the messages plus the
// answer's reserve) against the loaded window and the model's maximum.
func (c *client) numCtx(req ChatRequest) int {
	limit, loaded := 0, 0
	family := ""
	if m, ok := c.svc.Model(req.Model); ok {
		limit = m.ContextLength
		family = m.Family
		if m.Loaded {
			loaded = m.LoadedContext
		}
	}
	if v, ok := windows.Load(c.base + "\x00" + req.Model); ok {
		loaded = v.(int)
	}
	need := req.NumCtx
	if need <= 0 {
		for _, m := range req.Messages {
			need += EstimateTokens(family, m.Content) + 4
		}
		reserve := req.MaxTokens
		if reserve <= 0 {
			reserve = defaultReplyReserve
		}
		need += reserve
	}
	return OllamaWindow(need, loaded, limit)
}

type ollamaChunk struct {
	Message *struct {
		Content  string `json:"content"`
		Thinking string `json:"thinking"`
	} `json:"message"`
	Done            bool            `json:"done"`
	DoneReason      string          `json:"done_reason"`
	PromptEvalCount int             `json:"prompt_eval_count"`
	EvalCount       int             `json:"eval_count"`
	Error           json.RawMessage `json:"error"`
}

func (c *client) readOllama(body io.Reader, out *sink) (Usage, error) {
	r := NewNDJSONReader(body)
	defer r.Release()
	r.MaxLine = lineLimit(out.limit)
	for {
		line, err := r.Next()
		if errors.Is(err, io.EOF) {
			return Usage{}, c.truncatedErr(`the final "done" line`)
		}
		if err != nil {
			return Usage{}, err
		}
		var ch ollamaChunk
		if err := json.Unmarshal(line, &ch); err != nil {
			return Usage{}, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", MidStream: true,
				Message: fmt.Sprintf("malformed stream line %q: %v", truncate(string(line), 200), err)}
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			// An error mid-stream keeps HTTP 200: the line is {"error":"..."}.
			return Usage{}, c.midStreamErr(line)
		}
		if ch.Message != nil {
			if err := out.reasoning(ch.Message.Thinking); err != nil {
				return Usage{}, err
			}
			if err := out.text(ch.Message.Content); err != nil {
				return Usage{}, err
			}
		}
		if ch.Done {
			return Usage{PromptTokens: ch.PromptEvalCount, CompletionTokens: ch.EvalCount}, nil
		}
	}
}
