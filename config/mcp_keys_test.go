package config

import (
	"testing"
)

// A cloned repository may route its own agents, and turn MCP writes off,
// but never on: apply hands file writes to whatever drives the agent.
func TestUntrustedWorkspaceMCPKeys(t *testing.T) {
	ws := "[mcp]\nallow_apply = true\n[agents.opencode.task_routing.coding]\nprimary_models = [\"qwen2.5-coder:7b\"]\n"
	f := newFixture(t, "", ws)
	cfg := f.load(t)
	if cfg.MCP.AllowApply {
		t.Error("an untrusted workspace turned mcp.allow_apply on")
	}
	if got := cfg.Agents["opencode"].TaskRouting["coding"].PrimaryModels; len(got) != 1 || got[0] != "qwen2.5-coder:7b" {
		t.Errorf("agent routing (safe) not applied: %+v", cfg.Agents)
	}
	if ig := ignoredKeys(cfg); len(ig) != 1 || ig[0] != "mcp.allow_apply" {
		t.Errorf("ignored %v, want [mcp.allow_apply]", ig)
	}

	f = newFixture(t, "[mcp]\nallow_apply = true\n", "[mcp]\nallow_apply = false\n")
	cfg = f.load(t)
	if cfg.MCP.AllowApply || len(cfg.Provenance.Ignored) != 0 {
		t.Errorf("turning allow_apply off not applied: %+v %v", cfg.MCP, ignoredKeys(cfg))
	}
	if cfg.Provenance.Origins["mcp.allow_apply"] != OriginWorkspace {
		t.Errorf("origin %q", cfg.Provenance.Origins["mcp.allow_apply"])
	}
}
