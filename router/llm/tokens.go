package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"
)

// charsPerToken holds calibrated ASCII characters per token for families
// whose servers have no tokenize endpoint. The figures are deliberately on
// the low side of what the tokenizers achieve on source code, so estimates
// err towards more tokens and prompts stay within the window.
var charsPerToken = []struct {
	prefix string
	ratio  float64
}{
	{"llama2", 3.0}, {"codellama", 3.0}, {"mistral", 3.1}, {"mixtral", 3.1}, {"phi", 3.1},
	{"starcoder", 3.3}, {"llama", 3.6}, {"qwen", 3.5}, {"deepseek", 3.4}, {"gemma", 3.7},
	{"command-r", 3.6}, {"granite", 3.3}, {"gpt-oss", 3.7},
}

const defaultCharsPerToken = 3.2

// EstimateTokens estimates text's token count for a model family ("llama",
// "qwen2", ...; empty for unknown). Non-ASCII runes count one token each,
// which matches byte-level BPE behaviour on most scripts.
func EstimateTokens(family, text string) int {
	if text == "" {
		return 0
	}
	ratio := defaultCharsPerToken
	f := strings.ToLower(family)
	for _, c := range charsPerToken {
		if strings.HasPrefix(f, c.prefix) {
			ratio = c.ratio
			break
		}
	}
	ascii, other := 0, 0
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			ascii++
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		other++
		i += size
	}
	return int(math.Ceil(float64(ascii)/ratio)) + other
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
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLine))
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
