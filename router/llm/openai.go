package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

type openAIChatBody struct {
	Model         string         `json:"model"`
	Messages      []Message      `json:"messages"`
	Stream        bool           `json:"stream"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	Stop          []string       `json:"stop,omitempty"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// usageOnRequest lists kinds that report usage in a stream only when asked
// with stream_options.include_usage (vLLM, SGLang, LM Studio, Ollama's /v1 and
// OpenAI proper). Others either always send it (llama.cpp) or may reject
// unknown fields, so they are not sent the option.
var usageOnRequest = map[Kind]bool{KindVLLM: true, KindSGLang: true, KindLMStudio: true,
	KindOllama: true, KindOpenAI: true, KindLocalAI: true}

func (c *client) openAIBody(req ChatRequest) openAIChatBody {
	b := openAIChatBody{Model: req.Model, Messages: req.Messages, Stream: c.streams(),
		MaxTokens: req.MaxTokens, Temperature: req.Temperature, Stop: req.Stop}
	if b.Stream && usageOnRequest[c.svc.Kind] {
		b.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	return b
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

type openAIChunk struct {
	Choices []struct {
		Delta *struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
		} `json:"delta"`
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage  *openAIUsage    `json:"usage"`
	Error  json.RawMessage `json:"error"`
	Object string          `json:"object"`
}

var doneMarker = []byte("[DONE]")

func (c *client) readSSE(body io.Reader, out *sink) (Usage, error) {
	r := NewSSEReader(body)
	defer r.Release()
	r.MaxLine = lineLimit(out.limit)
	var usage Usage
	finished := false
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			if finished {
				// Some servers close after the finish chunk without [DONE].
				return usage, nil
			}
			return usage, c.truncatedErr("data: [DONE]")
		}
		if err != nil {
			return usage, err
		}
		data := bytes.TrimSpace(ev.Data)
		if bytes.Equal(data, doneMarker) {
			return usage, nil
		}
		if ev.Event == "error" {
			return usage, c.midStreamErr(data)
		}
		if len(data) == 0 {
			continue
		}
		var ch openAIChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			return usage, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", MidStream: true,
				Message: fmt.Sprintf("malformed stream event %q: %v", truncate(string(data), 200), err)}
		}
		if (len(ch.Error) > 0 && string(ch.Error) != "null") || ch.Object == "error" {
			return usage, c.midStreamErr(data)
		}
		if ch.Usage != nil && (ch.Usage.PromptTokens > 0 || ch.Usage.CompletionTokens > 0) &&
			!(c.svc.Kind == KindKoboldCpp && ch.Usage.PromptTokens == 100 && ch.Usage.CompletionTokens == 100) {
			// Old KoboldCpp builds send a placeholder 100/100; it is not a count.
			usage = Usage{PromptTokens: ch.Usage.PromptTokens, CompletionTokens: ch.Usage.CompletionTokens}
		}
		for _, choice := range ch.Choices {
			if d := choice.Delta; d != nil {
				if d.ReasoningContent != nil {
					if err := out.reasoning(*d.ReasoningContent); err != nil {
						return usage, err
					}
				}
				if d.Content != nil {
					if err := out.text(*d.Content); err != nil {
						return usage, err
					}
				}
			}
			if choice.FinishReason != nil && *choice.FinishReason != "" {
				finished = true
			}
		}
	}
}

type openAIResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Usage *openAIUsage    `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// readWhole handles servers that cannot stream (GPT4All): the whole answer
// arrives as one JSON document and is delivered as one delta.
func (c *client) readWhole(body io.Reader, out *sink) (Usage, error) {
	// JSON escaping can make the document several times the text's size.
	limit := int64(lineLimit(out.limit)) * 4
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return Usage{}, err
	}
	if int64(len(data)) > limit {
		return Usage{}, out.tooLarge()
	}
	var resp openAIResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return Usage{}, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat",
			Message: fmt.Sprintf("malformed response %q: %v", truncate(string(data), 200), err)}
	}
	if len(resp.Error) > 0 && string(resp.Error) != "null" {
		return Usage{}, c.midStreamErr(data)
	}
	var usage Usage
	if resp.Usage != nil {
		usage = Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	}
	if len(resp.Choices) == 0 {
		return usage, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "chat", Message: "response has no choices"}
	}
	return usage, out.text(resp.Choices[0].Message.Content)
}
