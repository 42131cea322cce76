package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestContextLengthKeys(t *testing.T) {
	src := "[services.gpt4all]\ncontext_length = 4096\n\n[[custom_endpoints]]\nname = \"webui\"\nendpoint = \"http://127.0.0.1:3000\"\ncontext_length = 8192\n"
	cfg, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Services["gpt4all"].ContextLength != 4096 || cfg.CustomEndpoints[0].ContextLength != 8192 {
		t.Fatalf("parsed %+v %+v", cfg.Services["gpt4all"], cfg.CustomEndpoints)
	}
	for _, bad := range []string{
		"[services.gpt4all]\ncontext_length = 100\n",
		"[services.gpt4all]\ncontext_length = -1\n",
		"[[custom_endpoints]]\nname = \"x\"\nendpoint = \"http://127.0.0.1:3000\"\ncontext_length = 99999999999\n",
	} {
		_, err := Parse("c.toml", []byte(bad))
		if err == nil || !strings.Contains(err.Error(), "context_length") || !strings.Contains(err.Error(), "between 512 and") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// A window only sizes prompts: an untrusted workspace may set it for a
	// service (custom endpoints, which name where prompts go, stay trusted-only).
	if c, ok := untrustedVerdict("services.*.context_length", reflect.ValueOf(0), reflect.ValueOf(4096)); c != ClassSafe || !ok {
		t.Errorf("services.*.context_length is %v, %v; want safe", c, ok)
	}
}
