package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// Ollama lists its cloud models beside local ones; a prompt sent to one
// leaves the network through the user's own Ollama.
func TestCLIOllamaCloudModelIsExternal(t *testing.T) {
	cloud := llmtest.OllamaCloudModel()
	const reason = "runs on https://ollama.invalid:443 through Ollama"
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "local answer", Models: []llmtest.Model{
		llmtest.DefaultModel(llm.KindOllama), cloud}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)

	out, errOut, code := runCLI(t, dir, "--config", cfg, "route", "--json", "write unit tests for this parser")
	var r routeJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("route: %d %v\n%s\n%s", code, err, out, errOut)
	}
	if r.Model != "qwen2.5-coder:7b" {
		t.Errorf("route chose %q, want the local model", r.Model)
	}
	skipped := false
	for _, s := range r.Skipped {
		if s.Model == cloud.ID && strings.Contains(s.Reason, reason) && strings.Contains(s.Reason, "security.allow_external") {
			skipped = true
		}
	}
	for _, f := range r.Fallbacks {
		if f.Model == cloud.ID {
			t.Errorf("cloud model is a fallback: %s", out)
		}
	}
	if !skipped {
		t.Errorf("route does not show the cloud model as skipped with its reason:\n%s", out)
	}

	out, _, code = runCLI(t, dir, "--config", cfg, "models", "--json")
	var ms []struct {
		ID             string `json:"id"`
		External       bool   `json:"external"`
		ExternalReason string `json:"external_reason"`
	}
	if err := json.Unmarshal([]byte(out), &ms); err != nil || code != 0 || len(ms) != 2 {
		t.Fatalf("models: %d %v\n%s", code, err, out)
	}
	for _, m := range ms {
		if (m.ID == cloud.ID) != m.External || (m.External && m.ExternalReason != reason) {
			t.Errorf("models --json: %+v", m)
		}
	}
	out, _, code = runCLI(t, dir, "--config", cfg, "discover", "--json")
	if code != 0 || !strings.Contains(out, `"external": true`) || !strings.Contains(out, reason) {
		t.Errorf("discover --json: %d\n%s", code, out)
	}

	out, _, _ = runCLI(t, dir, "--config", cfg, "doctor", "--json")
	if !strings.Contains(out, "models: "+cloud.ID+" on Ollama is external") || !strings.Contains(out, reason+"; never used") {
		t.Errorf("doctor does not report the external model:\n%s", out)
	}

	// A question is answered by the local model, never the cloud one.
	_, errOut, code = runCLI(t, dir, "--config", cfg, "ask", "what does a closure capture in Go?")
	if code != 0 {
		t.Fatalf("ask: %d %s", code, errOut)
	}
	for _, c := range srv.Chats() {
		if c.Model == cloud.ID {
			t.Fatalf("a prompt was sent to the cloud model")
		}
	}
}

func TestCLIOllamaCloudModelOnlyWithAllowExternal(t *testing.T) {
	cloud := llmtest.OllamaCloudModel()
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "cloud answer", Models: []llmtest.Model{cloud}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)

	// Only a cloud model: nothing may answer.
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "what does a closure capture in Go?")
	if code == 0 || srv.ChatRequests() != 0 {
		t.Fatalf("ask with only a cloud model: exit %d, %d chat requests\n%s\n%s", code, srv.ChatRequests(), out, errOut)
	}
	// The user opts in: the cloud model answers.
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("allow_external = true\n")...), 0o600)
	out, errOut, code = runCLI(t, dir, "--config", cfg, "route", "--json", "what does a closure capture in Go?")
	if code != 0 || !strings.Contains(out, `"model": "`+cloud.ID+`"`) {
		t.Fatalf("route with allow_external: %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, dir, "--config", cfg, "ask", "what does a closure capture in Go?")
	if code != 0 || !strings.Contains(out, "cloud answer") {
		t.Fatalf("ask with allow_external: %d\n%s\n%s", code, out, errOut)
	}
	if chats := srv.Chats(); len(chats) != 1 || chats[0].Model != cloud.ID {
		t.Errorf("chats: %+v", chats)
	}
}
