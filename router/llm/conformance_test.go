package llm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
)

// Wire-level conformance: the exact bytes each real server sends, copied
// from its docs or source (named on each case), replayed to the client.
// The doubles in llmtest are checked against the client; these check the
// client against the servers themselves.

type wireCase struct {
	name   string
	kind   llm.Kind
	style  llm.APIStyle
	status int
	ctype  string
	body   string
	// want: the answer text, or the error's flags.
	text     string
	tooLong  bool
	notFound bool
	auth     bool
	mid      bool
	msg      string
}

var wireCases = []wireCase{{
	// ollama/ollama docs/api.md "Chat request (streaming)", response lines
	// (commit fb30760, 2026-08-21), shortened to two tokens.
	name: "ollama NDJSON stream", kind: llm.KindOllama, style: llm.StyleOllama, status: 200, ctype: "application/x-ndjson",
	body: `{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}` + "\n" +
		`{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky"},"done":false}` + "\n" +
		`{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}` + "\n",
	text: "The sky",
}, {
	// Ollama mid-stream error: a {"error"} line while the status stays 200
	// (server/routes.go ChatHandler, commit fb30760).
	name: "ollama mid-stream error", kind: llm.KindOllama, style: llm.StyleOllama, status: 200, ctype: "application/x-ndjson",
	body: `{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false}` + "\n" +
		`{"error":"an error was encountered while running the model: unexpected EOF"}` + "\n",
	mid: true, msg: "unexpected EOF",
}, {
	// Ollama unknown model: 404 {"error"} (server/routes.go, commit fb30760).
	name: "ollama model not found", kind: llm.KindOllama, style: llm.StyleOllama, status: 404, ctype: "application/json",
	body: `{"error":"model \"llama3.3\" not found, try pulling it first"}`, notFound: true,
}, {
	// llama-server stream: OpenAI chunks, usage and timings on the last one,
	// then [DONE] (tools/server/README.md, ggml-org/llama.cpp commit 00dc805).
	name: "llama.cpp SSE stream", kind: llm.KindLlamaCpp, style: llm.StyleOpenAI, status: 200, ctype: "text/event-stream",
	body: `data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1735689600,"id":"chatcmpl-1","model":"gpt-3.5-turbo","system_fingerprint":"b7200-00dc805","object":"chat.completion.chunk"}` + "\n\n" +
		`data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hello"}}],"created":1735689600,"id":"chatcmpl-1","model":"gpt-3.5-turbo","system_fingerprint":"b7200-00dc805","object":"chat.completion.chunk"}` + "\n\n" +
		`data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1735689600,"id":"chatcmpl-1","model":"gpt-3.5-turbo","system_fingerprint":"b7200-00dc805","object":"chat.completion.chunk","usage":{"completion_tokens":1,"prompt_tokens":9,"total_tokens":10},"timings":{"prompt_n":9,"prompt_ms":30.9,"predicted_n":1,"predicted_ms":18.8}}` + "\n\n" +
		"data: [DONE]\n\n",
	text: "Hello",
}, {
	// Current llama-server ends a failing stream with
	// format_oai_sse(json{{"error", res_json}}) (tools/server/server.cpp,
	// handle_completions_impl, late 2025).
	name: "llama.cpp mid-stream error event", kind: llm.KindLlamaCpp, style: llm.StyleOpenAI, status: 200, ctype: "text/event-stream",
	body: `data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hel"}}],"object":"chat.completion.chunk"}` + "\n\n" +
		`data: {"error":{"code":500,"message":"Failed to decode the batch","type":"server_error"}}` + "\n\n",
	mid: true, msg: "Failed to decode the batch",
}, {
	// Older llama-server (and Jan's bundled one) wrote an "error:" field.
	name: "llama.cpp old error field", kind: llm.KindLlamaCpp, style: llm.StyleOpenAI, status: 200, ctype: "text/event-stream",
	body: `data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hel"}}],"object":"chat.completion.chunk"}` + "\n\n" +
		`error: {"code":500,"message":"Failed to decode the batch","type":"server_error"}` + "\n\n",
	mid: true, msg: "Failed to decode the batch",
}, {
	// llama-server refuses a prompt larger than its slot: exceed_context_size_error
	// with the counts (tools/server/server-context.cpp, late 2025 wording).
	name: "llama.cpp context exceeded", kind: llm.KindLlamaCpp, style: llm.StyleOpenAI, status: 400, ctype: "application/json; charset=utf-8",
	body:    `{"error":{"code":400,"message":"request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}`,
	tooLong: true,
}, {
	// vLLM ErrorResponse{error: ErrorInfo{message, type, param, code}}
	// (vllm/entrypoints/openai/protocol.py, 2025; code is the HTTP status)
	// for a prompt over max_model_len (serving_engine.py _validate_input).
	name: "vLLM error body", kind: llm.KindVLLM, style: llm.StyleOpenAI, status: 400, ctype: "application/json",
	body:    `{"error":{"message":"This model's maximum context length is 32768 tokens. However, you requested 40960 tokens (38912 in the messages, 2048 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}}`,
	tooLong: true,
}, {
	// vLLM's V1 input processor: "The {prompt_type} prompt (length N) is
	// longer than the maximum model length of M. {suggestion}"
	// (vllm/v1/engine/processor.py _validate_model_input, 2025).
	name: "vLLM decoder prompt too long", kind: llm.KindVLLM, style: llm.StyleOpenAI, status: 400, ctype: "application/json",
	body:    `{"error":{"message":"The decoder prompt (length 40000) is longer than the maximum model length of 32768. Make sure that ` + "`max_model_len`" + ` is no smaller than the number of text tokens.","type":"BadRequestError","param":null,"code":400}}`,
	tooLong: true,
}, {
	// vLLM unknown model (serving_engine.py _check_model, 2025).
	name: "vLLM model not found", kind: llm.KindVLLM, style: llm.StyleOpenAI, status: 404, ctype: "application/json",
	body:     `{"error":{"message":"The model ` + "`gpt-4`" + ` does not exist.","type":"NotFoundError","param":"model","code":404}}`,
	notFound: true,
}, {
	// vLLM --api-key middleware answers outside its error model
	// (vllm/entrypoints/openai/api_server.py AuthenticationMiddleware).
	name: "vLLM unauthorized", kind: llm.KindVLLM, style: llm.StyleOpenAI, status: 401, ctype: "application/json",
	body: `{"error":"Unauthorized"}`, auth: true,
}, {
	// SGLang keeps the flat older shape (python/sglang/srt/entrypoints/openai/protocol.py, v0.5).
	name: "SGLang flat error", kind: llm.KindSGLang, style: llm.StyleOpenAI, status: 400, ctype: "application/json",
	body:    `{"object":"error","message":"This model's maximum context length is 32768 tokens. However, you requested 40960 tokens.","type":"BadRequestError","param":null,"code":400}`,
	tooLong: true,
}, {
	// GPT4All: a prompt that does not fit its window is an HTTP 500 with
	// no body (reference sheet corrections, 2026-11-29). The request below
	// fills its 2048-token window, so it counts as too long.
	name: "GPT4All empty 500", kind: llm.KindGPT4All, style: llm.StyleOpenAI, status: 500, ctype: "",
	body: "", tooLong: true,
}, {
	// KoboldCpp --password refusal: FastAPI-style {"detail"} (reference
	// sheet, "error body shapes"; koboldcpp.py).
	name: "KoboldCpp unauthorized", kind: llm.KindKoboldCpp, style: llm.StyleOpenAI, status: 401, ctype: "application/json",
	body: `{"detail":{"error":"Unauthorized","msg":"Authentication key is missing or invalid.","type":"unauthorized"}}`, auth: true,
}, {
	// KoboldCpp's old builds end with "data: [DONE]" and no newline, after
	// placeholder usage (reference sheet, KoboldCpp row; koboldcpp.py).
	name: "KoboldCpp stream without final newline", kind: llm.KindKoboldCpp, style: llm.StyleOpenAI, status: 200, ctype: "text/event-stream",
	body: `data: {"id":"koboldcpp","object":"chat.completion.chunk","created":1,"model":"koboldcpp/m","choices":[{"index":0,"finish_reason":null,"delta":{"role":"assistant","content":"Hi"}}]}` + "\n\n" +
		`data: {"id":"koboldcpp","object":"chat.completion.chunk","created":1,"model":"koboldcpp/m","usage":{"prompt_tokens":100,"completion_tokens":100,"total_tokens":200},"choices":[{"index":0,"finish_reason":"stop","delta":{"role":"assistant","content":""}}]}` + "\n\n" +
		"data: [DONE]",
	text: "Hi",
}, {
	// Jan's proxy answers errors in plain text, 503 while no model runs
	// (reference sheet, Jan row, 2026).
	name: "Jan plain-text 503", kind: llm.KindJan, style: llm.StyleOpenAI, status: 503, ctype: "text/plain; charset=utf-8",
	body: "No model is running. Start a model and try again.", msg: "No model is running",
}, {
	// LM Studio overflow, its engine's wording (sic "context the
	// overflows"), as LM Studio 0.3 answers it on /v1/chat/completions.
	name: "LM Studio context overflow", kind: llm.KindLMStudio, style: llm.StyleOpenAI, status: 400, ctype: "application/json",
	body:    `{"error":"Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input"}`,
	tooLong: true,
}}

func TestWireConformance(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			svc := llm.Service{Kind: tc.kind, Endpoint: srv.URL, APIStyle: tc.style, Status: llm.StatusOnline,
				Models: []llm.Model{{ID: "m", ContextLength: 2048, Chat: true}}}
			opts := fastOpts()
			opts.MaxRetries = -1
			req := llm.ChatRequest{Model: "m", MaxTokens: 512,
				Messages: []llm.Message{{Role: "user", Content: strings.Repeat("word ", 1400)}}}
			got, _, err := collect(t, llm.NewClient(svc, nil, opts), context.Background(), req)
			if tc.text != "" {
				if err != nil || got != tc.text {
					t.Fatalf("got %q, %v; want %q", got, err, tc.text)
				}
				return
			}
			e := asLLMError(t, err)
			if e.ContextTooLong != tc.tooLong || e.ModelNotFound != tc.notFound || e.Auth != tc.auth || e.MidStream != tc.mid {
				t.Fatalf("flags: too long %v, not found %v, auth %v, mid-stream %v: %v", e.ContextTooLong, e.ModelNotFound, e.Auth, e.MidStream, err)
			}
			if tc.msg != "" && !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("message %q lacks %q", e.Message, tc.msg)
			}
			if tc.tooLong && !errors.Is(err, llm.ErrContextTooLong) {
				t.Fatal("errors.Is(ErrContextTooLong) is false")
			}
		})
	}
}
