package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
)

// ignoresModel lists servers that serve one model and ignore the request's
// "model" field; GPT4All instead silently falls back to its default model.
func (s *Server) ignoresModel() bool {
	if s.opts.Router {
		return false // a router picks the instance by the request's model
	}
	switch s.Kind {
	case llm.KindLlamaCpp, llm.KindKoboldCpp, llm.KindTextGenWebUI, llm.KindTGI, llm.KindGPT4All:
		return true
	}
	return false
}

// modelNotFound answers an unknown model as each server does: Ollama
// server/routes.go ("not found, try pulling it first"), vLLM
// serving_engine.py _check_model, LM Studio's OpenAI-style model_not_found,
// Open WebUI main.py, Jan's proxy, OpenAI otherwise.
func (s *Server) modelNotFound(w http.ResponseWriter, id string) {
	switch s.Kind {
	case llm.KindOllama:
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", id), "")
	case llm.KindVLLM, llm.KindSGLang:
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist.", id), "NotFoundError")
	case llm.KindLMStudio:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": fmt.Sprintf("Model %q not found. Please specify a valid model.", id),
			"type":    "invalid_request_error", "param": "model", "code": "model_not_found"}})
	case llm.KindOpenWebUI:
		s.writeError(w, http.StatusNotFound, "Model not found", "")
	case llm.KindJan:
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("Model '%s' not found or not running", id), "")
	default:
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", id), "model_not_found")
	}
}

// rejectsLongPrompts is false for servers that silently cut a prompt that
// does not fit (Ollama keeps the end of it; KoboldCpp and
// text-generation-webui truncate too).
func (s *Server) rejectsLongPrompts() bool {
	switch s.Kind {
	case llm.KindOllama, llm.KindKoboldCpp, llm.KindTextGenWebUI, llm.KindOpenWebUI:
		return false
	}
	return true
}

// contextTooLong answers a prompt of n tokens that does not fit ctx.
func (s *Server) contextTooLong(w http.ResponseWriter, n, ctx int) {
	switch s.Kind {
	case llm.KindLlamaCpp, llm.KindJan:
		// exceed_context_size_error with the counts (ggml-org/llama.cpp
		// tools/server/server-context.cpp, late 2025 wording).
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": 400,
			"message": fmt.Sprintf("request (%d tokens) exceeds the available context size (%d tokens), try increasing it", n, ctx),
			"type":    "exceed_context_size_error", "n_prompt_tokens": n, "n_ctx": ctx}})
	case llm.KindLMStudio:
		// LM Studio 0.3's engine wording (sic), as quoted in llm/errors.go.
		s.writeError(w, http.StatusBadRequest, fmt.Sprintf("Trying to keep the first %d tokens when context the overflows. "+
			"However, the model is loaded with context length of only %d tokens, which is not enough. "+
			"Try to load the model with a larger context length, or provide a shorter input", n, ctx), "invalid_request_error")
	case llm.KindGPT4All:
		// GPT4All answers a prompt that does not fit its n_ctx (2048 by
		// default) with HTTP 500 and no body at all (reference sheet,
		// corrections of 2026-11-29).
		w.WriteHeader(http.StatusInternalServerError)
	case llm.KindTGI:
		// TGI router/src/validation.rs ValidationError::MaxTotalTokens (v3.3.6).
		s.writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Input validation error: `inputs` tokens + `max_new_tokens` must be <= %d. "+
			"Given: %d `inputs` tokens and 1024 `max_new_tokens`", ctx, n), "validation")
	default:
		// vLLM serving_engine.py _validate_input wording, which LocalAI,
		// SGLang and OpenAI share.
		s.writeError(w, http.StatusBadRequest, fmt.Sprintf("This model's maximum context length is %d tokens. However, you requested %d tokens "+
			"in the messages, Please reduce the length of the messages.", ctx, n), "BadRequestError")
	}
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decodeChat(w, r)
	if !ok {
		return
	}
	native := r.URL.Path == "/api/chat"
	md, found := s.model(req.Model)
	if !found && s.ignoresModel() {
		md, found = s.opts.Models[0], true
	}
	if !found {
		if req.Model == "" {
			s.writeError(w, http.StatusBadRequest, "model is required", "invalid_request_error")
			return
		}
		s.modelNotFound(w, req.Model)
		return
	}
	if md.Embedding {
		s.writeError(w, http.StatusBadRequest, fmt.Sprintf("%q does not support chat", md.ID), "invalid_request_error")
		return
	}
	if s.Kind == llm.KindGPT4All && req.Stream {
		s.writeError(w, http.StatusBadRequest, "Streaming is not supported by the GPT4All local API server", "invalid_request_error")
		return
	}
	if s.Kind == llm.KindGPT4All {
		// GPT4All's server rejects fields it does not know (chatapi
		// request parsing, gpt4all-chat/src/server.cpp, v3.10).
		for k := range req.Raw {
			if !gpt4allFields[k] {
				s.writeError(w, http.StatusBadRequest, fmt.Sprintf("Unrecognized request argument supplied: %s", k), "invalid_request_error")
				return
			}
		}
	}
	if s.Kind == llm.KindLlamaCpp && s.opts.Router {
		if md.Loaded {
			md.ContextLength = routerWindow(md)
		} else {
			s.writeError(w, http.StatusServiceUnavailable, "Loading model", "unavailable_error")
			return
		}
	}
	if native && s.Kind == llm.KindOllama {
		n := 0
		if o, _ := req.Raw["options"].(map[string]any); o != nil {
			if f, ok := o["num_ctx"].(float64); ok {
				n = int(f)
			}
		}
		s.ollamaLoad(md, n)
	}
	if md.ContextLength > 0 && promptTokens(req) > md.ContextLength && s.rejectsLongPrompts() {
		s.contextTooLong(w, promptTokens(req), md.ContextLength)
		return
	}
	if s.opts.FailWith == FailLoading && s.failLeft.Add(-1) >= 0 {
		switch s.Kind {
		case llm.KindOllama:
			s.writeError(w, http.StatusServiceUnavailable, "server busy, please try again.  maximum pending requests exceeded", "")
		case llm.KindJan:
			s.writeError(w, http.StatusServiceUnavailable, "No model is running. Start a model and try again.", "")
		default:
			s.writeError(w, http.StatusServiceUnavailable, "Loading model", "unavailable_error")
		}
		return
	}
	if s.opts.FailWith == FailInternal {
		s.writeError(w, http.StatusInternalServerError, "llama runner process has terminated: exit status 2", "server_error")
		return
	}
	s.gens.Add(1)
	text := s.reply(req)
	if !s.wait(r.Context(), s.opts.FirstTokenDelay) {
		s.clientLeft()
		return
	}
	if req.Stream && s.opts.Flood != FloodNone {
		s.flood(w, r, md, text, native)
		return
	}
	if !req.Stream {
		s.writeWhole(w, req, md, text, native)
		return
	}
	if native {
		s.streamNDJSON(w, r, req, md, text)
	} else {
		s.streamSSE(w, r, req, md, text)
	}
}

func promptTokens(req ChatRequest) int {
	n := 0
	for _, m := range req.Messages {
		n += countWords(m.Content)
	}
	return n
}

// writeWhole answers stream:false: Ollama's single ChatResponse (api/types.go)
// or OpenAI's chat.completion object (GPT4All's only mode, server.cpp v3.10).
func (s *Server) writeWhole(w http.ResponseWriter, req ChatRequest, md Model, text string, native bool) {
	pt, ct := promptTokens(req), countWords(text)
	if native {
		writeJSON(w, 200, map[string]any{"model": md.ID, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
			"message": map[string]any{"role": "assistant", "content": text}, "done_reason": "stop", "done": true,
			"prompt_eval_count": pt, "eval_count": ct})
		return
	}
	writeJSON(w, 200, map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": created,
		"model": md.ID, "choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": text}}},
		"usage": map[string]any{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}})
}

// stepper paces chunks and handles stalls, failures and disconnects. It
// returns false when streaming must stop.
type stepper struct {
	s *Server
	r *http.Request
	w http.ResponseWriter
	f http.Flusher
}

func (st stepper) before(i int) (ok bool, fail bool) {
	s := st.s
	if i > 0 && !s.wait(st.r.Context(), s.opts.ChunkDelay) {
		s.clientLeft()
		return false, false
	}
	if s.opts.StallAfter > 0 && i == s.opts.StallAfter {
		<-st.r.Context().Done()
		s.clientLeft()
		return false, false
	}
	failAt := s.opts.FailAfter
	if failAt == 0 {
		failAt = 1
	}
	if i == failAt {
		switch s.opts.FailWith {
		case FailMidStream:
			return false, true
		case FailCloseMidStream:
			// Drop the connection the way a crashed server does.
			panic(http.ErrAbortHandler)
		}
	}
	return true, false
}

func (st stepper) write(b []byte) bool {
	if _, err := st.w.Write(b); err != nil {
		st.s.clientLeft()
		return false
	}
	st.f.Flush()
	if st.r.Context().Err() != nil {
		st.s.clientLeft()
		return false
	}
	return true
}

// streamNDJSON streams Ollama's ChatResponse lines, the last with done,
// done_reason and the counts (ollama/ollama api/types.go ChatResponse and
// docs/api.md "Chat request (streaming)", commit fb30760, 2026-08-21); a
// failure mid-stream is an {"error"} line (server/routes.go ChatHandler).
func (s *Server) streamNDJSON(w http.ResponseWriter, r *http.Request, req ChatRequest, md Model, text string) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(200)
	st := stepper{s: s, r: r, w: w, f: w.(http.Flusher)}
	chunks := s.chunks(text)
	line := func(v any) []byte { b, _ := json.Marshal(v); return append(b, '\n') }
	now := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	for i, c := range chunks {
		ok, fail := st.before(i)
		if fail {
			st.write(line(map[string]any{"error": "an error was encountered while running the model: unexpected EOF"}))
			return
		}
		if !ok {
			return
		}
		if !st.write(line(map[string]any{"model": md.ID, "created_at": now(),
			"message": map[string]any{"role": "assistant", "content": c}, "done": false})) {
			return
		}
	}
	if ok, fail := st.before(len(chunks)); fail {
		st.write(line(map[string]any{"error": "an error was encountered while running the model: unexpected EOF"}))
		return
	} else if !ok {
		return
	}
	st.write(line(map[string]any{"model": md.ID, "created_at": now(),
		"message": map[string]any{"role": "assistant", "content": ""}, "done_reason": "stop", "done": true,
		"total_duration": 2471123456, "load_duration": 31234567, "prompt_eval_count": promptTokens(req),
		"prompt_eval_duration": 123456789, "eval_count": len(chunks), "eval_duration": 2300000000}))
}

// midStreamSSE is each kind's error event once streaming has started.
func (s *Server) midStreamSSE() string {
	const msg = "the model crashed while generating"
	switch s.Kind {
	case llm.KindLlamaCpp:
		// Current llama-server ends a stream that fails with
		// format_oai_sse(json{{"error", res_json}}): a data event holding
		// {"error":{code,message,type}} (ggml-org/llama.cpp
		// tools/server/server.cpp, handle_completions_impl, late 2025).
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 500, "message": msg, "type": "server_error"}})
		return "data: " + string(b) + "\n\n"
	case llm.KindJan:
		// Jan bundles an older llama-server, which wrote an "error:" field
		// (tools/server/server.cpp before the change above).
		b, _ := json.Marshal(map[string]any{"code": 500, "message": msg, "type": "server_error"})
		return "error: " + string(b) + "\n\n"
	case llm.KindTGI:
		b, _ := json.Marshal(map[string]any{"error": msg, "error_type": "generation"})
		return "data: " + string(b) + "\n\n"
	case llm.KindVLLM:
		// vLLM's create_streaming_error_response: ErrorResponse{error:
		// ErrorInfo{message,type,param,code}} (vllm/entrypoints/openai/
		// protocol.py, v0.11).
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "InternalServerError", "param": nil, "code": 500}})
		return "data: " + string(b) + "\n\n"
	case llm.KindSGLang:
		// SGLang keeps the older flat ErrorResponse (python/sglang/srt/
		// entrypoints/openai/protocol.py, v0.5).
		b, _ := json.Marshal(map[string]any{"object": "error", "message": msg, "type": "InternalServerError", "param": nil, "code": 500})
		return "data: " + string(b) + "\n\n"
	default:
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "server_error", "code": 500}})
		return "data: " + string(b) + "\n\n"
	}
}

// streamSSE streams OpenAI chat.completion.chunk events ending "data:
// [DONE]" (OpenAI API reference); llama.cpp adds usage and timings to the
// last chunk (tools/server/README.md, commit 00dc805), vLLM and others send
// usage only with stream_options.include_usage (vllm protocol.py
// StreamOptions), old KoboldCpp builds placeholder usage and no final
// newline (koboldcpp.py, reference sheet).
func (s *Server) streamSSE(w http.ResponseWriter, r *http.Request, req ChatRequest, md Model, text string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	st := stepper{s: s, r: r, w: w, f: w.(http.Flusher)}
	chunks := s.chunks(text)
	modelName := md.ID
	if s.Kind == llm.KindTGI {
		modelName = "tgi"
	}
	event := func(v any) []byte {
		b, _ := json.Marshal(v)
		var sb strings.Builder
		if s.opts.Pings {
			sb.WriteString(": ping\n\nevent: message\n")
		}
		sb.WriteString("data: ")
		sb.Write(b)
		sb.WriteString("\n\n")
		return []byte(sb.String())
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": created,
			"model": modelName, "choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	if !st.write(event(chunk(map[string]any{"role": "assistant", "content": ""}, nil))) {
		return
	}
	for i, c := range chunks {
		ok, fail := st.before(i)
		if fail {
			st.write([]byte(s.midStreamSSE()))
			return
		}
		if !ok {
			return
		}
		if !st.write(event(chunk(map[string]any{"content": c}, nil))) {
			return
		}
	}
	if ok, fail := st.before(len(chunks)); fail {
		st.write([]byte(s.midStreamSSE()))
		return
	} else if !ok {
		return
	}
	pt, ct := promptTokens(req), len(chunks)
	if s.Kind == llm.KindOpenWebUI && md.ContextLength > 0 && pt > md.ContextLength {
		// Ollama behind Open WebUI keeps only the end of a prompt longer
		// than its window and counts what it kept.
		pt = md.ContextLength
	}
	usage := map[string]any{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}
	final := chunk(map[string]any{}, "stop")
	switch s.Kind {
	case llm.KindOpenWebUI:
		// Open WebUI converts Ollama's final line, counts included
		// (convert_streaming_response_ollama_to_openai in
		// backend/open_webui/utils/response.py, v0.6.x).
		final["usage"] = usage
	case llm.KindLlamaCpp, llm.KindJan:
		final["usage"] = usage
		final["timings"] = map[string]any{"prompt_n": pt, "predicted_n": ct, "predicted_per_second": 42.0}
	case llm.KindKoboldCpp:
		// Old KoboldCpp builds send placeholder usage.
		final["usage"] = map[string]any{"prompt_tokens": 100, "completion_tokens": 100, "total_tokens": 200}
	}
	if !st.write(event(final)) {
		return
	}
	if so, _ := req.Raw["stream_options"].(map[string]any); so != nil && so["include_usage"] == true {
		if !st.write(event(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": created,
			"model": modelName, "choices": []any{}, "usage": usage})) {
			return
		}
	}
	if s.Kind == llm.KindKoboldCpp {
		st.write([]byte("data: [DONE]")) // no final newline
		return
	}
	st.write([]byte("data: [DONE]\n\n"))
}

// gpt4allFields are the chat request fields GPT4All's server accepts
// (gpt4all-chat/src/server.cpp, v3.10: model, messages, max_tokens,
// temperature, top_p, min_p, n, stream, stop, presence_penalty,
// frequency_penalty, logit_bias, user, seed).
var gpt4allFields = map[string]bool{"model": true, "messages": true, "max_tokens": true, "temperature": true,
	"top_p": true, "min_p": true, "n": true, "stream": true, "stop": true, "presence_penalty": true,
	"frequency_penalty": true, "logit_bias": true, "user": true, "seed": true}

// routerWindow is the window a model runs with in router mode.
func routerWindow(md Model) int {
	if md.LoadedContext > 0 {
		return md.LoadedContext
	}
	return md.ContextLength
}
