package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/router"
)

// chatRequest is the part of OpenAI's chat completion request the gateway
// uses; unknown fields are ignored, as OpenAI-compatible servers do.
type chatRequest struct {
	Model         string          `json:"model"`
	Messages      []chatMessage   `json:"messages"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	MaxTokens     int             `json:"max_tokens"`
	MaxCompletion int             `json:"max_completion_tokens"`
	Temperature   *float64        `json:"temperature"`
	Stop          stringOrList    `json:"stop"`
	Tools         json.RawMessage `json:"tools"`
	Functions     json.RawMessage `json:"functions"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  json.RawMessage `json:"tool_calls"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
}

// stringOrList is OpenAI's "string or array of strings" (stop, prompt).
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or an array of strings")
	}
	*s = many
	return nil
}

// text flattens a message's content: a string, or an array of parts of
// which the text parts are kept (images cannot go to a text model).
func (m chatMessage) text() (string, error) {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", fmt.Errorf("message content must be a string or an array of parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" || p.Type == "input_text" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

// toRouter converts the messages. Tool calls and results pass as text:
// the gateway forwards text conversations (see docs/gateway.md), and a
// "tool" message without its call would be refused by the servers.
func toRouter(in []chatMessage) ([]router.Message, error) {
	out := make([]router.Message, 0, len(in))
	for i, m := range in {
		t, err := m.text()
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		switch m.Role {
		case "system", "user", "assistant":
		case "developer":
			m.Role = "system"
		case "tool", "function":
			m.Role, t = "user", "Tool result:\n"+t
		default:
			return nil, fmt.Errorf("messages[%d]: unknown role %q: use system, user, assistant or tool", i, m.Role)
		}
		if m.Role == "assistant" && len(m.ToolCalls) > 0 && string(m.ToolCalls) != "null" {
			t = strings.TrimSpace(t + "\nTool calls: " + string(m.ToolCalls))
		}
		out = append(out, router.Message{Role: m.Role, Content: t})
	}
	return out, nil
}

type chatChoice struct {
	Index        int          `json:"index"`
	Message      *respMessage `json:"message,omitempty"`
	Delta        *respMessage `json:"delta,omitempty"`
	FinishReason *string      `json:"finish_reason"`
}

type respMessage struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *usage       `json:"usage,omitempty"`
}

func stop() *string { s := "stop"; return &s }

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request, c caller) {
	var req chatRequest
	if !decode(w, r, &req) {
		return
	}
	named, cat, err := resolveModel(req.Model)
	if err != nil {
		writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found", err.Error())
		return
	}
	msgs, err := toRouter(req.Messages)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_messages", err.Error())
		return
	}
	if len(msgs) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_messages", "messages is empty: send at least one user message")
		return
	}
	maxTokens := req.MaxTokens
	if req.MaxCompletion > 0 {
		maxTokens = req.MaxCompletion
	}
	rreq := router.ChatRequest{Messages: msgs, Model: named, Category: cat, MaxTokens: maxTokens, Temperature: req.Temperature,
		Stop: req.Stop, Agent: "gateway:" + c.owner, Command: "chat",
		Tools: len(req.Tools) > 2 && string(req.Tools) != "null" || len(req.Functions) > 2 && string(req.Functions) != "null"}
	id, created := newID("chatcmpl-"), time.Now().Unix()
	if !req.Stream {
		res, err := s.run(r.Context(), rreq, func(router.ChatChunk) error { return nil })
		if err != nil {
			s.failure(w, nil, err)
			return
		}
		setRouteHeaders(w, router.ChatChunk{Model: res.Model, Service: res.Service, Category: res.Category})
		writeJSON(w, chatResponse{ID: id, Object: "chat.completion", Created: created, Model: res.Model,
			Choices: []chatChoice{{Message: &respMessage{Role: "assistant", Content: res.Answer}, FinishReason: stop()}},
			Usage:   &usage{res.TokensIn, res.TokensOut, res.TokensIn + res.TokensOut}})
		return
	}
	stream := &sse{w: w}
	res, err := s.run(r.Context(), rreq, func(ch router.ChatChunk) error {
		delta := &respMessage{Content: ch.Delta}
		if !stream.started {
			setRouteHeaders(w, ch)
			delta.Role = "assistant"
		}
		return stream.send(chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: ch.Model,
			Choices: []chatChoice{{Delta: delta}}})
	})
	if err != nil {
		if r.Context().Err() == nil {
			s.failure(w, stream, err)
		}
		return
	}
	if !stream.started {
		// An empty answer: the client still gets a well-formed stream.
		setRouteHeaders(w, router.ChatChunk{Model: res.Model, Service: res.Service, Category: res.Category})
		_ = stream.send(chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: res.Model,
			Choices: []chatChoice{{Delta: &respMessage{Role: "assistant"}}}})
	}
	_ = stream.send(chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: res.Model,
		Choices: []chatChoice{{Delta: &respMessage{}, FinishReason: stop()}}})
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		_ = stream.send(chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: res.Model,
			Choices: []chatChoice{}, Usage: &usage{res.TokensIn, res.TokensOut, res.TokensIn + res.TokensOut}})
	}
	stream.done()
}

// completionRequest is OpenAI's legacy completion request, which editors'
// autocomplete (Continue's tab completion) uses with suffix for
// fill-in-the-middle.
type completionRequest struct {
	Model         string         `json:"model"`
	Prompt        stringOrList   `json:"prompt"`
	Suffix        string         `json:"suffix"`
	MaxTokens     int            `json:"max_tokens"`
	Temperature   *float64       `json:"temperature"`
	Stop          stringOrList   `json:"stop"`
	Stream        bool           `json:"stream"`
	StreamOptions *streamOptions `json:"stream_options"`
}

type completionChoice struct {
	Text         string  `json:"text"`
	Index        int     `json:"index"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

type completionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *usage             `json:"usage,omitempty"`
}

// fimSystem asks a chat model for the middle of a file: every local server
// speaks chat, not every one has a FIM template for its model.
const fimSystem = "You complete code. Reply with only the text that belongs at <CURSOR>, between the prefix and the suffix: no explanation, no code fences, nothing repeated from the prefix or the suffix."

// completionMessages turns a completion into chat messages.
func completionMessages(prompt, suffix string) []router.Message {
	if suffix == "" {
		return []router.Message{
			{Role: "system", Content: "Continue the text. Reply with only the continuation, no explanation."},
			{Role: "user", Content: prompt},
		}
	}
	return []router.Message{
		{Role: "system", Content: fimSystem},
		{Role: "user", Content: "Complete the code at <CURSOR>.\n\n" + prompt + "<CURSOR>" + suffix},
	}
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request, c caller) {
	var req completionRequest
	if !decode(w, r, &req) {
		return
	}
	named, cat, err := resolveModel(req.Model)
	if err != nil {
		writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found", err.Error())
		return
	}
	if len(req.Prompt) != 1 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_prompt", fmt.Sprintf("prompt has %d entries: send one prompt per request", len(req.Prompt)))
		return
	}
	if named == "" && cat == "" {
		cat = "coding" // completing code is writing code
	}
	rreq := router.ChatRequest{Messages: completionMessages(req.Prompt[0], req.Suffix), Model: named, Category: cat,
		MaxTokens: req.MaxTokens, Temperature: req.Temperature, Stop: req.Stop, Agent: "gateway:" + c.owner, Command: "completion"}
	id, created := newID("cmpl-"), time.Now().Unix()
	if !req.Stream {
		res, err := s.run(r.Context(), rreq, func(router.ChatChunk) error { return nil })
		if err != nil {
			s.failure(w, nil, err)
			return
		}
		setRouteHeaders(w, router.ChatChunk{Model: res.Model, Service: res.Service, Category: res.Category})
		writeJSON(w, completionResponse{ID: id, Object: "text_completion", Created: created, Model: res.Model,
			Choices: []completionChoice{{Text: res.Answer, FinishReason: stop()}},
			Usage:   &usage{res.TokensIn, res.TokensOut, res.TokensIn + res.TokensOut}})
		return
	}
	stream := &sse{w: w}
	res, err := s.run(r.Context(), rreq, func(ch router.ChatChunk) error {
		if !stream.started {
			setRouteHeaders(w, ch)
		}
		return stream.send(completionResponse{ID: id, Object: "text_completion", Created: created, Model: ch.Model,
			Choices: []completionChoice{{Text: ch.Delta}}})
	})
	if err != nil {
		if r.Context().Err() == nil {
			s.failure(w, stream, err)
		}
		return
	}
	_ = stream.send(completionResponse{ID: id, Object: "text_completion", Created: created, Model: res.Model,
		Choices: []completionChoice{{FinishReason: stop()}}})
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		_ = stream.send(completionResponse{ID: id, Object: "text_completion", Created: created, Model: res.Model,
			Choices: []completionChoice{}, Usage: &usage{res.TokensIn, res.TokensOut, res.TokensIn + res.TokensOut}})
	}
	stream.done()
}
