package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/lsp-router/lsp-router/router/llm"
)

// FIMRequest is a fill-in-the-middle request as the double decoded it.
type FIMRequest struct {
	// Path is the route: /api/generate, /infill or /v1/completions.
	Path  string
	Model string
	// Prefix and Suffix are the native fields: Ollama's prompt and suffix,
	// llama.cpp's input_prefix and input_suffix. Prompt is the raw prompt of
	// /v1/completions (the family's FIM template).
	Prefix string
	Suffix string
	Prompt string
	// Extra is llama.cpp's input_extra.
	Extra []llm.FIMFile
	// Raw is the whole JSON body.
	Raw map[string]any
}

// fimState records what the FIM routes saw.
type fimState struct {
	mu        sync.Mutex
	reqs      []FIMRequest
	cancelled atomic.Int64
}

// FIMRequests returns the fill-in-the-middle requests received so far.
func (s *Server) FIMRequests() []FIMRequest {
	s.fim.mu.Lock()
	defer s.fim.mu.Unlock()
	return append([]FIMRequest(nil), s.fim.reqs...)
}

// FIMCancelled counts FIM requests whose client closed the connection
// before the answer was sent: a real server stops generating then.
func (s *Server) FIMCancelled() int64 { return s.fim.cancelled.Load() }

// fimReply is the middle the double generates for req.
func (s *Server) fimReply(req FIMRequest) string {
	if s.opts.FIMFunc != nil {
		return s.opts.FIMFunc(req)
	}
	if s.opts.FIMReply != "" {
		return s.opts.FIMReply
	}
	return s.opts.Reply
}

// fimRoutes adds the kind's fill-in-the-middle API.
func (s *Server) fimRoutes() {
	switch s.Kind {
	case llm.KindOllama:
		// POST /api/generate: GenerateRequest (prompt, suffix, raw, stream,
		// options) and GenerateResponse (response, done, done_reason,
		// prompt_eval_count, eval_count) from ollama/ollama api/types.go;
		// GenerateHandler in server/routes.go (commit fb30760, 2026-08-21):
		// raw with template, system or context is refused ("raw mode does
		// not support template, system, or context"), a suffix asks for the
		// insert capability (a template with .Suffix) and a model without
		// it is refused with 400, an unknown model with 404.
		s.mux.HandleFunc("POST /api/generate", s.auth(s.ollamaGenerate))
	case llm.KindLlamaCpp:
		// POST /infill: input_prefix, input_suffix, input_extra, prompt,
		// n_predict, stream; answers like /completion with "content",
		// "stop", "tokens_predicted", "tokens_evaluated"
		// (ggml-org/llama.cpp tools/server/README.md and handle_infill in
		// tools/server/server.cpp, b6000). input_extra must be an array of
		// {"filename": string, "text": string}.
		s.mux.HandleFunc("POST /infill", s.auth(s.llamaInfill))
		s.mux.HandleFunc("POST /v1/completions", s.auth(s.openAICompletions))
	default:
		if r, native := llm.FIMRoute(s.Kind); r == "/v1/completions" && !native {
			// POST /v1/completions: the OpenAI legacy completions API
			// (openai/openai-openapi, 2025: prompt, max_tokens, stop ->
			// choices[].text, finish_reason, usage), which vLLM, SGLang,
			// LM Studio, LocalAI, KoboldCpp, TGI and text-generation-webui
			// serve with the same shape.
			s.mux.HandleFunc("POST /v1/completions", s.auth(s.openAICompletions))
		}
	}
}

// decodeFIM reads a FIM body; on failure it has answered.
func (s *Server) decodeFIM(w http.ResponseWriter, r *http.Request) (FIMRequest, bool) {
	var raw map[string]any
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error(), "invalid_request_error")
		return FIMRequest{}, false
	}
	req := FIMRequest{Path: r.URL.Path, Raw: raw}
	req.Model, _ = raw["model"].(string)
	switch r.URL.Path {
	case "/api/generate":
		req.Prefix, _ = raw["prompt"].(string)
		req.Suffix, _ = raw["suffix"].(string)
	case "/infill":
		req.Prefix, _ = raw["input_prefix"].(string)
		req.Suffix, _ = raw["input_suffix"].(string)
		req.Prompt, _ = raw["prompt"].(string)
		if extra, ok := raw["input_extra"]; ok {
			list, ok := extra.([]any)
			for _, e := range list {
				m, isMap := e.(map[string]any)
				text, isText := m["text"].(string)
				name, _ := m["filename"].(string)
				if !isMap || !isText {
					ok = false
					break
				}
				req.Extra = append(req.Extra, llm.FIMFile{Filename: name, Text: text})
			}
			if !ok {
				s.writeError(w, http.StatusBadRequest, `"input_extra" must be an array of {"filename": string, "text": string}`, "invalid_request_error")
				return FIMRequest{}, false
			}
		}
	default:
		req.Prompt, _ = raw["prompt"].(string)
	}
	s.fim.mu.Lock()
	s.fim.reqs = append(s.fim.reqs, req)
	s.fim.mu.Unlock()
	return req, true
}

// fimGenerate waits as a generating server does; false means the client
// left first (counted as a cancellation).
func (s *Server) fimGenerate(r *http.Request) bool {
	if !s.wait(r.Context(), s.opts.FirstTokenDelay) {
		s.fim.cancelled.Add(1)
		s.clientLeft()
		return false
	}
	return true
}

func (s *Server) ollamaGenerate(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decodeFIM(w, r)
	if !ok {
		return
	}
	md, found := s.model(req.Model)
	if !found {
		s.modelNotFound(w, req.Model)
		return
	}
	_, template := req.Raw["template"]
	_, system := req.Raw["system"]
	_, withContext := req.Raw["context"]
	if raw, _ := req.Raw["raw"].(bool); raw && (template || system || withContext) {
		s.writeError(w, http.StatusBadRequest, "raw mode does not support template, system, or context", "")
		return
	}
	if req.Suffix != "" && md.NoInsert {
		s.writeError(w, http.StatusBadRequest, fmt.Sprintf("%q does not support insert", req.Model), "")
		return
	}
	if !s.fimGenerate(r) {
		return
	}
	text := s.fimReply(req)
	stream := true
	if st, ok := req.Raw["stream"].(bool); ok {
		stream = st
	}
	final := map[string]any{"model": md.ID, "created_at": "2025-09-30T10:04:05.123456789Z", "response": "", "done": true,
		"done_reason": "stop", "prompt_eval_count": countWords(req.Prefix + " " + req.Suffix), "eval_count": countWords(text)}
	if !stream {
		final["response"] = text
		writeJSON(w, http.StatusOK, final)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, c := range s.chunks(text) {
		_ = enc.Encode(map[string]any{"model": md.ID, "created_at": "2025-09-30T10:04:05.123456789Z", "response": c, "done": false})
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	_ = enc.Encode(final)
}

func (s *Server) llamaInfill(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decodeFIM(w, r)
	if !ok {
		return
	}
	if !s.fimGenerate(r) {
		return
	}
	text := s.fimReply(req)
	md := s.opts.Models[0]
	out := map[string]any{"index": 0, "content": text, "id_slot": 0, "stop": true, "model": md.ID,
		"tokens_predicted": countWords(text), "tokens_evaluated": countWords(req.Prefix + " " + req.Suffix),
		"stop_type": "eos", "stopping_word": "", "tokens_cached": 0, "truncated": false}
	if st, _ := req.Raw["stream"].(bool); st {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range s.chunks(text) {
			b, _ := json.Marshal(map[string]any{"index": 0, "content": c, "stop": false})
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		out["content"] = ""
		b, _ := json.Marshal(out)
		fmt.Fprintf(w, "data: %s\n\n", b)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) openAICompletions(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decodeFIM(w, r)
	if !ok {
		return
	}
	md, found := s.model(req.Model)
	if !found && s.ignoresModel() {
		md, found = s.opts.Models[0], true
	}
	if !found {
		s.modelNotFound(w, req.Model)
		return
	}
	if s.Kind == llm.KindVLLM {
		if _, has := req.Raw["suffix"]; has {
			// vllm/entrypoints/openai/serving_completion.py (v0.10).
			s.writeError(w, http.StatusBadRequest, "suffix is not currently supported", "BadRequestError")
			return
		}
	}
	if !s.fimGenerate(r) {
		return
	}
	text := s.fimReply(req)
	writeJSON(w, http.StatusOK, map[string]any{"id": "cmpl-llmtest", "object": "text_completion", "created": 1759226645,
		"model": md.ID, "choices": []any{map[string]any{"index": 0, "text": text, "logprobs": nil, "finish_reason": "stop"}},
		"usage": map[string]any{"prompt_tokens": countWords(req.Prompt), "completion_tokens": countWords(text),
			"total_tokens": countWords(req.Prompt) + countWords(text)}})
}
