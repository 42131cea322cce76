package discovery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// rawServer answers each path with fixed bytes (the real server's, from its
// docs), and header on every answer.
func rawServer(t *testing.T, header map[string]string, routes map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		body, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "text/html")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func byID(svc llm.Service) map[string]llm.Model {
	out := map[string]llm.Model{}
	for _, m := range svc.Models {
		out[m.ID] = m
	}
	return out
}

// The window a loaded Ollama model runs with comes from /api/ps
// context_length; the model's maximum still comes from /api/show, which
// gets the API key like every other route (an authenticating proxy in
// front of Ollama refuses it otherwise).
func TestOllamaLoadedWindowAndShowKey(t *testing.T) {
	md := llmtest.DefaultModel(llm.KindOllama)
	md.LoadedContext = 8192
	cold := llmtest.Model{ID: "llama3.2:1b", Family: "llama", ParameterSize: "1.2B", ContextLength: 131072, Digest: strings.Repeat("c", 64)}
	back := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{md, cold}})
	defer back.Close()
	target, _ := url.Parse(back.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var refused atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			refused.Add(1)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.Host = target.Host
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: front.URL, APIKey: "k", Kind: llm.KindOllama})))
	ms := byID(svc)
	if m := ms[md.ID]; !m.Loaded || m.LoadedContext != 8192 || m.ContextLength != 32768 {
		t.Errorf("loaded model: %+v, want loaded at 8192 with maximum 32768 (from /api/show)", m)
	}
	if m := ms[cold.ID]; m.Loaded || m.LoadedContext != 0 || m.ContextLength != 131072 {
		t.Errorf("cold model: %+v", m)
	}
	if refused.Load() != 0 {
		t.Errorf("%d requests went without the key", refused.Load())
	}
}

// LM Studio's /api/v1/models, byte for byte the example of lmstudio-ai/docs
// 1_developer/2_rest/list.md (commit e70f746): the loaded instance's window
// (4096) wins over max_context_length (32768), the model's maximum.
const lmStudioV1Example = `{
  "models": [
    {
      "type": "llm",
      "publisher": "lmstudio-community",
      "key": "gemma-3-270m-it-qat",
      "display_name": "Gemma 3 270m Instruct Qat",
      "architecture": "gemma3",
      "quantization": {
        "name": "Q4_0",
        "bits_per_weight": 4
      },
      "size_bytes": 241410208,
      "params_string": "270M",
      "loaded_instances": [
        {
          "id": "gemma-3-270m-it-qat",
          "config": {
            "context_length": 4096
          }
        }
      ],
      "max_context_length": 32768,
      "format": "gguf",
      "capabilities": {
        "vision": false,
        "trained_for_tool_use": false
      },
      "description": null
    },
    {
      "type": "embedding",
      "publisher": "gaianet",
      "key": "text-embedding-nomic-embed-text-v1.5-embedding",
      "display_name": "Nomic Embed Text v1.5",
      "quantization": {
        "name": "F16",
        "bits_per_weight": 16
      },
      "size_bytes": 274290560,
      "params_string": null,
      "loaded_instances": [],
      "max_context_length": 2048,
      "format": "gguf"
    }
  ]
}`

// The v0 example of lmstudio-ai/docs 1_developer/2_rest/endpoints.md
// (commit e35e35a), with the loaded model's maximum raised as in the
// reference sheet's example (loaded at 4096, maximum 262144).
const lmStudioV0Example = `{
  "object": "list",
  "data": [
    {
      "id": "qwen2-vl-7b-instruct",
      "object": "model",
      "type": "vlm",
      "publisher": "mlx-community",
      "arch": "qwen2_vl",
      "compatibility_type": "mlx",
      "quantization": "4bit",
      "state": "not-loaded",
      "max_context_length": 32768
    },
    {
      "id": "qwen3-coder-30b",
      "object": "model",
      "type": "llm",
      "publisher": "lmstudio-community",
      "arch": "qwen3moe",
      "compatibility_type": "gguf",
      "quantization": "Q4_K_M",
      "state": "loaded",
      "max_context_length": 262144
    }
  ]
}`

func TestLMStudioPrefersV1LoadedWindow(t *testing.T) {
	srv := rawServer(t, nil, map[string]string{"/api/v1/models": lmStudioV1Example, "/api/v0/models": lmStudioV0Example})
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	if svc.Kind != llm.KindLMStudio || svc.Status != llm.StatusOnline {
		t.Fatalf("%+v", svc)
	}
	ms := byID(svc)
	if m := ms["gemma-3-270m-it-qat"]; !m.Loaded || m.ContextLength != 4096 || m.LoadedContext != 4096 || !m.Chat ||
		m.Quantization != "Q4_0" || m.Family != "gemma3" || m.DisplayName != "Gemma 3 270m Instruct Qat" {
		t.Errorf("loaded llm: %+v", m)
	}
	if m := ms["text-embedding-nomic-embed-text-v1.5-embedding"]; m.Chat || m.Loaded {
		t.Errorf("embedding model: %+v", m)
	}
	if _, ok := ms["qwen3-coder-30b"]; ok {
		t.Error("v0 models listed although v1 answered")
	}
}

// Before 0.4 only v0 answers: its max_context_length is a maximum, so the
// window assumed is LM Studio's default load length, never 262144.
func TestLMStudioV0MaximumIsNotTheWindow(t *testing.T) {
	srv := rawServer(t, nil, map[string]string{"/api/v0/models": lmStudioV0Example})
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	ms := byID(svc)
	if m := ms["qwen3-coder-30b"]; !m.Loaded || m.ContextLength != 4096 {
		t.Errorf("loaded v0 model: %+v, want window 4096 (not the 262144 maximum)", m)
	}
}

// llama-server in router mode, the README's GET /models example
// (tools/server/README.md "Using multiple models", ggml-org/llama.cpp
// commit 00dc805) with a second, unloaded model and a failed one.
const llamaRouterExample = `{
  "data": [{
    "id": "ggml-org/gemma-3-4b-it-GGUF:Q4_K_M",
    "path": "/Users/REDACTED/Library/Caches/llama.cpp/ggml-org_gemma-3-4b-it-GGUF_gemma-3-4b-it-Q4_K_M.gguf",
    "status": {
      "value": "loaded",
      "args": ["llama-server", "-ctx", "4096"]
    },
    "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]}
  }, {
    "id": "Qwen3-8B-Q4_K_M.gguf",
    "status": {"value": "unloaded"}
  }, {
    "id": "llama-3.2-1b-Q4_K_M.gguf",
    "status": {"value": "unloaded", "args": ["llama-server", "-ctx", "4096"], "failed": true, "exit_code": 1}
  }, {
    "id": "Mistral-7B-Q4_K_M.gguf",
    "status": {"value": "loading", "args": ["llama-server", "-c", "8192"]}
  }]
}`

func TestLlamaCppRouterModeStatusAndWindow(t *testing.T) {
	srv := rawServer(t, map[string]string{"Server": "llama.cpp"}, map[string]string{
		"/props": `{"role":"router"}`, "/health": `{"status":"ok"}`, "/models": llamaRouterExample, "/v1/models": llamaRouterExample})
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	if svc.Kind != llm.KindLlamaCpp || svc.Status != llm.StatusOnline || len(svc.Models) != 4 {
		t.Fatalf("%+v", svc)
	}
	ms := byID(svc)
	if m := ms["ggml-org/gemma-3-4b-it-GGUF:Q4_K_M"]; !m.Loaded || m.ContextLength != 4096 || m.LoadedContext != 4096 {
		t.Errorf("loaded model: %+v", m)
	}
	for _, id := range []string{"Qwen3-8B-Q4_K_M.gguf", "llama-3.2-1b-Q4_K_M.gguf", "Mistral-7B-Q4_K_M.gguf"} {
		if m := ms[id]; m.Loaded || m.LoadedContext != 0 {
			t.Errorf("%s reported loaded: %+v", id, m)
		}
	}
	if m := ms["Mistral-7B-Q4_K_M.gguf"]; m.ContextLength != 8192 {
		t.Errorf("window from -c: %+v", m)
	}
}

// The double in router mode, whose loaded models give their window only
// through /props?model=...&autoload=false when the listing lacks it.
func TestLlamaCppRouterModeDouble(t *testing.T) {
	a := llmtest.Model{ID: "qwen2.5-coder-7b-instruct-q4_k_m.gguf", Family: "qwen2", ParameterSize: "7.6B", ContextLength: 32768, Loaded: true, LoadedContext: 8192}
	b := llmtest.Model{ID: "llama-3.2-1b-instruct-q4_k_m.gguf", Family: "llama", ParameterSize: "1.2B", ContextLength: 131072}
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Router: true, Models: []llmtest.Model{a, b}, Reply: "ok"})
	defer srv.Close()
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	ms := byID(svc)
	if m := ms[a.ID]; !m.Loaded || m.ContextLength != 8192 {
		t.Errorf("loaded: %+v", m)
	}
	if m := ms[b.ID]; m.Loaded {
		t.Errorf("unloaded reported loaded: %+v", m)
	}
	// A chat to the loaded one is answered by its instance.
	got := ""
	_, err := llm.NewClient(svc, nil, llm.Options{}).Chat(context.Background(),
		llm.ChatRequest{Model: a.ID, Messages: []llm.Message{{Role: "user", Content: "hi"}}}, func(d string) error { got += d; return nil })
	if err != nil || got != "ok" {
		t.Fatalf("chat: %q %v", got, err)
	}
}

// Jan runs llama-server behind its own proxy: answers it passes through say
// "Server: llama.cpp", but its root page is Jan's Swagger page.
func TestJanBehindLlamaCppHeaderIsJan(t *testing.T) {
	srv := rawServer(t, map[string]string{"Server": "llama.cpp"}, map[string]string{
		"/":          `<!doctype html><html><head><meta charset="utf-8"><title>API Docs</title></head><body></body></html>`,
		"/v1/models": `{"object":"list","data":[{"id":"qwen2.5-coder-7b-instruct","object":"model","created":1735689600,"owned_by":"user"}]}`,
		"/health":    `{"status":"ok"}`,
	})
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	if svc.Kind != llm.KindJan {
		t.Fatalf("identified as %s, want Jan", svc.Kind)
	}
	if m := svc.Models[0]; m.ContextLength != llm.KindJan.DefaultContext() {
		t.Errorf("Jan reports no window; want its default: %+v", m)
	}
}

// A configured context_length wins over what the server says, and over a
// kind's default; without one, GPT4All gets its 2048.
func TestContextLengthOverride(t *testing.T) {
	srv := llmtest.New(llm.KindGPT4All, llmtest.Options{})
	defer srv.Close()
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	if m := svc.Models[0]; m.ContextLength != 2048 {
		t.Errorf("GPT4All default: %+v", m)
	}
	svc = one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL, ContextLength: 8192})))
	if m := svc.Models[0]; m.ContextLength != 8192 {
		t.Errorf("override: %+v", m)
	}
	vl := llmtest.New(llm.KindVLLM, llmtest.Options{})
	defer vl.Close()
	svc = one(t, scan(t, customCfg(CustomEndpoint{Endpoint: vl.URL, ContextLength: 16384})))
	if m := svc.Models[0]; m.ContextLength != 16384 {
		t.Errorf("override of a reported window: %+v", m)
	}
	// services.<kind>.context_length applies to the kind found there.
	ts, err := Targets(Config{Defaults: map[llm.Kind]EndpointConfig{llm.KindGPT4All: {Enabled: true, Endpoint: srv.URL, ContextLength: 3000}}, HostAliases: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		if tg.Endpoint == srv.URL {
			got, ok := Probe(context.Background(), Config{}, tg)
			if !ok || got.Models[0].ContextLength != 3000 {
				t.Errorf("services.gpt4all.context_length: %+v", got)
			}
			return
		}
	}
	t.Fatal("no target for the configured endpoint")
}
