package config

import (
	"reflect"
	"strings"
	"testing"
)

// security.audit_fsync: two values, a clear error for others, and only the
// strict one ("query") may come from an untrusted workspace.
func TestAuditFsyncKey(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[security]\naudit_fsync = \"background\"\n"))
	if err != nil || cfg.Security.AuditFsync != "background" {
		t.Fatalf("%v %q", err, cfg.Security.AuditFsync)
	}
	if _, err := Parse("c.toml", []byte("[security]\naudit_fsync = \"never\"\n")); err == nil ||
		!strings.Contains(err.Error(), `c.toml:2: security.audit_fsync: "never" is not "query" or "background"`) {
		t.Errorf("bad value: %v", err)
	}
	r, ok := keyRules["security.audit_fsync"]
	if !ok || r.class != ClassLoosens {
		t.Fatalf("rule %+v, want loosens", r)
	}
	if r.narrows(reflect.Value{}, reflect.ValueOf("background")) || !r.narrows(reflect.Value{}, reflect.ValueOf("query")) {
		t.Error("a workspace may only ask for the per-query fsync")
	}
}
