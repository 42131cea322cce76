package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/security/audit"
)

func TestCLIAuditVerifyAndTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	log, err := audit.Open(path, audit.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"qwen2.5-coder:7b", "llama3.1:8b", "phi4-mini"} {
		if err := log.Write(audit.Event{Type: audit.EventQuery, Model: m, Command: "explain", Query: "secret question", Success: true}); err != nil {
			t.Fatal(err)
		}
	}
	log.Close()
	out, _, code := runCLI(t, dir, "audit", "verify", path)
	if code != 0 || !strings.Contains(out, "intact (3 lines") {
		t.Fatalf("verify: %d %s", code, out)
	}
	out, _, code = runCLI(t, dir, "audit", "tail", "-n", "2", path)
	if code != 0 || !strings.Contains(out, "llama3.1:8b") || strings.Contains(out, "qwen2.5-coder:7b") || strings.Contains(out, "secret question") {
		t.Fatalf("tail: %d %s", code, out)
	}
	out, _, _ = runCLI(t, dir, "audit", "tail", "--json", path)
	if !strings.Contains(out, `"query_sha256"`) || strings.Contains(out, "secret question") {
		t.Fatalf("tail --json: %s", out)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), "llama3.1:8b", "llama3.1:70b", 1)), 0o600)
	out, _, code = runCLI(t, dir, "audit", "verify", path)
	if code != 1 || !strings.Contains(out, "TAMPERED") || !strings.Contains(out, "audit.jsonl:2: edited") {
		t.Fatalf("verify tampered: %d %s", code, out)
	}
}
