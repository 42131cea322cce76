package llmtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
)

// fastAPI lists servers written in Python with FastAPI, whose unknown routes
// answer {"detail":"Not Found"}.
func (s *Server) fastAPI() bool {
	switch s.Kind {
	case llm.KindOpenWebUI, llm.KindVLLM, llm.KindTextGenWebUI, llm.KindSGLang, llm.KindGPT4All:
		return true
	}
	return false
}

// writeError answers in the kind's own error body shape, each from the
// server's source (at least six error body shapes): Ollama server/routes.go {"error"}; Jan's proxy
// plain text; FastAPI {"detail"} (Open WebUI, text-generation-webui);
// KoboldCpp koboldcpp.py {"detail":{...}}; vLLM protocol.py ErrorResponse;
// SGLang's flat one; TGI server.rs {"error","error_type"}; OpenAI style
// (llama.cpp server-common.cpp, LocalAI, LM Studio) otherwise.
func (s *Server) writeError(w http.ResponseWriter, status int, msg, typ string) {
	switch s.Kind {
	case llm.KindOllama:
		writeJSON(w, status, map[string]any{"error": msg})
	case llm.KindJan:
		// Jan's proxy answers errors as plain text.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, msg)
	case llm.KindOpenWebUI, llm.KindTextGenWebUI:
		writeJSON(w, status, map[string]any{"detail": msg})
	case llm.KindKoboldCpp:
		writeJSON(w, status, map[string]any{"detail": map[string]any{"error": typ, "msg": msg, "type": typ}})
	case llm.KindVLLM:
		// ErrorResponse{error: ErrorInfo{message, type, param, code}}
		// (vllm/entrypoints/openai/protocol.py, v0.11; code is the status).
		writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": status}})
	case llm.KindSGLang:
		// The older flat ErrorResponse SGLang still sends
		// (python/sglang/srt/entrypoints/openai/protocol.py, v0.5).
		writeJSON(w, status, map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": status})
	case llm.KindTGI:
		writeJSON(w, status, map[string]any{"error": msg, "error_type": typ})
	default:
		writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": status}})
	}
}

// writeAuthError answers a missing or wrong key as each server does.
func (s *Server) writeAuthError(w http.ResponseWriter) {
	switch s.Kind {
	case llm.KindVLLM, llm.KindSGLang:
		// vLLM's API-key middleware bypasses its usual error model.
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Unauthorized"})
	case llm.KindOpenWebUI:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Not authenticated"})
	case llm.KindKoboldCpp:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": map[string]any{
			"error": "Unauthorized", "msg": "Authentication key is missing or invalid.", "type": "unauthorized"}})
	case llm.KindTextGenWebUI:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Unauthorized"})
	case llm.KindLlamaCpp:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
			"code": 401, "message": "Invalid API Key", "type": "authentication_error"}})
	default:
		s.writeError(w, http.StatusUnauthorized, "Invalid or missing API key", "authentication_error")
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.Kind == llm.KindOpenWebUI && !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/ollama/"):
		// Open WebUI's single-page app answers every other path with its
		// index page and status 200.
		s.root(w, r)
	case s.Kind == llm.KindLMStudio:
		// LM Studio answers any unknown route with 200 and this message.
		writeJSON(w, 200, map[string]any{"error": fmt.Sprintf("Unexpected endpoint or method. (%s %s)", r.Method, r.URL.Path)})
	case s.fastAPI():
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
	case s.Kind == llm.KindLlamaCpp:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": 404, "message": "File Not Found", "type": "not_found_error"}})
	default:
		http.Error(w, "404 page not found", http.StatusNotFound)
	}
}

// hostAllowed plays Jan's and text-generation-webui's Host header check,
// which only lets loopback names through.
func hostAllowed(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func ollamaHostAllowed(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "localhost" || net.ParseIP(host) != nil ||
		strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".internal") {
		return true
	}
	name, err := os.Hostname()
	return err == nil && strings.EqualFold(host, name)
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			s.root(w, r)
			return
		}
		s.notFound(w, r)
	})
	chat := s.handleChat
	// Each kind's routes below are written from the upstream file named on
	// its case, at the version the double reports (Options.Version
	// overrides it).
	switch s.Kind {
	case llm.KindOllama:
		// ollama/ollama server/routes.go GenerateRoutes and api/types.go
		// (commit fb30760, 2026-08-21; the double reports 0.12.6).
		s.ollamaRoutes(true)
		m.HandleFunc("GET /v1/models", s.openAIModels("library"))
		m.HandleFunc("POST /v1/chat/completions", chat)
	case llm.KindLMStudio:
		// lmstudio-ai/docs 1_developer/2_rest/endpoints.md (v0, commit
		// e35e35a) and list.md (v1, commit e70f746); /v1/* from its
		// openai-compat docs (LM Studio 0.3.x / 0.4).
		m.HandleFunc("GET /api/v0/models", s.auth(s.lmStudioModels))
		m.HandleFunc("GET /api/v1/models", s.auth(s.lmStudioV1Models))
		m.HandleFunc("GET /v1/models", s.auth(s.openAIModels("organization_owner")))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
	case llm.KindJan:
		// Jan's local API server as the reference sheet records it (Jan
		// row, 2026): Bearer key, running models only, plain-text errors.
		m.HandleFunc("GET /v1/models", s.auth(s.janModels))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
	case llm.KindOpenWebUI:
		// open-webui/open-webui backend/open_webui/main.py (/health,
		// /api/version, /api/config, /api/models, /api/chat/completions),
		// v0.6.34.
		m.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"status": true})
		})
		m.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"version": s.version("0.6.34"), "deployment_id": "b1c2d3"})
		})
		m.HandleFunc("GET /api/config", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"status": true, "name": "Open WebUI", "version": s.version("0.6.34")})
		})
		m.HandleFunc("GET /api/models", s.auth(s.openWebUIModels))
		m.HandleFunc("POST /api/chat/completions", s.auth(chat))
	case llm.KindLocalAI:
		// mudler/LocalAI core/http/routes (localai.go, openai.go, health.go),
		// v3.7.0: /.well-known/localai.json, /readyz, /version, /v1/tokenize,
		// and the Ollama imitation.
		m.HandleFunc("GET /.well-known/localai.json", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"version": s.version("v3.7.0"), "endpoints": []string{"/v1/chat/completions", "/v1/tokenize"}})
		})
		m.HandleFunc("GET /readyz", s.health(func(w http.ResponseWriter) { fmt.Fprint(w, "OK") }))
		m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "OK") })
		m.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"version": s.version("v3.7.0")})
		})
		s.ollamaRoutes(false) // imitation: /api/tags, /api/chat, /api/version "0.9.0"
		m.HandleFunc("GET /v1/models", s.auth(s.openAIModels("")))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
		m.HandleFunc("POST /v1/tokenize", s.auth(s.tokenize(func(in map[string]any) (string, any) {
			text, _ := in["content"].(string)
			return text, map[string]any{"tokens": tokenIDs(text)}
		})))
	case llm.KindVLLM:
		// vllm-project/vllm vllm/entrypoints/openai/api_server.py (/version,
		// /health, /v1/models, /tokenize) and protocol.py, v0.11.0.
		m.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"version": s.version("0.11.0")})
		})
		m.HandleFunc("GET /health", s.health(func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }))
		m.HandleFunc("GET /v1/models", s.auth(s.openAIModels("vllm")))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
		m.HandleFunc("POST /tokenize", s.tokenize(func(in map[string]any) (string, any) {
			text, _ := in["prompt"].(string)
			return text, map[string]any{"count": countWords(text), "max_model_len": s.opts.Models[0].ContextLength, "tokens": tokenIDs(text)}
		}))
	case llm.KindLlamaCpp:
		// ggml-org/llama.cpp tools/server/README.md and server.cpp (commit
		// 00dc805): /health, /props, /v1/models and /models (router mode
		// with Options.Router), the Ollama imitation, /tokenize.
		m.HandleFunc("GET /health", s.health(func(w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"status": "ok"})
		}))
		m.HandleFunc("GET /props", s.llamaProps)
		m.HandleFunc("GET /v1/models", s.llamaModels) // public even with --api-key
		m.HandleFunc("GET /models", s.llamaModels)
		m.HandleFunc("GET /api/tags", s.ollamaTags)
		m.HandleFunc("POST /api/show", s.ollamaShow)
		m.HandleFunc("POST /api/chat", s.auth(chat))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
		m.HandleFunc("POST /tokenize", s.auth(s.tokenize(func(in map[string]any) (string, any) {
			text, _ := in["content"].(string)
			return text, map[string]any{"tokens": tokenIDs(text)}
		})))
	case llm.KindKoboldCpp:
		// LostRuins/koboldcpp koboldcpp.py (do_GET / do_POST), v1.101.1:
		// /api/extra/version ("protected" with --password), /api/v1/model,
		// /api/extra/true_max_context_length, /v1/chat/completions.
		m.HandleFunc("GET /api/extra/version", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"result": "KoboldCpp", "version": s.version("1.101.1"),
				"protected": s.opts.APIKey != "", "txt2img": false, "vision": false, "transcribe": false})
		})
		m.HandleFunc("GET /api/v1/model", func(w http.ResponseWriter, r *http.Request) {
			id := s.opts.Models[0].ID
			if !strings.HasPrefix(id, "koboldcpp/") {
				id = "koboldcpp/" + id
			}
			writeJSON(w, 200, map[string]any{"result": id})
		})
		m.HandleFunc("GET /api/extra/true_max_context_length", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"value": s.opts.Models[0].ContextLength})
		})
		m.HandleFunc("GET /api/tags", func(w http.ResponseWriter, r *http.Request) {
			// KoboldCpp's Ollama emulation lists one fake entry.
			writeJSON(w, 200, map[string]any{"models": []any{map[string]any{"name": "koboldcpp", "model": "koboldcpp",
				"modified_at": "2024-07-19T15:26:55.000Z", "size": 394998579, "digest": "b5dc5e784f2a3ee1582373093acf69a2f4e2ac1710b253a001712b86a61f88bb",
				"details": map[string]any{"parent_model": "", "format": "gguf", "family": "koboldcpp", "families": []string{"koboldcpp"},
					"parameter_size": "128M", "quantization_level": "Q4_0"}}}})
		})
		m.HandleFunc("GET /v1/models", s.openAIModels("koboldcpp"))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
		m.HandleFunc("POST /api/extra/tokencount", s.auth(s.tokenize(func(in map[string]any) (string, any) {
			text, _ := in["prompt"].(string)
			return text, map[string]any{"value": countWords(text), "ids": tokenIDs(text)}
		})))
	case llm.KindGPT4All:
		// nomic-ai/gpt4all gpt4all-chat/src/server.cpp (v3.10): /v1/models
		// owned_by "humanity", non-streaming /v1/chat/completions.
		m.HandleFunc("GET /v1/models", s.openAIModels("humanity"))
		m.HandleFunc("POST /v1/chat/completions", chat)
	case llm.KindTextGenWebUI:
		// oobabooga/text-generation-webui extensions/openai/script.py (v3.x):
		// /v1/internal/health, /v1/internal/model/info, token-count.
		m.HandleFunc("GET /v1/internal/health", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"status": "ok"})
		})
		m.HandleFunc("GET /v1/internal/model/info", s.auth(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"model_name": s.opts.Models[0].ID, "lora_names": []string{}, "loader": "llama.cpp"})
		}))
		m.HandleFunc("GET /v1/models", s.auth(func(w http.ResponseWriter, r *http.Request) {
			// Only the loaded model is listed, owned by "user" like Jan's.
			writeJSON(w, 200, map[string]any{"object": "list", "data": []any{map[string]any{
				"id": s.opts.Models[0].ID, "object": "model", "created": 0, "owned_by": "user"}}})
		}))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
		m.HandleFunc("POST /v1/internal/token-count", s.auth(s.tokenize(func(in map[string]any) (string, any) {
			text, _ := in["text"].(string)
			return text, map[string]any{"length": countWords(text)}
		})))
	case llm.KindTGI:
		// huggingface/text-generation-inference router/src/server.rs (/info,
		// /health, /tokenize, /v1/*), v3.3.6.
		m.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
			md := s.opts.Models[0]
			writeJSON(w, 200, map[string]any{"model_id": md.ID, "model_sha": "0eb6b1ed2d0c4306bc637d09ecef51e59d3dfe05",
				"model_pipeline_tag": "text-generation", "max_concurrent_requests": 128, "max_best_of": 2,
				"max_stop_sequences": 4, "max_input_tokens": md.ContextLength - 1, "max_total_tokens": md.ContextLength,
				"validation_workers": 2, "max_client_batch_size": 4, "router": "text-generation-router",
				"version": s.version("3.3.6"), "sha": "9f38d9305116ea7eb8ba8d2bd4c1b4f7cbb4ba6c", "docker_label": "sha-9f38d93"})
		})
		m.HandleFunc("GET /health", s.health(func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }))
		m.HandleFunc("GET /v1/models", s.auth(s.openAIModels("text-generation-inference")))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
		m.HandleFunc("POST /tokenize", s.auth(s.tokenize(func(in map[string]any) (string, any) {
			text, _ := in["inputs"].(string)
			var toks []any
			off := 0
			for i, f := range strings.Fields(text) {
				start := strings.Index(text[off:], f) + off
				toks = append(toks, map[string]any{"id": 1000 + i, "text": f, "start": start, "stop": start + len(f)})
				off = start + len(f)
			}
			if toks == nil {
				toks = []any{}
			}
			return text, toks
		})))
	case llm.KindSGLang:
		// sgl-project/sglang python/sglang/srt/entrypoints/http_server.py
		// (/get_model_info, /model_info, /health, /v1/models), v0.5.
		info := func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"model_path": s.opts.Models[0].ID, "tokenizer_path": s.opts.Models[0].ID,
				"is_generation": !s.opts.Models[0].Embedding})
		}
		m.HandleFunc("GET /get_model_info", info)
		m.HandleFunc("GET /model_info", info)
		m.HandleFunc("GET /health", s.health(func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }))
		m.HandleFunc("GET /v1/models", s.auth(s.openAIModels("sglang")))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
	case llm.KindOpenAI:
		// A plain OpenAI-compatible server: the OpenAI API reference's
		// /v1/models and /v1/chat/completions (openai/openai-openapi, 2025).
		m.HandleFunc("GET /v1/models", s.auth(s.openAIModels("organization-owner")))
		m.HandleFunc("POST /v1/chat/completions", s.auth(chat))
	}
	s.fimRoutes()
	if s.opts.ImitateOllama {
		// Add the Ollama routes this kind does not already serve.
		switch s.Kind {
		case llm.KindOllama, llm.KindLocalAI:
		case llm.KindOpenWebUI:
			m.HandleFunc("GET /api/tags", s.ollamaTags)
		case llm.KindLlamaCpp, llm.KindKoboldCpp:
			m.HandleFunc("GET /api/version", s.ollamaVersion("0.9.0"))
		default:
			m.HandleFunc("GET /api/version", s.ollamaVersion("0.9.0"))
			m.HandleFunc("GET /api/tags", s.ollamaTags)
		}
	}
}

// preflight adds per-kind headers and checks that apply to all routes.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) bool {
	switch s.Kind {
	case llm.KindLlamaCpp:
		w.Header().Set("Server", "llama.cpp")
	case llm.KindKoboldCpp:
		w.Header().Set("Server", "ConcedoLlamaForKoboldServer")
	case llm.KindOllama:
		// Ollama on loopback accepts only localhost, IPs, its hostname and
		// *.local / *.internal names (DNS-rebinding protection): 403, no body.
		if !ollamaHostAllowed(r) {
			w.WriteHeader(http.StatusForbidden)
			return false
		}
	case llm.KindJan:
		if !hostAllowed(r) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "Invalid host header")
			return false
		}
	case llm.KindTextGenWebUI:
		if !hostAllowed(r) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "Invalid host header"})
			return false
		}
	}
	return true
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	if s.Kind == llm.KindOllama || s.opts.ImitateOllama ||
		(s.Kind == llm.KindLocalAI && r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "Ollama is running")
		return
	}
	html := func(title string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body><div id=\"app\"></div></body></html>", title)
	}
	switch s.Kind {
	case llm.KindJan:
		html("API Docs") // Jan serves its Swagger page at /
	case llm.KindOpenWebUI:
		html("Open WebUI")
	case llm.KindLocalAI:
		html("LocalAI API - " + s.version("v3.7.0"))
	case llm.KindLlamaCpp:
		html("llama.cpp - chat")
	case llm.KindKoboldCpp:
		html("KoboldAI Lite")
	default:
		s.notFound(w, r)
	}
}

// auth wraps h with the Bearer key check.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			s.writeAuthError(w)
			return
		}
		h(w, r)
	}
}

// health answers 503 in the kind's shape while a model loads.
func (s *Server) health(ok func(http.ResponseWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.loading() {
			s.writeError(w, http.StatusServiceUnavailable, "Loading model", "unavailable_error")
			return
		}
		ok(w)
	}
}

func (s *Server) tokenize(f func(map[string]any) (string, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			s.writeError(w, http.StatusUnprocessableEntity, "invalid JSON body: "+err.Error(), "invalid_request_error")
			return
		}
		_, out := f(in)
		writeJSON(w, 200, out)
	}
}

func tokenIDs(text string) []int {
	ids := []int{}
	for i := range strings.Fields(text) {
		ids = append(ids, 1000+i)
	}
	return ids
}

const created = 1735689600 // 2025-01-01, a fixed "created" so bodies are stable

// openAIModels serves /v1/models in each kind's variant: vLLM/SGLang add
// max_model_len and root (vllm protocol.py ModelCard), LocalAI lists id and
// object only, KoboldCpp and GPT4All their fixed fields (koboldcpp.py,
// gpt4all-chat/src/server.cpp), others OpenAI's Model object.
func (s *Server) openAIModels(ownedBy string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data := []any{}
		for _, md := range s.opts.Models {
			e := map[string]any{"id": md.ID, "object": "model"}
			switch s.Kind {
			case llm.KindVLLM, llm.KindSGLang:
				e["created"] = created
				e["owned_by"] = ownedBy
				e["root"] = md.ID
				e["parent"] = nil
				e["max_model_len"] = md.ContextLength
			case llm.KindLocalAI:
				// LocalAI lists only id and object.
			case llm.KindKoboldCpp:
				e["created"] = 1
				e["owned_by"] = ownedBy
				e["permission"] = []any{}
				e["root"] = "koboldcpp"
			case llm.KindGPT4All:
				e["created"] = 0
				e["owned_by"] = ownedBy
				e["root"] = md.ID
				e["parent"] = nil
				e["permissions"] = []any{map[string]any{"id": "placeholder", "object": "model_permission"}}
			default:
				e["created"] = created
				e["owned_by"] = ownedBy
			}
			data = append(data, e)
		}
		writeJSON(w, 200, map[string]any{"object": "list", "data": data})
	}
}

// lmStudioModels serves GET /api/v0/models as LM Studio's REST API v0 docs
// show it (lmstudio-ai/docs 1_developer/2_rest/endpoints.md, commit
// e35e35a): max_context_length is the model's maximum, not its loaded
// window.
func (s *Server) lmStudioModels(w http.ResponseWriter, r *http.Request) {
	data := []any{}
	for _, md := range s.opts.Models {
		typ := "llm"
		if md.Embedding {
			typ = "embeddings"
		}
		state := "not-loaded"
		if md.Loaded {
			state = "loaded"
		}
		data = append(data, map[string]any{"id": md.ID, "object": "model", "type": typ,
			"publisher": "lmstudio-community", "arch": md.Family, "compatibility_type": "gguf",
			"quantization": md.Quantization, "state": state, "max_context_length": md.ContextLength})
	}
	writeJSON(w, 200, map[string]any{"object": "list", "data": data})
}

// lmStudioV1Models serves GET /api/v1/models (LM Studio >= 0.4) in the
// shape of lmstudio-ai/docs 1_developer/2_rest/list.md (commit e70f746): a
// "models" array keyed by "key", quantization an object, and each loaded
// instance with its config.context_length.
func (s *Server) lmStudioV1Models(w http.ResponseWriter, r *http.Request) {
	models := []any{}
	for _, md := range s.opts.Models {
		e := map[string]any{"type": "llm", "publisher": "lmstudio-community", "key": md.ID, "display_name": md.ID,
			"quantization": map[string]any{"name": md.Quantization, "bits_per_weight": 4}, "size_bytes": 4683073184,
			"params_string": md.ParameterSize, "max_context_length": md.ContextLength, "format": "gguf"}
		if md.Embedding {
			e["type"] = "embedding"
		} else {
			e["architecture"] = md.Family
			e["capabilities"] = map[string]any{"vision": false, "trained_for_tool_use": true}
			e["description"] = nil
		}
		inst := []any{}
		if md.Loaded {
			win := md.LoadedContext
			if win == 0 {
				win = md.ContextLength
			}
			inst = append(inst, map[string]any{"id": md.ID, "config": map[string]any{"context_length": win}})
		}
		e["loaded_instances"] = inst
		models = append(models, e)
	}
	writeJSON(w, 200, map[string]any{"models": models})
}

// janModels: Jan lists running models only, owned_by "user" (reference
// sheet, Jan row).
func (s *Server) janModels(w http.ResponseWriter, r *http.Request) {
	// Jan lists running models only.
	data := []any{}
	for _, md := range s.opts.Models {
		if md.Loaded {
			data = append(data, map[string]any{"id": md.ID, "object": "model", "created": created, "owned_by": "user"})
		}
	}
	writeJSON(w, 200, map[string]any{"object": "list", "data": data})
}

// openWebUIModels serves /api/models: Open WebUI passes Ollama's /api/tags
// entry on under "ollama" (backend/open_webui/utils/models.py, v0.6.34).
func (s *Server) openWebUIModels(w http.ResponseWriter, r *http.Request) {
	data := []any{}
	for _, md := range s.opts.Models {
		data = append(data, map[string]any{"id": md.ID, "name": md.ID, "object": "model", "created": created,
			"owned_by": "ollama", "connection_type": "local",
			"ollama": map[string]any{"name": md.ID, "model": md.ID, "digest": md.Digest,
				"details": map[string]any{"family": md.Family, "parameter_size": md.ParameterSize, "quantization_level": md.Quantization}}})
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

// llamaProps serves GET /props (tools/server/README.md, ggml-org/llama.cpp
// commit 00dc805). In router mode it says {"role":"router"} and answers
// /props?model=<id> for that model's instance, never loading one when
// autoload=false.
func (s *Server) llamaProps(w http.ResponseWriter, r *http.Request) {
	md := s.opts.Models[0]
	if s.opts.Router {
		id := r.URL.Query().Get("model")
		if id == "" {
			writeJSON(w, 200, map[string]any{"role": "router", "model_path": "", "build_info": "b7200-00dc805"})
			return
		}
		m, ok := s.model(id)
		if !ok {
			s.writeError(w, http.StatusBadRequest, "model not found", "invalid_request_error")
			return
		}
		if !m.Loaded {
			s.writeError(w, http.StatusBadRequest, "model is not loaded", "invalid_request_error")
			return
		}
		md = m
		md.ContextLength = routerWindow(m)
	}
	writeJSON(w, 200, map[string]any{
		"default_generation_settings": map[string]any{"n_ctx": md.ContextLength, "params": map[string]any{"n_predict": -1}},
		"total_slots":                 1, "model_path": "/models/" + md.ID, "chat_template": "{{ messages }}",
		"build_info": "b6500-1a2b3c4", "modalities": map[string]any{"vision": false}})
}

// llamaModels serves /v1/models and /models. Single-model mode: one entry
// with meta (null while loading). Router mode: every model with its status
// object, and the instance's meta for a loaded one ("Using multiple models",
// GET /models, tools/server/README.md, ggml-org/llama.cpp commit 00dc805).
func (s *Server) llamaModels(w http.ResponseWriter, r *http.Request) {
	if s.opts.Router {
		data := []any{}
		for _, md := range s.opts.Models {
			e := map[string]any{"id": md.ID, "object": "model", "owned_by": "llamacpp", "created": created,
				"path": "/models/" + md.ID + ".gguf", "in_cache": true,
				"architecture": map[string]any{"input_modalities": []string{"text"}, "output_modalities": []string{"text"}}}
			if md.Loaded {
				win := routerWindow(md)
				e["status"] = map[string]any{"value": "loaded", "args": []string{"llama-server", "--port", "41234"}}
				e["meta"] = map[string]any{"vocab_type": 2, "n_vocab": 151936, "n_ctx": win, "n_ctx_train": md.ContextLength,
					"n_embd": 3584, "n_params": int64(llm.ParseParameterSize(md.ParameterSize) * 1e9), "size": 4683073184}
			} else {
				e["status"] = map[string]any{"value": "unloaded"}
			}
			data = append(data, e)
		}
		writeJSON(w, 200, map[string]any{"object": "list", "data": data})
		return
	}
	md := s.opts.Models[0]
	var meta any
	if !s.loading() {
		meta = map[string]any{"vocab_type": 2, "n_vocab": 151936, "n_ctx": md.ContextLength, "n_ctx_train": 131072,
			"n_embd": 3584, "n_params": int64(llm.ParseParameterSize(md.ParameterSize) * 1e9), "size": 4683073184}
	}
	writeJSON(w, 200, map[string]any{
		"models": []any{map[string]any{"name": md.ID, "model": md.ID, "type": "model", "capabilities": []string{"completion"}}},
		"object": "list",
		"data":   []any{map[string]any{"id": md.ID, "object": "model", "created": created, "owned_by": "llamacpp", "meta": meta}},
	})
}

// --- Ollama native API (also imitated by llama.cpp and LocalAI) ---

func (s *Server) ollamaVersion(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"version": v}) }
}

// ollamaRoutes registers the native API. full=false registers only what
// LocalAI imitates.
func (s *Server) ollamaRoutes(full bool) {
	m := s.mux
	if full {
		m.HandleFunc("GET /api/version", s.ollamaVersion(s.version("0.12.6")))
		m.HandleFunc("POST /api/show", s.ollamaShow)
		m.HandleFunc("GET /api/ps", s.ollamaPS)
	} else {
		m.HandleFunc("GET /api/version", s.ollamaVersion("0.9.0"))
	}
	m.HandleFunc("GET /api/tags", s.ollamaTags)
	m.HandleFunc("POST /api/chat", s.auth(s.handleChat))
}

func (s *Server) ollamaDetails(md Model) map[string]any {
	return map[string]any{"parent_model": "", "format": "gguf", "family": md.Family, "families": []string{md.Family},
		"parameter_size": md.ParameterSize, "quantization_level": md.Quantization}
}

// ollamaTags serves GET /api/tags: ListModelResponse (name, model,
// modified_at, size, digest, details, remote_model, remote_host) from
// ollama/ollama api/types.go (commit fb30760, 2026-08-21).
func (s *Server) ollamaTags(w http.ResponseWriter, r *http.Request) {
	models := []any{}
	for _, md := range s.opts.Models {
		e := map[string]any{"name": md.ID, "model": md.ID, "modified_at": "2025-09-30T10:04:05.123456789Z",
			"size": 4683087332, "digest": md.Digest, "details": s.ollamaDetails(md)}
		if md.RemoteHost != "" || md.RemoteModel != "" {
			// A cloud model is a small stub manifest on disk; Ollama adds
			// the upstream name and host (omitempty for local models).
			e["remote_model"], e["remote_host"], e["size"] = md.RemoteModel, md.RemoteHost, 384
		}
		models = append(models, e)
	}
	writeJSON(w, 200, map[string]any{"models": models})
}

// ollamaShow serves POST /api/show: ShowResponse with model_info
// ("<arch>.context_length", "general.parameter_count") and capabilities,
// ollama/ollama api/types.go and server/routes.go ShowHandler (commit
// fb30760, 2026-08-21).
func (s *Server) ollamaShow(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Model string `json:"model"`
		Name  string `json:"name"`
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	if in.Model == "" {
		in.Model = in.Name
	}
	md, ok := s.model(in.Model)
	if !ok {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", in.Model), "not_found")
		return
	}
	arch := md.Family
	if arch == "" {
		arch = "llama"
	}
	caps := []string{"completion", "tools", "insert"}
	if md.Embedding {
		caps = []string{"embedding"}
	}
	show := map[string]any{
		"license": "Apache License", "modelfile": "FROM " + md.ID, "parameters": "stop \"<|im_end|>\"",
		"template": "{{ .Prompt }}", "details": s.ollamaDetails(md),
		"model_info": map[string]any{"general.architecture": arch,
			"general.parameter_count":  int64(llm.ParseParameterSize(md.ParameterSize) * 1e9),
			arch + ".context_length":   md.ContextLength,
			arch + ".embedding_length": 3584},
		"capabilities": caps, "modified_at": "2025-09-30T10:04:05.123456789Z"}
	if md.RemoteHost != "" {
		// ShowResponse carries remote_model and remote_host for cloud models.
		show["remote_model"], show["remote_host"] = md.RemoteModel, md.RemoteHost
	}
	writeJSON(w, 200, show)
}

// ollamaPS serves GET /api/ps: ProcessModelResponse (name, model, size,
// digest, details, expires_at, size_vram, context_length) from ollama/ollama
// api/types.go and PsHandler in server/routes.go (commit fb30760,
// 2026-08-21). context_length is the window the model is loaded with now.
func (s *Server) ollamaPS(w http.ResponseWriter, r *http.Request) {
	models := []any{}
	for _, md := range s.opts.Models {
		win := s.loadedWindow(md)
		if win == 0 {
			continue
		}
		models = append(models, map[string]any{"name": md.ID, "model": md.ID, "size": 6654289920, "digest": md.Digest,
			"details": s.ollamaDetails(md), "expires_at": time.Now().Add(5 * time.Minute).UTC().Format(time.RFC3339Nano),
			"size_vram": 6654289920, "context_length": win})
	}
	writeJSON(w, 200, map[string]any{"models": models})
}
