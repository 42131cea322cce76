package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// runCLIWithDNSTrace runs the binary with Go's resolver forced and its debug
// trace on: every host name the process looks up is printed to stderr as
// "go package net: hostLookupOrder(NAME) = ...".
func runCLIWithDNSTrace(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"), "XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"LSP_ROUTER_CONFIG=", "GODEBUG=netdns=go+2")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func lookedUp(stderr string) []string {
	var names []string
	for _, line := range strings.Split(stderr, "\n") {
		if i := strings.Index(line, "hostLookupOrder("); i >= 0 {
			rest := line[i+len("hostLookupOrder("):]
			if j := strings.Index(rest, ")"); j >= 0 {
				names = append(names, rest[:j])
			}
		}
	}
	return names
}

// doctor looks up no outside name by default, not even the endpoint name a
// (cloned) configuration names; --dns NAME looks up exactly NAME.
func TestCLIDoctorLooksUpNoOutsideNameUnlessAsked(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("\n[[custom_endpoints]]\nname = \"repo\"\nendpoint = \"http://attacker.invalid:11434\"\n")...), 0o600)

	// Asked: exactly that name is looked up (this also shows the trace works).
	out, errOut, _ := runCLIWithDNSTrace(t, dir, "--config", cfg, "doctor", "--json", "--dns", "probe.invalid")
	if !strings.Contains(errOut, "GODEBUG setting forcing use of the Go resolver") {
		t.Skipf("the Go resolver's debug trace is not available: %s", errOut)
	}
	if names := lookedUp(errOut); len(names) != 1 || names[0] != "probe.invalid" {
		t.Errorf("--dns probe.invalid looked up %v", names)
	}
	if !strings.Contains(out, "network: external DNS") || !strings.Contains(out, "probe.invalid") {
		t.Errorf("doctor --dns output:\n%s", out)
	}
	// Not asked: nothing is looked up.
	out, errOut, code := runCLIWithDNSTrace(t, dir, "--config", cfg, "doctor", "--json")
	if names := lookedUp(errOut); len(names) != 0 {
		t.Fatalf("doctor looked up %v without --dns\n%s", names, errOut)
	}
	if !strings.Contains(out, "not checked") || !strings.Contains(out, "host_not_listed") || code == exitUsage {
		t.Errorf("doctor: %d\n%s", code, out)
	}
	// The old flag is accepted and changes nothing.
	_, errOut, code = runCLIWithDNSTrace(t, dir, "--config", cfg, "doctor", "--json", "--no-dns")
	if code == exitUsage || len(lookedUp(errOut)) != 0 {
		t.Errorf("--no-dns: %d %v", code, lookedUp(errOut))
	}
	if _, errOut, code := runCLI(t, dir, "--config", cfg, "doctor", "--dns", "http://x.invalid/"); code != exitUsage || !strings.Contains(errOut, "bare host name") {
		t.Errorf("bad --dns: %d %s", code, errOut)
	}
}
