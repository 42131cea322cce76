package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// A real coding agent, opencode from npm (tools/mcp-conformance pins it),
// configured as the README says, starts `lsp-router mcp` and lists its
// tools. opencode has no command that prints an MCP server's tools, so the
// test reads them where they arrive: `opencode mcp list` must report the
// server connected (it initialises and calls tools/list), and a
// non-interactive `opencode run` against the LLM double offers the model
// lsp-router's tools, which the double records. `make test-mcp` sets
// LSP_ROUTER_OPENCODE; without it the test says how to run it.
func TestMCPOpencodeListsTheTools(t *testing.T) {
	bin := os.Getenv("LSP_ROUTER_OPENCODE")
	if bin == "" {
		t.Skip("set LSP_ROUTER_OPENCODE to an opencode binary (make test-mcp does, from tools/mcp-conformance)")
	}
	const model = "qwen-coder"
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: "Answer from the double.", Models: []llmtest.Model{{ID: model, ContextLength: 32768}}})
	defer srv.Close()

	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	lrcfg := onlyService(t, dir, llm.KindLlamaCpp, srv.URL)
	oc := map[string]any{
		"$schema": "https://opencode.ai/config.json",
		"mcp": map[string]any{
			"lsp-router": map[string]any{"type": "local", "command": []string{binary, "--config", lrcfg, "mcp"}, "enabled": true},
		},
		"provider": map[string]any{
			"double": map[string]any{
				"npm":     "@ai-sdk/openai-compatible",
				"name":    "LLM double",
				"options": map[string]any{"baseURL": srv.URL + "/v1"},
				"models":  map[string]any{model: map[string]any{"name": model}},
			},
		},
		"model":      "double/" + model,
		"autoupdate": false,
		"share":      "disabled",
	}
	b, _ := json.MarshalIndent(oc, "", "  ")
	os.WriteFile(filepath.Join(proj, "opencode.json"), b, 0o644)

	agent := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = proj
		cmd.Env = append(os.Environ(), "PWD="+proj, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
			"XDG_DATA_HOME="+filepath.Join(home, ".local/share"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
			"XDG_STATE_HOME="+filepath.Join(home, ".local/state"), "OPENCODE_DISABLE_AUTOUPDATE=1",
			"OPENCODE_DISABLE_MODELS_FETCH=1", "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := agent("mcp", "list", "--pure")
	if err != nil || !strings.Contains(out, "lsp-router") || !strings.Contains(out, "connected") {
		t.Fatalf("opencode mcp list: %v\n%s", err, out)
	}

	out, err = agent("run", "--pure", "--model", "double/"+model, "Say hello.")
	if err != nil || !strings.Contains(out, "Answer from the double.") {
		t.Fatalf("opencode run: %v\n%s", err, out)
	}
	var offered []string
	for _, c := range srv.Chats() {
		tools, _ := c.Raw["tools"].([]any)
		for _, tl := range tools {
			fn, _ := tl.(map[string]any)["function"].(map[string]any)
			if name, _ := fn["name"].(string); strings.HasPrefix(name, "lsp-router") {
				offered = append(offered, name)
			}
		}
	}
	slices.Sort(offered)
	offered = slices.Compact(offered)
	want := []string{"lsp-router_ask", "lsp-router_explain", "lsp-router_models", "lsp-router_propose_edit", "lsp-router_route"}
	if !slices.Equal(offered, want) {
		t.Errorf("opencode offered the model %v, want %v", offered, want)
	}
}
