package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTemplateParsesToDefaults(t *testing.T) {
	cfg, err := Parse("t.toml", []byte(Template))
	if err != nil {
		t.Fatalf("template does not parse: %v", err)
	}
	def := Default()
	if cfg.Generation.FirstTokenTimeout != def.Generation.FirstTokenTimeout || cfg.Security.AllowExternal || !cfg.Security.AuditEnabled {
		t.Fatalf("template changes defaults: %+v", cfg)
	}
}

func TestParseValues(t *testing.T) {
	src := `
[services.ollama]
endpoint = "http://127.0.0.1:11500"
priority = 3
timeout = "45s"

[[custom_endpoints]]
name = "team"
endpoint = "http://10.0.0.5:8000"
api_style = "openai"

[task_routing.coding]
primary_models = ["qwen2.5-coder:7b"]
min_context = 8192

[security]
allowed_cidrs = ["10.0.0.0/24"]
`
	cfg, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Services["ollama"]; got.Endpoint != "http://127.0.0.1:11500" || got.Priority != 3 || got.Timeout.Duration != 45*time.Second || !got.IsEnabled() {
		t.Errorf("ollama = %+v", got)
	}
	if len(cfg.CustomEndpoints) != 1 || cfg.CustomEndpoints[0].Name != "team" {
		t.Errorf("custom = %+v", cfg.CustomEndpoints)
	}
	if cfg.TaskRouting["coding"].MinContext != 8192 {
		t.Errorf("routing = %+v", cfg.TaskRouting)
	}
}

func TestProblemsHaveFileLineKeyAndChoices(t *testing.T) {
	src := `[services.olama]
endpoint = "http://127.0.0.1:11434"

[security]
allow_externall = true
allowed_cidrs = ["10.0.0.0/33"]

[context]
compaction_threshold = 1.5

[generation]
idle_timeout = "soon"
`
	_, err := Parse("bad.toml", []byte(src))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	msg := ce.Error()
	for _, want := range []string{
		`bad.toml:12: generation.idle_timeout: "soon" is not a duration`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	// Type errors stop decoding first; check the value problems separately.
	_, err = Parse("bad.toml", []byte(strings.Replace(src, `idle_timeout = "soon"`, `idle_timeout = "5s"`, 1)))
	msg = err.Error()
	for _, want := range []string{
		"bad.toml:5: security.allow_externall: unknown key; valid keys here: allow_external",
		`bad.toml:1: services.olama: unknown service "olama"; valid services: ollama`,
		`bad.toml:6: security.allowed_cidrs: "10.0.0.0/33" is not a CIDR`,
		`bad.toml:9: context.compaction_threshold: must be in (0, 1]`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

func TestBadDurationReportsLine(t *testing.T) {
	_, err := Parse("d.toml", []byte("[generation]\n\nidle_timeout = \"soon\"\n"))
	if err == nil || !strings.Contains(err.Error(), "d.toml:3") || !strings.Contains(err.Error(), `"soon" is not a duration`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSyntaxErrorReportsLine(t *testing.T) {
	_, err := Parse("s.toml", []byte("[security]\nallow_external = tru\n"))
	if err == nil || !strings.Contains(err.Error(), "s.toml:2") {
		t.Fatalf("err = %v", err)
	}
}

func TestUserFileOrder(t *testing.T) {
	dir := t.TempDir()
	xdg := filepath.Join(dir, "xdg")
	os.MkdirAll(filepath.Join(xdg, "lsp-router"), 0o755)
	t.Setenv("XDG_CONFIG_HOME", xdg)
	t.Setenv(EnvVar, "")
	if got, err := UserFile(""); got != "" || err != nil {
		t.Errorf("none: got %q %v", got, err)
	}
	userFile := filepath.Join(xdg, "lsp-router", "config.toml")
	os.WriteFile(userFile, nil, 0o600)
	if got, _ := UserFile(""); got != userFile {
		t.Errorf("user: got %q", got)
	}
	envFile := filepath.Join(dir, "env.toml")
	os.WriteFile(envFile, nil, 0o600)
	t.Setenv(EnvVar, envFile)
	if got, _ := UserFile(""); got != envFile {
		t.Errorf("env: got %q", got)
	}
	if got, _ := UserFile(userFile); got != userFile {
		t.Errorf("explicit: got %q", got)
	}
	if _, err := UserFile(filepath.Join(dir, "missing.toml")); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("explicit missing file: err = %v", err)
	}
}

func TestOverlay(t *testing.T) {
	base := Default()
	out, err := Overlay(base, json.RawMessage(`{"lsp-router": {"services": {"ollama": {"endpoint": "http://127.0.0.1:9999"}}, "security": {"allowed_cidrs": ["10.1.0.0/16"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if out.Services["ollama"].Endpoint != "http://127.0.0.1:9999" || out.Security.AllowedCIDRs[0] != "10.1.0.0/16" {
		t.Errorf("overlay = %+v", out)
	}
	if !out.Security.AuditEnabled || out.Generation.MaxAnswerTokens != 2048 {
		t.Errorf("overlay lost defaults: %+v", out)
	}
	if len(base.Services) != 0 {
		t.Errorf("overlay modified base")
	}
	if _, err := Overlay(base, json.RawMessage(`{"securty": {}}`)); err == nil || !strings.Contains(err.Error(), "securty") {
		t.Errorf("unknown key: err = %v", err)
	}
	if _, err := Overlay(base, json.RawMessage(`{"security": {"allowed_cidrs": ["x"]}}`)); err == nil {
		t.Errorf("bad value accepted")
	}
}

func TestWriteTemplateRefusesOverwrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.toml")
	if err := WriteTemplate(p, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteTemplate(p, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrite: err = %v", err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", st.Mode())
	}
}

func TestMaxFileBytes(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[context]\nmax_file_bytes = 1048576\n"))
	if err != nil || cfg.Context.MaxFileBytes != 1<<20 {
		t.Fatalf("%v %+v", err, cfg.Context)
	}
	if Default().Context.MaxFileBytes != 8<<20 {
		t.Errorf("default %d", Default().Context.MaxFileBytes)
	}
	_, err = Parse("c.toml", []byte("[context]\nmax_file_bytes = -1\n"))
	if err == nil || !strings.Contains(err.Error(), "c.toml:2: context.max_file_bytes: must be between 0") {
		t.Errorf("negative: %v", err)
	}
}

func TestGatewayConfigValidation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	os.WriteFile(path, []byte("[gateway]\nlisten = \"4000\"\nmax_request_bytes = -1\nmax_concurrent_per_key = 100000\nkeys_fil = \"x\"\n"), 0o600)
	_, err := Load(path, "")
	if err == nil {
		t.Fatal("a bad [gateway] table loaded")
	}
	for _, want := range []string{"gateway.listen", "host:port", "gateway.max_request_bytes", "gateway.max_concurrent_per_key", "keys_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for addr, loop := range map[string]bool{"127.0.0.1:4000": true, "localhost:1": true, "[::1]:4000": true, "0.0.0.0:4000": false, ":4000": false, "192.0.2.1:4000": false} {
		if IsLoopbackAddr(addr) != loop {
			t.Errorf("IsLoopbackAddr(%q) = %v", addr, !loop)
		}
	}
}
