package selection

import (
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/catalog"
)

func cloudModel() Available {
	a := ollama("gpt-oss:120b-cloud", 131072, false)
	a.External = "runs on https://ollama.invalid:443 through Ollama"
	return a
}

func TestExternalModelsAreSkippedByDefault(t *testing.T) {
	avail := []Available{cloudModel(), ollama("qwen2.5-coder:7b", 32768, true)}
	table := Table{catalog.Coding: {Primary: []string{"gpt-oss:120b-cloud"}}}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 1000, AnswerTokens: 500}, avail, table, nil)
	if d.Err != nil || d.Model != "qwen2.5-coder:7b" {
		t.Fatalf("chose %q (%v), want the local model even though the routing names the cloud one", d.Model, d.Err)
	}
	for _, c := range d.Candidates() {
		if c.Model == "gpt-oss:120b-cloud" {
			t.Fatalf("external model among the candidates: %+v", d.Candidates())
		}
	}
	s, ok := skipFor(d, "gpt-oss:120b-cloud")
	if !ok || !strings.Contains(s.Reason, "runs on https://ollama.invalid:443 through Ollama") || !strings.Contains(s.Reason, "security.allow_external = true") {
		t.Errorf("skip reason %q", s.Reason)
	}
	// Not as the reduced-context or smallest model either, even when it is
	// the only one left.
	d = Select(Request{Category: catalog.Coding, PromptTokens: 1000, AnswerTokens: 500}, []Available{cloudModel()}, nil, nil)
	if d.Err == nil || d.Model != "" || d.Smallest != nil || d.Reduced != nil {
		t.Errorf("only an external model: %+v", d)
	}
}

func TestExternalModelsAllowedWithAllowExternal(t *testing.T) {
	avail := []Available{cloudModel(), ollama("qwen2.5-coder:7b", 32768, true)}
	table := Table{catalog.Coding: {Primary: []string{"gpt-oss:120b-cloud"}}}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 1000, AnswerTokens: 500, AllowExternal: true}, avail, table, nil)
	if d.Err != nil || d.Model != "gpt-oss:120b-cloud" {
		t.Fatalf("chose %q (%v), want the routed cloud model", d.Model, d.Err)
	}
	if _, ok := skipFor(d, "gpt-oss:120b-cloud"); ok {
		t.Error("allowed external model still reported as skipped")
	}
}
