package checksum

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// tagsBody is an Ollama GET /api/tags answer (shape from the reference sheet):
// digests are bare hex.
const tagsBody = `{"models":[
 {"name":"qwen2.5-coder:7b","model":"qwen2.5-coder:7b","modified_at":"2026-10-01T10:00:00Z","size":4683087332,
  "digest":"2b0496514337a3d5ad3e8e3c1fc0b19d1a3e1d8c2b6e3f8c8a3e5e7d9f0a1b2c",
  "details":{"family":"qwen2","families":["qwen2"],"parameter_size":"7.6B","quantization_level":"Q4_K_M","format":"gguf"}},
 {"name":"llama3.1:8b","model":"llama3.1:8b","modified_at":"2026-10-02T10:00:00Z","size":4920753328,
  "digest":"46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
  "details":{"family":"llama","parameter_size":"8.0B","quantization_level":"Q4_K_M","format":"gguf"}}]}`

type tags struct {
	Models []struct {
		Name   string `json:"name"`
		Digest string `json:"digest"`
	} `json:"models"`
}

func parseTags(t *testing.T) tags {
	t.Helper()
	var tg tags
	if err := json.Unmarshal([]byte(tagsBody), &tg); err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestNormalizeDigest(t *testing.T) {
	hexd := "46E0C10C039E019119339687C3C1757CC81B9DA49709A3B3924863BA87CA666E"
	want := "sha256:" + strings.ToLower(hexd)
	for _, in := range []string{hexd, "sha256:" + hexd, " SHA256:" + strings.ToLower(hexd) + " "} {
		got, err := NormalizeDigest(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDigest(%q) = %q, %v", in, got, err)
		}
	}
	for in, msg := range map[string]string{
		"md5:abc":               "not supported",
		"sha256:abc":            "want 64 hex digits",
		strings.Repeat("z", 64): "not hexadecimal",
		"":                      "want 64 hex digits",
	} {
		if _, err := NormalizeDigest(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("NormalizeDigest(%q) err = %v, want %q", in, err, msg)
		}
	}
}

func TestVerifyOllamaDigests(t *testing.T) {
	tg := parseTags(t)
	pins, err := Pins{
		"qwen2.5-coder:7b": "sha256:2B0496514337A3D5AD3E8E3C1FC0B19D1A3E1D8C2B6E3F8C8A3E5E7D9F0A1B2C",
		"llama3.1:8b":      "sha256:" + strings.Repeat("ab", 32),
	}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, m := range tg.Models {
		got[m.Name] = pins.Verify(m.Name, m.Digest)
	}
	if r := got["qwen2.5-coder:7b"]; r.Decision != Pinned || !r.Allowed() {
		t.Errorf("pinned: %+v", r)
	}
	r := got["llama3.1:8b"]
	if r.Decision != Mismatched || r.Allowed() || !strings.Contains(r.Reason, "lsp-router models --pin") || r.Got != "sha256:46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e" {
		t.Errorf("mismatched: %+v", r)
	}
	r = pins.Verify("mistral:7b", strings.Repeat("0", 64))
	if r.Decision != Unpinned || r.Allowed() || !strings.Contains(r.Reason, `"mistral:7b" = "sha256:0000`) {
		t.Errorf("unpinned: %+v", r)
	}
	// Ollama's implicit tag: a pin for "qwen2.5-coder" would not match, but
	// "llama3" and "llama3:latest" are the same model.
	latest := Pins{"llama3": "sha256:" + strings.Repeat("1", 64), "mistral:latest": "sha256:" + strings.Repeat("2", 64)}
	if r := latest.Verify("llama3:latest", strings.Repeat("1", 64)); r.Decision != Pinned {
		t.Errorf("llama3:latest vs pin llama3: %+v", r)
	}
	if r := latest.Verify("mistral", strings.Repeat("2", 64)); r.Decision != Pinned {
		t.Errorf("mistral vs pin mistral:latest: %+v", r)
	}
	if r := latest.Verify("llama3:8b", strings.Repeat("1", 64)); r.Decision != Unpinned {
		t.Errorf("llama3:8b must not match pin llama3: %+v", r)
	}
	r = pins.Verify("qwen2.5-coder:7b", "")
	if r.Decision != Unverifiable || r.Allowed() {
		t.Errorf("no digest: %+v", r)
	}
	r = pins.Verify("qwen2.5-coder:7b", "sha1:abcd")
	if r.Decision != Unverifiable || !strings.Contains(r.Reason, "unusable digest") {
		t.Errorf("bad digest: %+v", r)
	}
}

func TestValidateRejectsBadPins(t *testing.T) {
	_, err := Pins{"a": "sha256:" + strings.Repeat("1", 64), "b": "latest"}.Validate()
	if err == nil || !strings.Contains(err.Error(), `security.model_pins["b"]`) {
		t.Fatalf("err = %v", err)
	}
}

func TestVerifyGGUFFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.gguf")
	content := append([]byte("GGUF\x03\x00\x00\x00"), make([]byte, 3<<20+17)...) // spans several reads
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	want := "sha256:" + hex.EncodeToString(sum[:])
	h := NewFileHasher()
	ctx := context.Background()
	pins := Pins{path: want}
	r, err := pins.VerifyFile(ctx, h, path, path)
	if err != nil || r.Decision != Pinned {
		t.Fatalf("pinned file: %+v %v", r, err)
	}
	// Same size, new content and mtime: the cache must not hide the change.
	content[100] = 1
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	future := mustStat(t, path).ModTime().Add(1e9)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	r, err = pins.VerifyFile(ctx, h, path, path)
	if err != nil || r.Decision != Mismatched {
		t.Fatalf("changed file: %+v %v", r, err)
	}
	if r, _ := (Pins{}).VerifyFile(ctx, h, path, path); r.Decision != Unpinned {
		t.Fatalf("unpinned file: %+v", r)
	}
	if _, err := h.Sum(ctx, filepath.Join(dir, "missing.gguf")); err == nil || !strings.Contains(err.Error(), "missing.gguf") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := h.Sum(ctx, dir); err == nil {
		t.Fatal("directory hashed")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewFileHasher().Sum(cctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func mustStat(t *testing.T, p string) os.FileInfo {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestFormatPinsRoundTrip(t *testing.T) {
	tg := parseTags(t)
	var models []Model
	for _, m := range tg.Models {
		models = append(models, Model{ID: m.Name, Digest: m.Digest, Source: "ollama http://127.0.0.1:11434"})
	}
	models = append(models,
		Model{ID: `/models/we"ird\name.gguf`, Digest: "sha256:" + strings.Repeat("cd", 32), Source: "llama.cpp\nhttp://127.0.0.1:8080"},
		Model{ID: "served-by-vllm", Source: "vllm"},
	)
	out := FormatPins(models)
	var cfg struct {
		Security struct {
			VerifyChecksums bool              `toml:"verify_checksums"`
			ModelPins       map[string]string `toml:"model_pins"`
		} `toml:"security"`
	}
	// Pasted below an existing [security] table, as a user would.
	if _, err := toml.Decode("[security]\nverify_checksums = true\n\n"+out, &cfg); err != nil {
		t.Fatalf("output is not valid TOML: %v\n%s", err, out)
	}
	if !cfg.Security.VerifyChecksums || len(cfg.Security.ModelPins) != 3 {
		t.Fatalf("decoded %+v from\n%s", cfg, out)
	}
	pins, err := Pins(cfg.Security.ModelPins).Validate()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models[:3] {
		if r := pins.Verify(m.ID, m.Digest); r.Decision != Pinned {
			t.Errorf("%s: %+v", m.ID, r)
		}
	}
	if !strings.Contains(out, "# served-by-vllm: not pinned: no digest reported") {
		t.Errorf("unpinnable model not explained:\n%s", out)
	}
	if strings.Index(out, "llama3.1:8b") > strings.Index(out, "qwen2.5-coder:7b") {
		t.Errorf("pins not sorted:\n%s", out)
	}
}
