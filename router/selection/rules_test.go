package selection

import (
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/catalog"
)

// TestEachSkipNamesTheFirstRuleThatObjects offers models that break
// several rules at once: the reason shown is the first rule's, in the
// order external, embedding, no chat, VRAM, min_context, prompt size; and
// only a model skipped for its window is kept for the reduced prompt.
func TestEachSkipNamesTheFirstRuleThatObjects(t *testing.T) {
	const external = "runs on https://203.0.113.5:443 through Ollama"
	noChat := func(a Available) Available { a.Chat = false; return a }
	ext := func(a Available) Available { a.External = external; return a }
	avail := []Available{
		ext(noChat(ollama("nomic-embed-text:latest", 2048, false))), // external, embedding, no chat
		noChat(ollama("mxbai-embed-large:335m", 512, false)),        // embedding, no chat
		noChat(ollama("qwen2.5-coder:32b", 4096, false)),            // no chat, VRAM, window
		ollama("llama3.3:70b", 4096, false),                         // VRAM, min_context, window
		ollama("qwen2.5-coder:7b", 4096, false),                     // min_context, window
		ollama("qwen2.5-coder:14b", 16384, false),                   // window only
	}
	table := Table{catalog.Coding: {MinContext: 8192}}
	req := Request{Category: catalog.Coding, PromptTokens: 30000, AnswerTokens: 1000, VRAMCeilingGB: 12}
	d := Select(req, avail, table, nil)
	want := map[string]string{
		"nomic-embed-text:latest": "external model: " + external + "; prompts sent to it leave the network",
		"mxbai-embed-large:335m":  "embedding-only model, cannot chat",
		"qwen2.5-coder:32b":       "the service reports no chat capability for this model",
		"llama3.3:70b":            "GB of VRAM to load, above the 12.0 GB ceiling",
		"qwen2.5-coder:7b":        "context window 4096 (discovery) is below the routing's min_context 8192",
		"qwen2.5-coder:14b":       "prompt needs 31000 tokens (30000 prompt + 1000 answer) but the context window is 16384 (discovery)",
	}
	for model, reason := range want {
		s, ok := skipFor(d, model)
		if !ok || !strings.Contains(s.Reason, reason) {
			t.Errorf("%s: skip %q, want it to say %q", model, s.Reason, reason)
		}
	}
	if len(d.Skipped) != len(want) {
		t.Errorf("skipped %d models, want %d: %+v", len(d.Skipped), len(want), d.Skipped)
	}
	// The window-only skips can take a reduced prompt; the best of them
	// (14b over 7b) is the reduced level's model and the first choice.
	if d.Reduced == nil || d.Reduced.Model != "qwen2.5-coder:14b" || d.Model != "qwen2.5-coder:14b" || d.Chosen.Level != LevelReducedContext {
		t.Errorf("reduced %+v, chosen %q at %s", d.Reduced, d.Model, d.Chosen.Level)
	}
	// The smallest model that can load: 7b, not the hard-skipped ones.
	if d.Smallest == nil || d.Smallest.Model != "qwen2.5-coder:7b" {
		t.Errorf("smallest %+v", d.Smallest)
	}
}
