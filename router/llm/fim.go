package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// FIMRequest asks for the text between Prefix and Suffix (fill in the
// middle), for inline completion.
type FIMRequest struct {
	Model  string
	Prefix string
	Suffix string
	// Prompt is the same request written in the model family's FIM
	// template, for servers without a native FIM API (a raw prompt sent to
	// /v1/completions). Empty means only native FIM may be used.
	Prompt string
	// MaxTokens caps the answer; Stop ends it at any of these strings.
	MaxTokens   int
	Stop        []string
	Temperature *float64
	// Extra is more context (snippets of other open files); only llama.cpp's
	// /infill has a field for it (input_extra). Other servers get it in
	// Prefix and Prompt from the caller.
	Extra []FIMFile
}

// FIMFile is one snippet of another file for llama.cpp's input_extra.
type FIMFile struct {
	Filename string `json:"filename"`
	Text     string `json:"text"`
}

// FIMResult is the generated middle and the server's counts.
type FIMResult struct {
	Text  string
	Usage Usage
	// Route is the server API that answered ("/api/generate", "/infill",
	// "/v1/completions").
	Route string
}

// FIMClient fills in the middle. The client NewClient returns implements
// it; check with SupportsFIM first.
type FIMClient interface {
	FIM(ctx context.Context, req FIMRequest) (FIMResult, error)
}

// FIMRoute is the API a server of kind k fills in the middle with, and
// whether it takes prefix and suffix natively (else the family's template
// is sent as a raw prompt). "" means the kind has no raw completion API.
//
//   - Ollama: POST /api/generate with "suffix"; the model's template puts
//     prefix and suffix into its FIM tokens (GenerateRequest.Suffix in
//     ollama/ollama api/types.go, commit fb30760, 2026-08-21; a template
//     without .Suffix is refused with "does not support insert").
//   - llama.cpp: POST /infill with input_prefix, input_suffix and
//     input_extra (tools/server/README.md and handle_infill in
//     tools/server/server.cpp, ggml-org/llama.cpp b6000): the server adds
//     the model's FIM tokens (llama-vocab.cpp FIM_PRE/FIM_SUF/FIM_MID).
//   - OpenAI-compatible servers: POST /v1/completions with the template in
//     "prompt". vLLM refuses "suffix" ("suffix is not currently supported",
//     vllm/entrypoints/openai/serving_completion.py), and the others ignore
//     it, so the template is the portable way.
func FIMRoute(k Kind) (route string, native bool) {
	switch k {
	case KindOllama:
		return "/api/generate", true
	case KindLlamaCpp:
		return "/infill", true
	case KindLMStudio, KindVLLM, KindSGLang, KindLocalAI, KindKoboldCpp, KindTGI, KindTextGenWebUI, KindOpenAI:
		return "/v1/completions", false
	}
	// GPT4All, Jan and Open WebUI offer chat only.
	return "", false
}

// SupportsFIM reports whether completions can be had from svc at all.
func SupportsFIM(svc Service) bool {
	r, _ := FIMRoute(svc.Kind)
	return r != ""
}

type ollamaGenerateBody struct {
	Model     string         `json:"model"`
	Prompt    string         `json:"prompt"`
	Suffix    string         `json:"suffix"`
	Stream    bool           `json:"stream"`
	Raw       bool           `json:"raw"`
	KeepAlive string         `json:"keep_alive,omitempty"`
	Options   map[string]any `json:"options,omitempty"`
}

type llamaInfillBody struct {
	InputPrefix string    `json:"input_prefix"`
	InputSuffix string    `json:"input_suffix"`
	InputExtra  []FIMFile `json:"input_extra,omitempty"`
	Prompt      string    `json:"prompt"`
	NPredict    int       `json:"n_predict,omitempty"`
	Stop        []string  `json:"stop,omitempty"`
	Temperature *float64  `json:"temperature,omitempty"`
	Stream      bool      `json:"stream"`
	CachePrompt bool      `json:"cache_prompt"`
}

type completionsBody struct {
	Model       string   `json:"model"`
	Prompt      string   `json:"prompt"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Stream      bool     `json:"stream"`
}

// fimAnswer holds the fields of the three answers: Ollama's "response",
// llama.cpp's "content", OpenAI's choices[].text.
type fimAnswer struct {
	Response        *string `json:"response"`
	Content         *string `json:"content"`
	PromptEvalCount int     `json:"prompt_eval_count"`
	EvalCount       int     `json:"eval_count"`
	Choices         []struct {
		Text string `json:"text"`
	} `json:"choices"`
	Usage           *openAIUsage    `json:"usage"`
	TokensEvaluated int             `json:"tokens_evaluated"`
	TokensPredicted int             `json:"tokens_predicted"`
	Error           json.RawMessage `json:"error"`
}

// FIM sends one non-streamed fill-in-the-middle request: completions are
// short, and one answer is simpler to bound and cut than a stream.
// Cancelling ctx closes the connection, which stops the generation. No
// retries: a completion that is late is useless, the next keystroke asks
// again.
func (c *client) FIM(ctx context.Context, req FIMRequest) (FIMResult, error) {
	route, native := FIMRoute(c.svc.Kind)
	if route == "" {
		return FIMResult{}, fmt.Errorf("%s at %s has no completion API (chat only): inline completion needs Ollama, llama.cpp or an OpenAI-compatible /v1/completions server", c.svc.Kind.DisplayName(), c.base)
	}
	if req.Model == "" {
		return FIMResult{}, fmt.Errorf("complete with %s at %s: no model given", c.svc.Kind.DisplayName(), c.base)
	}
	if !native && req.Prompt == "" {
		return FIMResult{}, fmt.Errorf("complete with %s at %s: the server has no native fill-in-the-middle and the model has no known FIM template", c.svc.Kind.DisplayName(), c.base)
	}
	var body any
	switch route {
	case "/api/generate":
		// raw:false: Ollama applies the model's template, which places
		// prompt and suffix around its FIM tokens.
		opts := map[string]any{}
		if req.MaxTokens > 0 {
			opts["num_predict"] = req.MaxTokens
		}
		if req.Temperature != nil {
			opts["temperature"] = *req.Temperature
		}
		if len(req.Stop) > 0 {
			opts["stop"] = req.Stop
		}
		if v, ok := windows.Load(c.base + "\x00" + req.Model); ok {
			// Never make Ollama reload the model for a completion.
			opts["num_ctx"] = v.(int)
		}
		body = ollamaGenerateBody{Model: req.Model, Prompt: req.Prefix, Suffix: req.Suffix, KeepAlive: c.opts.KeepAlive, Options: opts}
	case "/infill":
		body = llamaInfillBody{InputPrefix: req.Prefix, InputSuffix: req.Suffix, InputExtra: req.Extra,
			NPredict: req.MaxTokens, Stop: req.Stop, Temperature: req.Temperature, CachePrompt: true}
	default:
		body = completionsBody{Model: req.Model, Prompt: req.Prompt, MaxTokens: req.MaxTokens, Stop: req.Stop, Temperature: req.Temperature}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return FIMResult{}, fmt.Errorf("encode completion request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+route, bytes.NewReader(b))
	if err != nil {
		return FIMResult{}, fmt.Errorf("complete with %s: bad endpoint %q: %w", c.svc.Kind.DisplayName(), c.svc.Endpoint, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if c.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return FIMResult{}, fmt.Errorf("complete with %s at %s: %w", c.svc.Kind.DisplayName(), c.base, ctx.Err())
		}
		return FIMResult{}, newTransportError(c.svc.Kind, c.base, "complete", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return FIMResult{}, newHTTPError(c.svc.Kind, c.base, "complete", resp.StatusCode, data)
	}
	// JSON escaping can make the document several times the text's size.
	limit := int64(AnswerLimit(req.MaxTokens)) * 4
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return FIMResult{}, fmt.Errorf("complete with %s at %s: %w", c.svc.Kind.DisplayName(), c.base, ctx.Err())
		}
		return FIMResult{}, newTransportError(c.svc.Kind, c.base, "complete", err)
	}
	if int64(len(data)) > limit {
		return FIMResult{}, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "complete", Err: ErrAnswerTooLarge,
			Message: fmt.Sprintf("the completion exceeded %d KiB; lower completion.max_tokens", limit>>10)}
	}
	var a fimAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return FIMResult{}, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "complete",
			Message: fmt.Sprintf("malformed completion answer %q: %v", truncate(string(data), 200), err)}
	}
	if len(a.Error) > 0 && string(a.Error) != "null" {
		msg, code := parseErrorBody(data)
		e := &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "complete", Message: msg}
		classify(e, code)
		return FIMResult{}, e
	}
	res := FIMResult{Route: route}
	switch {
	case a.Response != nil:
		res.Text = *a.Response
		res.Usage = Usage{PromptTokens: a.PromptEvalCount, CompletionTokens: a.EvalCount}
	case a.Content != nil:
		res.Text = *a.Content
		res.Usage = Usage{PromptTokens: a.TokensEvaluated, CompletionTokens: a.TokensPredicted}
	case len(a.Choices) > 0:
		res.Text = a.Choices[0].Text
		if a.Usage != nil {
			res.Usage = Usage{PromptTokens: a.Usage.PromptTokens, CompletionTokens: a.Usage.CompletionTokens}
		}
	default:
		return FIMResult{}, &Error{Kind: c.svc.Kind, Endpoint: c.base, Op: "complete",
			Message: fmt.Sprintf("completion answer without text %q", truncate(string(data), 200))}
	}
	return res, nil
}

// ErrNoFIM says a client cannot fill in the middle.
var ErrNoFIM = errors.New("this client cannot fill in the middle")
