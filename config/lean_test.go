package config

import (
	"strings"
	"testing"
	"time"
)

func TestEditorAndIdleTimeouts(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[context]\neditor_timeout = \"500ms\"\nlanguage_servers_idle_timeout = \"3m\"\n"))
	if err != nil || cfg.Context.EditorTimeout.Duration != 500*time.Millisecond || cfg.Context.LanguageServersIdleTimeout.Duration != 3*time.Minute {
		t.Fatalf("%v %+v", err, cfg.Context)
	}
	for _, c := range []struct{ toml, want string }{
		{"[context]\neditor_timeout = \"2h\"\n", "c.toml:2: context.editor_timeout: must be between 0 (the default, 2s) and 1m"},
		{"[context]\neditor_timeout = \"-1s\"\n", "context.editor_timeout: duration \"-1s\" is negative"},
		{"[context]\nlanguage_servers_idle_timeout = \"10ms\"\n", "c.toml:2: context.language_servers_idle_timeout: must be 0 (the default, 10m) or at least 1s"},
	} {
		if _, err := Parse("c.toml", []byte(c.toml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.toml, err, c.want)
		}
	}
	for _, k := range []string{"context.editor_timeout", "context.language_servers_idle_timeout"} {
		if r, ok := keyRules[k]; !ok || r.class != ClassSafe {
			t.Errorf("%s: rule %+v, want safe", k, r)
		}
	}
}
