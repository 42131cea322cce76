package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/security/audit"
)

// fakeGitHubToken has the format of a GitHub personal access token; it is
// assembled so secret scanners do not flag this file.
var fakeGitHubToken = "gh" + "p_" + "R7mK2xQ9vL4nT8wZ1bC6dF3hJ5pS0aYeUiOq"

var clientGo = `// Package deploy talks to the forge.
package deploy

// newClient returns an authenticated client.
func newClient() *Client {
	token := "` + fakeGitHubToken + `"
	return &Client{Token: token, BaseURL: "https://git.lab.internal/api/v3"}
}

const baseURL = "https://git.lab.internal/api/v3"

// Client is what newClient returns.
type Client struct{ Token, BaseURL string }
`

func TestCLIAskRedactsSecretsBeforeSending(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It builds a client with a token."})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	// Keep the query text in the audit log: it must still hold no secret.
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("log_queries_plaintext = true\n")...), 0o600)
	file := filepath.Join(dir, "client.go")
	os.WriteFile(file, []byte(clientGo), 0o644)

	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "5", "--col", "6")
	if code != 0 {
		t.Fatalf("ask: %d\n%s\n%s", code, out, errOut)
	}
	chats := srv.Chats()
	if len(chats) != 1 {
		t.Fatalf("%d chat requests", len(chats))
	}
	body, _ := json.Marshal(chats[0].Raw)
	if strings.Contains(string(body), fakeGitHubToken) || strings.Contains(string(body), "R7mK2xQ9vL4nT8wZ") {
		t.Fatalf("the token reached the model:\n%s", body)
	}
	if !strings.Contains(string(body), "[REDACTED:github-token]") || !strings.Contains(string(body), "func newClient() *Client") {
		t.Errorf("the model did not get the code with a placeholder:\n%s", body)
	}
	recs, err := audit.Tail(filepath.Join(dir, "audit.jsonl"), 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit: %v %d", err, len(recs))
	}
	if recs[0].Type != audit.EventQuery || recs[0].Redactions != 1 {
		t.Errorf("audit record counts %d redactions, want 1: %+v", recs[0].Redactions, recs[0].Event)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if strings.Contains(string(raw), fakeGitHubToken) || !strings.Contains(string(raw), `"redactions":1`) {
		t.Errorf("audit log:\n%s", raw)
	}

	// The dry run shows the prompt as it would be sent, and the count.
	out, _, code = runCLI(t, dir, "--config", cfg, "ask", "--dry-run", "--json", "--action", "explain", "--file", file, "--line", "5", "--col", "6")
	var dry struct {
		Prompt     []struct{ Content string }
		Redactions int
	}
	if err := json.Unmarshal([]byte(out), &dry); err != nil || code != 0 {
		t.Fatalf("dry run: %d %v\n%s", code, err, out)
	}
	prompt, _ := json.Marshal(dry.Prompt)
	if dry.Redactions != 1 || strings.Contains(string(prompt), fakeGitHubToken) || !strings.Contains(string(prompt), "[REDACTED:github-token]") {
		t.Errorf("dry run: %d redactions\n%s", dry.Redactions, prompt)
	}
	out, _, _ = runCLI(t, dir, "--config", cfg, "ask", "--dry-run", "--action", "explain", "--file", file, "--line", "5", "--col", "6")
	if !strings.Contains(out, "redactions: 1 secret(s) replaced before sending") {
		t.Errorf("dry-run text:\n%s", out)
	}

	// Turned off (a security-loosening key), the token goes out as is.
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("[security.redaction]\nenabled = false\n")...), 0o600)
	if _, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "5", "--col", "6"); code != 0 {
		t.Fatalf("ask without redaction: %d %s", code, errOut)
	}
	if chats := srv.Chats(); len(chats) != 2 || !strings.Contains(chats[1].Messages[len(chats[1].Messages)-1].Content, fakeGitHubToken) {
		t.Errorf("with redaction off the prompt should carry the code unchanged")
	}
}

// A refactor keeps the user's secret: the model only saw the placeholder,
// and the edit puts the real value back.
func TestCLIRefactorKeepsRedactedSecretInTheFile(t *testing.T) {
	answer := "```go\nfunc newClient() *Client {\n\ttoken := \"[REDACTED:github-token]\"\n\treturn &Client{Token: token, BaseURL: baseURL}\n}\n```\n"
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: answer})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := filepath.Join(dir, "client.go")
	os.WriteFile(file, []byte(clientGo), 0o644)
	_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "refactor", "--apply", "--file", file, "--line", "5", "--col", "6", "use a baseURL constant")
	b, _ := os.ReadFile(file)
	if code != 0 || !strings.Contains(string(b), `token := "`+fakeGitHubToken+`"`) || !strings.Contains(string(b), "BaseURL: baseURL") || strings.Contains(string(b), "REDACTED") {
		t.Fatalf("apply: %d %s\n%s", code, errOut, b)
	}
}

func TestCLIConfigRejectsBadRedactionPattern(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	os.WriteFile(path, []byte("[security.redaction]\nextra_patterns = [\"ACME-(\"]\n"), 0o600)
	out, _, code := runCLI(t, dir, "config", "validate", path)
	if code != 1 || !strings.Contains(out, "security.redaction.extra_patterns") || !strings.Contains(out, "not a valid regular expression") {
		t.Errorf("validate: %d\n%s", code, out)
	}
}
