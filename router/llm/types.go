// Package llm talks to local LLM servers: one typed model of services and
// models, streaming chat clients (Ollama native NDJSON and OpenAI-compatible
// SSE) with per-server quirks, a single typed error for every error shape the
// servers produce, and token counting.
//
// Facts about each server come from its own source and docs; the doubles in
// llmtest name the upstream file and version behind each wire format.
package llm

import (
	"fmt"
	"sort"
)

// Kind identifies which server software answers at an endpoint.
type Kind string

// The supported server kinds. KindOpenAI is a custom endpoint that speaks the
// OpenAI chat-completions API without a more specific fingerprint.
const (
	KindOllama       Kind = "ollama"
	KindLMStudio     Kind = "lmstudio"
	KindJan          Kind = "jan"
	KindOpenWebUI    Kind = "openwebui"
	KindLocalAI      Kind = "localai"
	KindVLLM         Kind = "vllm"
	KindLlamaCpp     Kind = "llamacpp"
	KindKoboldCpp    Kind = "koboldcpp"
	KindGPT4All      Kind = "gpt4all"
	KindTextGenWebUI Kind = "textgenwebui"
	KindTGI          Kind = "tgi"
	KindSGLang       Kind = "sglang"
	KindOpenAI       Kind = "openai"
)

// AllKinds lists every kind in a stable order (the order of the reference sheet).
func AllKinds() []Kind {
	return []Kind{KindOllama, KindLMStudio, KindJan, KindOpenWebUI, KindLocalAI, KindVLLM,
		KindLlamaCpp, KindKoboldCpp, KindGPT4All, KindTextGenWebUI, KindTGI, KindSGLang, KindOpenAI}
}

var displayNames = map[Kind]string{
	KindOllama: "Ollama", KindLMStudio: "LM Studio", KindJan: "Jan", KindOpenWebUI: "Open WebUI",
	KindLocalAI: "LocalAI", KindVLLM: "vLLM", KindLlamaCpp: "llama.cpp", KindKoboldCpp: "KoboldCpp",
	KindGPT4All: "GPT4All", KindTextGenWebUI: "text-generation-webui", KindTGI: "TGI",
	KindSGLang: "SGLang", KindOpenAI: "OpenAI-compatible",
}

// DisplayName is the human name of the server software ("LM Studio").
func (k Kind) DisplayName() string {
	if n, ok := displayNames[k]; ok {
		return n
	}
	return string(k)
}

// Valid reports whether k is one of the supported kinds.
func (k Kind) Valid() bool { _, ok := displayNames[k]; return ok }

// ParseKind converts a configuration string into a Kind, with an error that
// lists the accepted names.
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if k.Valid() {
		return k, nil
	}
	names := make([]string, 0, len(displayNames))
	for k := range displayNames {
		names = append(names, string(k))
	}
	sort.Strings(names)
	return "", fmt.Errorf("unknown LLM server kind %q: use one of %v", s, names)
}

// DefaultContext is the window assumed for a model of kind k when the
// server reports none: conservative, because a prompt sized to the model's
// trained context fails (GPT4All: empty HTTP 500) or is cut silently (Ollama
// behind Open WebUI runs with Ollama's default window). 0 means the catalog's
// trained context is used. Config context_length overrides it.
func (k Kind) DefaultContext() int {
	switch k {
	case KindGPT4All:
		return 2048 // GPT4All's default n_ctx (docs: settings, "Context Length")
	case KindOpenWebUI:
		return 2048 // Ollama's smallest window (sched.go), which Open WebUI gets when it sends no num_ctx
	case KindJan, KindLocalAI, KindTextGenWebUI:
		return 4096
	}
	return 0
}

// ReportsNoWindow lists kinds whose model listing carries no usable window:
// what they list is at best the model's maximum, not what it runs with.
func (k Kind) ReportsNoWindow() bool {
	switch k {
	case KindGPT4All, KindOpenWebUI, KindJan, KindLocalAI, KindTextGenWebUI:
		return true
	}
	return false
}

// APIStyle is the wire protocol used for chat.
type APIStyle string

const (
	// StyleOllama is Ollama's native /api/chat with NDJSON streaming.
	StyleOllama APIStyle = "ollama"
	// StyleOpenAI is OpenAI chat completions with SSE streaming.
	StyleOpenAI APIStyle = "openai"
)

// DefaultStyle is the chat protocol the adapter for k uses.
func (k Kind) DefaultStyle() APIStyle {
	if k == KindOllama {
		return StyleOllama
	}
	return StyleOpenAI
}

// Status is what discovery learned about a service's availability.
type Status string

const (
	// StatusOnline: the server answered and its models were listed.
	StatusOnline Status = "online"
	// StatusLoading: the server answered 503 while loading a model.
	StatusLoading Status = "loading"
	// StatusAuthRequired: the server wants an API key we lack or that it refused.
	StatusAuthRequired Status = "auth_required"
	// StatusError: the server answered but the inventory failed.
	StatusError Status = "error"
	// StatusOffline: nothing answered (only reported for custom endpoints).
	StatusOffline Status = "offline"
)

// Service is one reachable LLM server endpoint. Several endpoints of the same
// kind are separate services.
type Service struct {
	Kind     Kind     `json:"kind"`
	Name     string   `json:"name"`
	Endpoint string   `json:"endpoint"`
	APIStyle APIStyle `json:"api_style"`
	// Priority orders services; lower is preferred (as in router/selection).
	Priority int    `json:"priority"`
	Status   Status `json:"status"`
	// Version is the server's self-reported version, when it gives one.
	Version string `json:"version,omitempty"`
	// Error explains a non-online status in words a user can act on.
	Error  string  `json:"error,omitempty"`
	Models []Model `json:"models"`
	// APIKey is sent as a Bearer token. It is never serialized or logged.
	APIKey string `json:"-"`
	// Custom marks endpoints that came from the user's configuration.
	Custom bool `json:"custom,omitempty"`
}

// Model finds a model by id.
func (s Service) Model(id string) (Model, bool) {
	for _, m := range s.Models {
		if m.ID == id {
			return m, true
		}
	}
	return Model{}, false
}

// Model is one model a service offers.
type Model struct {
	ID            string  `json:"id"`
	DisplayName   string  `json:"display_name,omitempty"`
	Family        string  `json:"family,omitempty"`
	ParameterSize string  `json:"parameter_size,omitempty"`
	ParamsB       float64 `json:"params_b,omitempty"`
	Quantization  string  `json:"quantization,omitempty"`
	// ContextLength is the window prompts are sized for: the model's
	// maximum where the server can load it at any size (Ollama), the loaded
	// window where the server fixes it (llama.cpp, LM Studio), a per-kind
	// default where the server reports none, or the configured override.
	ContextLength int `json:"context_length"`
	// LoadedContext is the window the server has the model loaded with now
	// (Ollama /api/ps context_length); 0 when unknown or not loaded. Ollama
	// reloads the model whenever a request names another num_ctx, so the
	// client keeps this one while the prompt fits.
	LoadedContext int  `json:"loaded_context,omitempty"`
	Loaded        bool `json:"loaded"`
	// Chat is false for embedding-only models.
	Chat   bool   `json:"chat"`
	Digest string `json:"digest,omitempty"`
	// External is set when a local server lists the model but runs it
	// elsewhere (Ollama cloud models): a prompt sent to it leaves the
	// network. ExternalReason says where it runs.
	External       bool   `json:"external,omitempty"`
	ExternalReason string `json:"external_reason,omitempty"`
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is a provider-neutral chat request.
type ChatRequest struct {
	Model    string
	Messages []Message
	// MaxTokens caps the completion; 0 lets the server decide.
	MaxTokens   int
	Temperature *float64
	// NumCtx is the window the request needs (prompt plus answer), when the
	// caller knows it; 0 estimates it from the messages. Ollama is never sent
	// this exact size: the adapter keeps the loaded window when it is large
	// enough, else picks one of a few fixed sizes (see OllamaWindow).
	NumCtx int
	// Stop sequences, optional.
	Stop []string
}

// Usage is the token accounting the server reported at the end of a stream.
// Zero values mean the server did not report them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}
