package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

type ollamaChatBody struct {
	Model     string         `json:"model"`
	Messages  []Message      `json:"messages"`
	Stream    bool           `json:"stream"`
	KeepAlive string         `json:"keep_alive,omitempty"`
	Options   map[string]any `json:"options,omitempty"`
}

// Ollama's default num_ctx is small and silently truncates long prompts, so
// every request names one. Values come from a few buckets because each new
// num_ctx makes Ollama reload the model.
var numCtxBuckets = []int{4096, 8192, 16384, 32768, 65536, 131072, 262144}

// defaultReplyReserve is room left for the answer when MaxTokens is unset.
const defaultReplyReserve = 1024

func (c *client) ollamaBody(req ChatRequest) ollamaChatBody {
	opts := map[string]any{"num_ctx": c.numCtx(req)}
	if req.Temperature != nil {
		opts["temperature"] = *req.Temperature
	}
	if req.MaxTokens > 0 {
		opts["num_predict"] = req.MaxTokens
	}
	if len(req.Stop) > 0 {
		opts["stop"] = req.Stop
	}
	return ollamaChatBody{Model: req.Model, Messages: req.Messages, Stream: true,
		KeepAlive: c.opts.KeepAlive, Options: opts}
}

// numCtx sizes the context window: the prompt's estimated tokens plus the
// answer's reserve, rounded up to a bucket, never above the model's context
// length when discovery knows it.
func (c *client) numCtx(req ChatRequest) int {
	limit := 0
	family := ""
	if m, ok := c.svc.Model(req.Model); ok {
		limit = m.ContextLength
		family = m.Family
	}
	if req.NumCtx > 0 {
		if limit > 0 && req.NumCtx > limit {
			return limit
		}
		return req.NumCtx
	}
	need := 0
	for _, m := range req.Messages {
		need += EstimateTokens(family, m.Content) + 4
	}
	reserve := req.MaxTokens
	if reserve <= 0 {
		reserve = defaultReplyReserve
	}
	need += reserve
	n := numCtxBuckets[len(numCtxBuckets)-1]
	for _, b := range numCtxBuckets {
		if b >= need {
			n = b
			break
		}
	}
	if limit > 0 && n > limit {
		n = limit
	}
	return n
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
