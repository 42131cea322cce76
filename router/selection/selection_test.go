package selection

import (
	"errors"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/catalog"
)

func ollama(model string, ctx int, loaded bool) Available {
	return Available{Service: "Ollama", ServiceKind: "ollama", Endpoint: "http://127.0.0.1:11434", Priority: 1,
		ModelID: model, ContextLength: ctx, Loaded: loaded, Chat: true}
}

func skipFor(d Decision, model string) (Skip, bool) {
	for _, s := range d.Skipped {
		if s.Model == model {
			return s, true
		}
	}
	return Skip{}, false
}

func TestRankingByCategory(t *testing.T) {
	avail := []Available{ollama("llama3.1:8b", 0, false), ollama("qwen2.5-coder:32b", 0, false), ollama("deepseek-r1:32b", 0, false)}
	if d := Select(Request{Category: catalog.Coding, PromptTokens: 1000, AnswerTokens: 500}, avail, nil, nil); d.Model != "qwen2.5-coder:32b" {
		t.Errorf("coding chose %q, want qwen2.5-coder:32b", d.Model)
	}
	d := Select(Request{Category: catalog.Reasoning, PromptTokens: 1000, AnswerTokens: 500}, avail, nil, nil)
	if d.Model != "deepseek-r1:32b" || d.Service != "Ollama" {
		t.Fatalf("reasoning chose %q on %q, want deepseek-r1:32b", d.Model, d.Service)
	}
	if d.Chosen.Level != LevelPrimary || !strings.Contains(d.Chosen.Why, "reasoning score") {
		t.Errorf("chosen not explained: %+v", d.Chosen)
	}
	if len(d.Fallbacks) != 2 || d.Fallbacks[0].Model != "qwen2.5-coder:32b" || d.Fallbacks[1].Model != "llama3.1:8b" {
		t.Errorf("fallbacks %+v", d.Fallbacks)
	}
	for _, f := range d.Fallbacks {
		if f.Level != LevelFallback {
			t.Errorf("fallback %s has level %s", f.Model, f.Level)
		}
	}
}

func TestContextFitUsesDiscoveredWindow(t *testing.T) {
	// The catalog says 32768 for qwen2.5-coder:32b, but the server runs it with 8192: the
	// 20000-token prompt does not fit, so the 128K llama wins despite a lower score.
	avail := []Available{ollama("qwen2.5-coder:32b", 8192, false), ollama("llama3.1:8b", 131072, false), ollama("gemma2:9b", 0, false)}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 20000, AnswerTokens: 2000}, avail, nil, nil)
	if d.Err != nil || d.Model != "llama3.1:8b" {
		t.Fatalf("chose %q (%v), want llama3.1:8b", d.Model, d.Err)
	}
	s, ok := skipFor(d, "qwen2.5-coder:32b")
	if !ok || !strings.Contains(s.Reason, "22000 tokens") || !strings.Contains(s.Reason, "8192 (discovery)") {
		t.Errorf("qwen skip reason %q", s.Reason)
	}
	g, ok := skipFor(d, "gemma2:9b")
	if !ok || !strings.Contains(g.Reason, "8192 (catalog)") {
		t.Errorf("gemma2 (unknown actual window) should use the catalog's 8192: %q", g.Reason)
	}
	if d.Skipped[0].Model != "qwen2.5-coder:32b" {
		t.Errorf("skips should list the best-scoring (would-be-above) model first: %+v", d.Skipped)
	}
	// The same request with a small prompt fits everywhere.
	if d := Select(Request{Category: catalog.Coding, PromptTokens: 2000}, avail, nil, nil); d.Model != "qwen2.5-coder:32b" {
		t.Errorf("small prompt chose %q", d.Model)
	}
}

func TestMinContextFromRouting(t *testing.T) {
	avail := []Available{ollama("qwen2.5-coder:32b", 32768, false), ollama("qwen3-coder:30b", 262144, false)}
	table := Table{catalog.Coding: {MinContext: 65536}}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 100}, avail, table, nil)
	if d.Model != "qwen3-coder:30b" {
		t.Fatalf("chose %q", d.Model)
	}
	if s, _ := skipFor(d, "qwen2.5-coder:32b"); !strings.Contains(s.Reason, "min_context 65536") {
		t.Errorf("reason %q", s.Reason)
	}
}

func TestVRAMCeiling(t *testing.T) {
	avail := []Available{ollama("qwen2.5-coder:32b", 0, false), ollama("qwen2.5-coder:14b", 0, false), ollama("llama3.3:70b", 0, true)}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 500, VRAMCeilingGB: 16}, avail, nil, nil)
	if d.Model != "llama3.3:70b" {
		// 70b is loaded, so it fits by definition; 82+5 > 85.
		t.Fatalf("chose %q, want the loaded llama3.3:70b", d.Model)
	}
	if s, ok := skipFor(d, "qwen2.5-coder:32b"); !ok || !strings.Contains(s.Reason, "16.0 GB ceiling") {
		t.Errorf("32b should be skipped for VRAM: %+v", d.Skipped)
	}
	if len(d.Fallbacks) != 1 || d.Fallbacks[0].Model != "qwen2.5-coder:14b" {
		t.Errorf("fallbacks %+v", d.Fallbacks)
	}
	// A quantization in the tag changes the estimate: 14b at fp16 needs ~33 GB.
	avail = []Available{ollama("qwen2.5-coder:14b-instruct-fp16", 0, false), ollama("qwen2.5-coder:7b", 0, false)}
	if d := Select(Request{Category: catalog.Coding, VRAMCeilingGB: 16}, avail, nil, nil); d.Model != "qwen2.5-coder:7b" {
		t.Errorf("fp16 14b should exceed 16 GB; chose %q", d.Model)
	}
}

func TestLoadedPreferenceWhenClose(t *testing.T) {
	// 32b scores 90 cold, 14b scores 85 loaded: close, so the loaded model avoids a cold load.
	avail := []Available{ollama("qwen2.5-coder:32b", 0, false), ollama("qwen2.5-coder:14b", 0, true)}
	d := Select(Request{Category: catalog.Coding}, avail, nil, nil)
	if d.Model != "qwen2.5-coder:14b" || !strings.Contains(d.Chosen.Why, "loaded") {
		t.Errorf("close scores: chose %q (%s), want loaded 14b", d.Model, d.Chosen.Why)
	}
	// 7b (78) loaded vs 32b (90) cold: not close, quality wins.
	avail = []Available{ollama("qwen2.5-coder:32b", 0, false), ollama("qwen2.5-coder:7b", 0, true)}
	if d := Select(Request{Category: catalog.Coding}, avail, nil, nil); d.Model != "qwen2.5-coder:32b" {
		t.Errorf("far scores: chose %q, want 32b", d.Model)
	}
	// The preference can be disabled.
	avail = []Available{ollama("qwen2.5-coder:32b", 0, false), ollama("qwen2.5-coder:14b", 0, true)}
	if d := Select(Request{Category: catalog.Coding, LoadedMargin: -1}, avail, nil, nil); d.Model != "qwen2.5-coder:32b" {
		t.Errorf("margin disabled: chose %q", d.Model)
	}
}

func TestServicePriority(t *testing.T) {
	a := ollama("qwen2.5-coder:14b", 0, false)
	b := Available{Service: "LM Studio", ServiceKind: "lmstudio", Endpoint: "http://localhost:1234", Priority: 0,
		ModelID: "qwen2.5-coder-14b-instruct", Chat: true}
	d := Select(Request{Category: catalog.Coding}, []Available{a, b}, nil, nil)
	if d.Service != "LM Studio" || len(d.Fallbacks) != 1 || d.Fallbacks[0].Service != "Ollama" {
		t.Errorf("priority 0 should come first: %s then %+v", d.Service, d.Fallbacks)
	}
}

func TestUserRoutingTable(t *testing.T) {
	avail := []Available{
		ollama("qwen2.5-coder:32b", 0, false),
		ollama("codellama:7b", 0, false),
		ollama("qwen2.5-coder:14b", 0, false),
		ollama("llama3.1:8b", 0, false),
		{Service: "vLLM", ServiceKind: "vllm", Endpoint: "http://gpu:8000", Priority: 2, ModelID: "Qwen/Qwen2.5-Coder-14B-Instruct-AWQ", Chat: true},
	}
	table := Table{catalog.Coding: {
		Primary:  []string{"codellama:7b", "starcoder2:15b"},
		Fallback: []string{"qwen2.5-coder-14b-instruct@vllm", "qwen2.5-coder-14b-instruct"},
	}}
	d := Select(Request{Category: catalog.Coding}, avail, table, nil)
	if d.Model != "codellama:7b" || d.Chosen.Level != LevelPrimary || !strings.Contains(d.Chosen.Why, "task_routing primary") {
		t.Fatalf("routing primary ignored: %+v", d.Chosen)
	}
	var got []string
	for _, f := range d.Fallbacks {
		got = append(got, f.Model+"@"+f.Service+"/"+f.Level.String())
	}
	want := []string{
		"Qwen/Qwen2.5-Coder-14B-Instruct-AWQ@vLLM/fallback", // pinned to vllm by the routing
		"qwen2.5-coder:14b@Ollama/fallback",                 // same catalog entry, by catalog id
		"qwen2.5-coder:32b@Ollama/fallback",                 // then the catalog ranking
		"llama3.1:8b@Ollama/fallback",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order\n got %v\nwant %v", got, want)
	}
	if s, ok := skipFor(d, "starcoder2:15b"); !ok || !strings.Contains(s.Reason, "not offered") {
		t.Errorf("missing routed model not explained: %+v", d.Skipped)
	}
	// Routing only for coding: reasoning uses the ranking.
	if d := Select(Request{Category: catalog.Reasoning}, avail, table, nil); d.Model != "qwen2.5-coder:32b" || !strings.Contains(d.Chosen.Why, "catalog ranking") {
		t.Errorf("reasoning: %+v", d.Chosen)
	}
}

func TestRoutedModelThatDoesNotFit(t *testing.T) {
	avail := []Available{ollama("codellama:7b", 16384, false), ollama("llama3.1:8b", 131072, false)}
	table := Table{catalog.Coding: {Primary: []string{"codellama:7b"}}}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 30000}, avail, table, nil)
	if d.Model != "llama3.1:8b" || d.Chosen.Level != LevelPrimary {
		t.Fatalf("chose %+v", d.Chosen)
	}
	if s, ok := skipFor(d, "codellama:7b"); !ok || !strings.Contains(s.Reason, "context window is 16384") {
		t.Errorf("routed primary skip: %+v", d.Skipped)
	}
}

func TestEmbeddingAndNonChatNeverChosen(t *testing.T) {
	avail := []Available{ollama("nomic-embed-text:latest", 8192, true), ollama("bge-m3:567m", 8192, true),
		{Service: "LM Studio", ModelID: "qwen2.5-coder-32b-instruct", Chat: false}, ollama("qwen2.5-coder:0.5b", 0, false)}
	d := Select(Request{Category: catalog.Documentation}, avail, Table{catalog.Documentation: {Primary: []string{"nomic-embed-text:latest"}}}, nil)
	if d.Model != "qwen2.5-coder:0.5b" {
		t.Fatalf("chose %q", d.Model)
	}
	if s, _ := skipFor(d, "nomic-embed-text:latest"); !strings.Contains(s.Reason, "embedding") {
		t.Errorf("embedding skip %q", s.Reason)
	}
	if s, _ := skipFor(d, "qwen2.5-coder-32b-instruct"); !strings.Contains(s.Reason, "no chat capability") {
		t.Errorf("non-chat skip %q", s.Reason)
	}
	if d.Smallest == nil || d.Smallest.Model != "qwen2.5-coder:0.5b" {
		t.Errorf("smallest %+v", d.Smallest)
	}
}

func TestSmallestMayNotFitFullPrompt(t *testing.T) {
	avail := []Available{ollama("qwen2.5-coder:32b", 131072, false), ollama("qwen2.5-coder:1.5b", 4096, false)}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 6000}, avail, nil, nil)
	if d.Smallest == nil || d.Smallest.Model != "qwen2.5-coder:1.5b" || d.Smallest.Level != LevelSmallest {
		t.Fatalf("smallest %+v", d.Smallest)
	}
	if len(d.Fallbacks) != 0 {
		t.Errorf("the 4096 model cannot take the full prompt: %+v", d.Fallbacks)
	}
}

func TestSelectErrors(t *testing.T) {
	avail := []Available{ollama("qwen2.5-coder:7b", 4096, false)}
	cases := []struct {
		req   Request
		table Table
		avail []Available
		want  string
	}{
		{Request{Category: "poetry"}, nil, avail, "use one of coding, reasoning, analysis, documentation"},
		{Request{Category: catalog.Coding, PromptTokens: -1}, nil, avail, "negative"},
		{Request{Category: catalog.Coding}, Table{catalog.Coding: {RequireSerena: true}}, avail, "requires Serena"},
		{Request{Category: catalog.Coding}, nil, nil, "start a local LLM service"},
		{Request{Category: catalog.Coding}, nil, []Available{ollama("nomic-embed-text", 0, true)}, "all 1 discovered models were skipped"},
	}
	for _, tc := range cases {
		d := Select(tc.req, tc.avail, tc.table, nil)
		if d.Err == nil || !strings.Contains(d.Err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.req, d.Err, tc.want)
		}
		if d.Model != "" || d.Candidates() != nil {
			t.Errorf("%+v: a failed decision must not name a model", tc.req)
		}
	}
	d := Select(Request{Category: catalog.Coding}, []Available{ollama("nomic-embed-text", 0, true)}, nil, nil)
	if !errors.Is(d.Err, ErrNoCandidate) || len(d.Skipped) != 1 {
		t.Errorf("%v %+v", d.Err, d.Skipped)
	}
	if d := Select(Request{Category: catalog.Coding, SerenaAvailable: true}, avail, Table{catalog.Coding: {RequireSerena: true}}, nil); d.Err != nil {
		t.Errorf("serena available: %v", d.Err)
	}
}

func BenchmarkSelect(b *testing.B) {
	var avail []Available
	for _, id := range []string{"qwen2.5-coder:32b", "qwen2.5-coder:14b", "llama3.1:8b", "deepseek-r1:14b", "gemma3:27b", "phi4-mini", "nomic-embed-text", "mistral-small3.1:24b", "gpt-oss:20b", "unknown:7b"} {
		avail = append(avail, ollama(id, 0, false))
	}
	for b.Loop() {
		Select(Request{Category: catalog.Coding, PromptTokens: 3000, AnswerTokens: 1000}, avail, nil, nil)
	}
}

func TestPromptTooLargeForEveryModelStartsReduced(t *testing.T) {
	avail := []Available{ollama("qwen2.5-coder:32b", 32768, false), ollama("llama3.2:3b", 8192, false)}
	d := Select(Request{Category: catalog.Coding, PromptTokens: 40000, AnswerTokens: 2000}, avail, nil, nil)
	if d.Err != nil {
		t.Fatal(d.Err)
	}
	if d.Model != "qwen2.5-coder:32b" || d.Chosen.Level != LevelReducedContext || !d.Chosen.Level.Reduced() {
		t.Errorf("want the best model at the reduced level: %+v", d.Chosen)
	}
	if len(d.Skipped) != 2 || d.Smallest == nil || d.Smallest.Model != "llama3.2:3b" {
		t.Errorf("skipped %+v smallest %+v", d.Skipped, d.Smallest)
	}
}
