package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCompletionKeys(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[completion]\nmodel = \"qwen2.5-coder:1.5b\"\nmax_lines = 3\ndebounce = \"40ms\"\nlsp_completion_items = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Completion
	if c.Model != "qwen2.5-coder:1.5b" || c.MaxLines != 3 || c.Debounce.Duration != 40*time.Millisecond || !c.LSPCompletionItems {
		t.Fatalf("parsed %+v", c)
	}
	// Keys not set keep their defaults.
	if !c.Enabled || c.MaxTokens != 128 || c.Timeout.Duration != 5*time.Second || c.ContextTokens != 1536 {
		t.Fatalf("defaults lost: %+v", c)
	}
	for bad, key := range map[string]string{
		"[completion]\nmax_tokens = 0\n":      "completion.max_tokens",
		"[completion]\nmax_tokens = 100000\n": "completion.max_tokens",
		"[completion]\nmax_lines = 0\n":       "completion.max_lines",
		"[completion]\ncontext_tokens = 10\n": "completion.context_tokens",
		"[completion]\ndebounce = \"5s\"\n":   "completion.debounce",
		"[completion]\ntimeout = \"1ms\"\n":   "completion.timeout",
		"[completion]\nmax_token = 10\n":      "valid keys here: enabled, model, max_tokens",
	} {
		_, err := Parse("c.toml", []byte(bad))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// Completion settings steer model choice and limits only: an untrusted
	// workspace may set them.
	for _, k := range []string{"completion.model", "completion.max_tokens", "completion.enabled", "completion.debounce"} {
		if cl, ok := untrustedVerdict(k, reflect.ValueOf(""), reflect.ValueOf("x")); cl != ClassSafe || !ok {
			t.Errorf("%s is %v, %v; want safe", k, cl, ok)
		}
	}
}
