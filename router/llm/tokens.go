package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/lsp-router/lsp-router/router/prompt"
)

// EstimateTokens estimates text's token count for a model id or family
// with the calibrated estimator of package prompt, so the prompt budget and
// the clients agree on one figure.
func EstimateTokens(model, text string) int {
	return prompt.EstimateTokens(prompt.FamilyOf(model), text)
}

func (c *client) family(model string) string {
	if m, ok := c.svc.Model(model); ok && m.Family != "" {
		return m.Family
	}
	return FamilyFromID(model)
}

// CountTokens uses the server's tokenizer where it has one and falls back to
// the estimate when it does not or when that endpoint fails for a reason
// other than cancellation.
func (c *client) CountTokens(ctx context.Context, model, text string) (int, bool, error) {
	n, ok, err := c.exactCount(ctx, model, text)
	if err != nil && ctx.Err() != nil {
		return 0, false, fmt.Errorf("count tokens with %s at %s: %w", c.svc.Kind.DisplayName(), c.base, ctx.Err())
	}
	if ok && err == nil {
		return n, true, nil
	}
	return EstimateTokens(c.family(model), text), false, nil
}

// exactCount calls the kind's tokenize endpoint. ok is false for kinds
// without one.
func (c *client) exactCount(ctx context.Context, model, text string) (int, bool, error) {
	switch c.svc.Kind {
	case KindLlamaCpp:
		var out struct {
			Tokens []json.RawMessage `json:"tokens"`
		}
		err := c.postJSON(ctx, "/tokenize", map[string]any{"content": text}, &out)
		return len(out.Tokens), true, err
	case KindVLLM:
		var out struct {
			Count  int               `json:"count"`
			Tokens []json.RawMessage `json:"tokens"`
		}
		err := c.postJSON(ctx, "/tokenize", map[string]any{"model": model, "prompt": text, "add_special_tokens": false}, &out)
		if out.Count == 0 {
			out.Count = len(out.Tokens)
		}
		return out.Count, true, err
	case KindLocalAI:
		var out struct {
			Tokens []json.RawMessage `json:"tokens"`
		}
		err := c.postJSON(ctx, "/v1/tokenize", map[string]any{"model": model, "content": text}, &out)
		return len(out.Tokens), true, err
	case KindKoboldCpp:
		var out struct {
			Value int `json:"value"`
		}
		err := c.postJSON(ctx, "/api/extra/tokencount", map[string]any{"prompt": text}, &out)
		return out.Value, true, err
	case KindTextGenWebUI:
		var out struct {
			Length int `json:"length"`
		}
		err := c.postJSON(ctx, "/v1/internal/token-count", map[string]any{"text": text}, &out)
		return out.Length, true, err
	case KindTGI:
		var out []json.RawMessage
		err := c.postJSON(ctx, "/tokenize", map[string]any{"inputs": text}, &out)
		return len(out), true, err
	}
	return 0, false, nil
}

// postJSON sends one small JSON request and decodes a 2xx answer into out.
func (c *client) postJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	c.setHeaders(req)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return newTransportError(c.svc.Kind, c.base, "tokenize", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return newTransportError(c.svc.Kind, c.base, "tokenize", err)
	}
	if resp.StatusCode/100 != 2 {
		return newHTTPError(c.svc.Kind, c.base, "tokenize", resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "tokenize",
			Message: fmt.Sprintf("malformed answer %q: %v", truncate(string(data), 200), err)}
	}
	return nil
}

// HasTokenizer reports whether servers of kind k count tokens exactly
// through an endpoint; for the others CountTokens can only estimate.
func (k Kind) HasTokenizer() bool {
	switch k {
	case KindLlamaCpp, KindVLLM, KindLocalAI, KindKoboldCpp, KindTextGenWebUI, KindTGI:
		return true
	}
	return false
}
