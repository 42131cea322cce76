package catalog

import (
	"strings"
	"testing"
)

func TestEmbeddedCatalogLoads(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if n := len(c.Entries()); n < 60 {
		t.Fatalf("catalog has %d entries, want the original 40+ plus 2026 models", n)
	}
	for _, id := range []string{"deepseek-v3", "qwen2.5-coder-32b-instruct", "deepseek-coder-v2-236b", "codellama-70b",
		"codellama-34b", "codellama-7b", "qwen2.5-coder-14b-instruct", "starcoder2-15b", "deepseek-coder-6.7b-instruct",
		"deepseek-r1-671b", "deepseek-r1-distill-llama-70b", "deepseek-r1-distill-qwen-32b", "deepseek-r1-distill-qwen-14b",
		"deepseek-r1-distill-8b", "qwen2.5-72b-instruct", "qwen2.5-32b-instruct", "llama-3.3-70b-instruct",
		"mistral-small-24b-instruct-2501", "phi-4", "llama-3.2-11b-vision-instruct", "gemma-2-27b-it", "gemma-2-9b-it",
		"llama-3.2-3b-instruct", "codellama-34b-instruct", "mistral-nemo-12b-instruct", "mistral-7b-instruct",
		"phi-3-medium-instruct", "yi-34b-chat", "command-r-plus-104b", "wizardcoder-33b", "magicoder-7b",
		"dolphin-mixtral-8x7b", "nous-hermes-2-mixtral-8x7b", "solar-10.7b-instruct",
		"qwen2.5-coder-0.5b-instruct", "qwen3-8b", "qwen3-coder-30b-a3b", "gpt-oss-20b", "gemma-3-27b-it",
		"llama-3.1-8b-instruct", "devstral-small-24b", "codestral-22b", "granite-code-8b", "deepseek-coder-v2-lite-16b",
		"phi-4-mini-instruct"} {
		if _, ok := c.Get(id); !ok {
			t.Errorf("catalog lacks %s", id)
		}
	}
}

// TestMatchRealIDs covers ids as Ollama, Hugging Face (vLLM/TGI), LM Studio and llama.cpp report
// them, including the substring traps. want "" means: unknown, estimated.
func TestMatchRealIDs(t *testing.T) {
	cases := []struct {
		id        string
		want      string
		params    float64
		quant     string
		variant   string
		embedding bool
	}{
		// Ollama tags
		{id: "qwen2.5-coder:32b-instruct-q4_K_M", want: "qwen2.5-coder-32b-instruct", params: 32.8, quant: "q4_k_m", variant: "instruct"},
		{id: "qwen2.5-coder:32b", want: "qwen2.5-coder-32b-instruct"},
		{id: "qwen2.5-coder:14b", want: "qwen2.5-coder-14b-instruct"},
		{id: "qwen2.5-coder:latest", want: "qwen2.5-coder-7b-instruct"},
		{id: "qwen2.5-coder", want: "qwen2.5-coder-7b-instruct"},
		{id: "qwen2.5-coder:3b", want: "qwen2.5-coder-3b-instruct"},
		{id: "qwen2.5-coder:1.5b-base-q8_0", want: "qwen2.5-coder-1.5b-instruct", quant: "q8_0", variant: "base"},
		{id: "qwen2.5-coder:0.5b", want: "qwen2.5-coder-0.5b-instruct", params: 0.5},
		{id: "deepseek-r1:14b", want: "deepseek-r1-distill-qwen-14b", variant: "reasoning"},
		{id: "deepseek-r1:32b", want: "deepseek-r1-distill-qwen-32b"},
		{id: "deepseek-r1:70b", want: "deepseek-r1-distill-llama-70b"},
		{id: "deepseek-r1:8b", want: "deepseek-r1-distill-8b"},
		{id: "deepseek-r1:1.5b", want: "deepseek-r1-distill-qwen-1.5b"},
		{id: "deepseek-r1:671b", want: "deepseek-r1-671b"},
		{id: "deepseek-r1:latest", want: "deepseek-r1-distill-8b"},
		{id: "deepseek-r1:14b-qwen-distill-q4_K_M", want: "deepseek-r1-distill-qwen-14b", quant: "q4_k_m"},
		{id: "deepseek-v3:671b", want: "deepseek-v3"},
		{id: "deepseek-coder-v2:16b", want: "deepseek-coder-v2-lite-16b"},
		{id: "deepseek-coder-v2:16b-lite-instruct-q4_K_M", want: "deepseek-coder-v2-lite-16b"},
		{id: "deepseek-coder-v2:236b", want: "deepseek-coder-v2-236b"},
		{id: "deepseek-coder:6.7b", want: "deepseek-coder-6.7b-instruct"},
		{id: "deepseek-coder:33b-instruct-q4_K_M", want: "deepseek-coder-33b-instruct"},
		{id: "codellama:70b", want: "codellama-70b"},
		{id: "codellama:34b", want: "codellama-34b", variant: "code"},
		{id: "codellama:34b-instruct", want: "codellama-34b-instruct"},
		{id: "codellama:7b-instruct-q4_K_M", want: "codellama-7b"},
		{id: "starcoder2:15b", want: "starcoder2-15b"},
		{id: "llama3.3:70b", want: "llama-3.3-70b-instruct"},
		{id: "llama3.2:3b", want: "llama-3.2-3b-instruct"},
		{id: "llama3.2:1b", want: "llama-3.2-1b-instruct", params: 1.2},  // trap: not llama-3.2-3b
		{id: "llama3.2:1b-instruct-q8_0", want: "llama-3.2-1b-instruct"}, // trap
		{id: "llama3.2-vision:11b", want: "llama-3.2-11b-vision-instruct"},
		{id: "llama3.1:8b", want: "llama-3.1-8b-instruct"},
		{id: "llama3.1:70b-instruct-q3_K_M", want: "llama-3.1-70b-instruct", quant: "q3_k_m"},
		{id: "phi4:14b", want: "phi-4"},
		{id: "phi4:latest", want: "phi-4"},
		{id: "phi4-mini:3.8b", want: "phi-4-mini-instruct"}, // trap: not phi-4
		{id: "phi4-mini", want: "phi-4-mini-instruct"},      // trap
		{id: "phi4-reasoning:14b", want: "phi-4-reasoning"},
		{id: "phi3:14b", want: "phi-3-medium-instruct"},
		{id: "phi3:medium", want: "phi-3-medium-instruct"},
		{id: "gemma2:27b", want: "gemma-2-27b-it"},
		{id: "gemma2:9b", want: "gemma-2-9b-it"},
		{id: "gemma2:2b", want: "", params: 2}, // trap: not gemma-2-27b
		{id: "gemma3:27b-it-qat", want: "gemma-3-27b-it", quant: "qat"},
		{id: "gemma3:4b", want: "gemma-3-4b-it"},
		{id: "gemma3:1b", want: "gemma-3-1b-it"},
		{id: "gemma3:270m", want: "gemma-3-270m-it", params: 0.27},
		{id: "mistral-small:24b", want: "mistral-small-24b-instruct-2501"},
		{id: "mistral-small3.1:24b", want: "mistral-small-3.1-24b-instruct"},
		{id: "mistral-nemo:12b", want: "mistral-nemo-12b-instruct"},
		{id: "mistral:7b-instruct-v0.3-q4_K_M", want: "mistral-7b-instruct"},
		{id: "mixtral:8x7b", want: "mixtral-8x7b-instruct", params: 46.7},
		{id: "mixtral:8x22b-instruct", want: "mixtral-8x22b-instruct", params: 141},
		{id: "dolphin-mixtral:8x7b", want: "dolphin-mixtral-8x7b", params: 46.7},
		{id: "nous-hermes2-mixtral:8x7b-dpo-q4_0", want: "nous-hermes-2-mixtral-8x7b", quant: "q4_0"},
		{id: "yi:34b-chat", want: "yi-34b-chat"},
		{id: "command-r-plus:104b", want: "command-r-plus-104b"},
		{id: "command-r:35b", want: "command-r-35b"},
		{id: "wizardcoder:33b-v1.1-q4_0", want: "wizardcoder-33b"},
		{id: "magicoder:7b", want: "magicoder-7b"},
		{id: "solar:10.7b-instruct-v1-q4_K_M", want: "solar-10.7b-instruct"},
		{id: "qwen2.5:72b-instruct", want: "qwen2.5-72b-instruct"},
		{id: "qwen2.5:32b", want: "qwen2.5-32b-instruct"},
		{id: "qwen3:8b", want: "qwen3-8b"},
		{id: "qwen3:30b-a3b", want: "qwen3-30b-a3b", params: 30.5},
		{id: "qwen3:0.6b", want: "qwen3-0.6b"},
		{id: "qwen3-coder:30b", want: "qwen3-coder-30b-a3b"},
		{id: "qwq:32b", want: "qwq-32b"},
		{id: "gpt-oss:20b", want: "gpt-oss-20b"},
		{id: "gpt-oss:120b", want: "gpt-oss-120b"},
		{id: "devstral:24b", want: "devstral-small-24b"},
		{id: "codestral:22b", want: "codestral-22b"},
		{id: "granite-code:8b", want: "granite-code-8b"},
		{id: "granite-code:34b", want: "granite-code-34b"},
		{id: "granite3.3:8b", want: "granite-3.3-8b-instruct"},
		{id: "codegemma:7b", want: "codegemma-7b-it"},
		{id: "hf.co/bartowski/Qwen2.5-Coder-14B-Instruct-GGUF:Q4_K_M", want: "qwen2.5-coder-14b-instruct", quant: "q4_k_m"},
		{id: "hf.co/unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF:UD-Q4_K_XL", want: "qwen3-coder-30b-a3b", quant: "q4_k_xl"},
		{id: "hf.co/unsloth/gemma-3-12b-it-GGUF:Q8_0", want: "gemma-3-12b-it", quant: "q8_0"},
		// Hugging Face ids (vLLM, TGI, SGLang)
		{id: "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", want: "qwen2.5-coder-32b-instruct", quant: "awq"},
		{id: "Qwen/Qwen2.5-Coder-7B-Instruct", want: "qwen2.5-coder-7b-instruct"},
		{id: "Qwen/Qwen3-30B-A3B-Instruct-2507", want: "qwen3-30b-a3b", params: 30.5},
		{id: "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", want: "qwen3-coder-480b-a35b", quant: "fp8"},
		{id: "Qwen/QwQ-32B-AWQ", want: "qwq-32b"},
		{id: "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", want: "deepseek-r1-distill-qwen-32b"},
		{id: "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", want: "deepseek-r1-distill-llama-70b"},
		{id: "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B", want: "deepseek-r1-distill-8b"},
		{id: "deepseek-ai/DeepSeek-R1", want: "deepseek-r1-671b"},
		{id: "deepseek-ai/DeepSeek-V3-0324", want: "deepseek-v3"},
		{id: "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct", want: "deepseek-coder-v2-lite-16b", params: 15.7},
		{id: "deepseek-ai/deepseek-coder-6.7b-instruct", want: "deepseek-coder-6.7b-instruct"},
		{id: "meta-llama/Llama-3.3-70B-Instruct", want: "llama-3.3-70b-instruct"},
		{id: "meta-llama/Meta-Llama-3.1-8B-Instruct", want: "llama-3.1-8b-instruct"},
		{id: "meta-llama/Llama-3.2-1B-Instruct", want: "llama-3.2-1b-instruct"},
		{id: "meta-llama/Llama-3.2-11B-Vision-Instruct", want: "llama-3.2-11b-vision-instruct"},
		{id: "codellama/CodeLlama-34b-Instruct-hf", want: "codellama-34b-instruct"},
		{id: "mistralai/Mistral-Small-24B-Instruct-2501", want: "mistral-small-24b-instruct-2501"},
		{id: "mistralai/Mistral-Small-3.1-24B-Instruct-2503", want: "mistral-small-3.1-24b-instruct"},
		{id: "mistralai/Mistral-Nemo-Instruct-2407", want: "mistral-nemo-12b-instruct"},
		{id: "mistralai/Mistral-7B-Instruct-v0.3", want: "mistral-7b-instruct"},
		{id: "mistralai/Mixtral-8x7B-Instruct-v0.1", want: "mixtral-8x7b-instruct"},
		{id: "mistralai/Devstral-Small-2505", want: "devstral-small-24b"},
		{id: "mistralai/Codestral-22B-v0.1", want: "codestral-22b"},
		{id: "microsoft/phi-4", want: "phi-4"},
		{id: "microsoft/Phi-4-mini-instruct", want: "phi-4-mini-instruct"}, // trap
		{id: "microsoft/Phi-3-medium-128k-instruct", want: "phi-3-medium-instruct"},
		{id: "google/gemma-2-27b-it", want: "gemma-2-27b-it"},
		{id: "google/gemma-2-2b-it", want: ""}, // trap
		{id: "google/gemma-3-27b-it", want: "gemma-3-27b-it"},
		{id: "openai/gpt-oss-120b", want: "gpt-oss-120b"},
		{id: "bigcode/starcoder2-15b", want: "starcoder2-15b"},
		{id: "01-ai/Yi-34B-Chat", want: "yi-34b-chat"},
		{id: "CohereForAI/c4ai-command-r-plus-08-2024", want: "command-r-plus-104b"},
		{id: "WizardLM/WizardCoder-33B-V1.1", want: "wizardcoder-33b"},
		{id: "ise-uiuc/Magicoder-S-DS-6.7B", want: "magicoder-7b"},
		{id: "cognitivecomputations/dolphin-2.7-mixtral-8x7b", want: "dolphin-mixtral-8x7b"},
		{id: "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", want: "nous-hermes-2-mixtral-8x7b"},
		{id: "upstage/SOLAR-10.7B-Instruct-v1.0", want: "solar-10.7b-instruct"},
		{id: "ibm-granite/granite-8b-code-instruct-128k", want: "granite-code-8b"},
		{id: "ibm-granite/granite-3.3-8b-instruct", want: "granite-3.3-8b-instruct"},
		// LM Studio keys
		{id: "qwen2.5-coder-32b-instruct", want: "qwen2.5-coder-32b-instruct"},
		{id: "qwen/qwen3-coder-30b", want: "qwen3-coder-30b-a3b"},
		{id: "lmstudio-community/Qwen2.5-Coder-7B-Instruct-GGUF", want: "qwen2.5-coder-7b-instruct"},
		{id: "deepseek-r1-distill-qwen-7b", want: "deepseek-r1-distill-qwen-7b"},
		{id: "qwen2.5-7b-instruct@q4_k_m", want: "qwen2.5-7b-instruct", quant: "q4_k_m"},
		{id: "text-embedding-nomic-embed-text-v1.5", want: "nomic-embed-text", embedding: true},
		// llama.cpp GGUF file names and paths
		{id: "qwen2.5-coder-7b-instruct-q4_k_m.gguf", want: "qwen2.5-coder-7b-instruct", quant: "q4_k_m"},
		{id: "/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", want: "llama-3.1-8b-instruct"},
		{id: "deepseek-coder-6.7b-instruct.Q5_K_M.gguf", want: "deepseek-coder-6.7b-instruct", quant: "q5_k_m"},
		{id: "Qwen2.5-Coder-32B-Instruct-Q4_K_M-00001-of-00003.gguf", want: "qwen2.5-coder-32b-instruct"},
		{id: "gemma-2-9b-it-Q6_K.gguf", want: "gemma-2-9b-it", quant: "q6_k"},
		{id: "Phi-4-mini-instruct-Q8_0.gguf", want: "phi-4-mini-instruct"},
		{id: "koboldcpp/mistral-7b-instruct-v0.2.Q4_K_M", want: "mistral-7b-instruct"},
		// Embedding models: never chat.
		{id: "nomic-embed-text:latest", want: "nomic-embed-text", embedding: true},
		{id: "mxbai-embed-large:335m", want: "mxbai-embed-large", embedding: true},
		{id: "bge-m3:567m", want: "bge-m3", embedding: true},
		{id: "all-minilm:l6-v2", want: "all-minilm", embedding: true},
		{id: "BAAI/bge-large-en-v1.5", want: "", embedding: true},
		{id: "snowflake-arctic-embed2:568m", want: "", embedding: true},
		{id: "Qwen/Qwen3-Embedding-8B", want: "qwen3-embedding-8b", embedding: true},
		// Unknown: estimated, never borrowed from a different size.
		{id: "llama3.1-nemotron:70b", want: ""},
		{id: "phi4-mini-reasoning:3.8b", want: ""},
		{id: "qwen2.5-coder:72b", want: ""},
		{id: "some-random-model", want: ""},
		{id: "llava:7b", want: ""},
	}
	c := Default()
	for _, tc := range cases {
		m := c.Match(tc.id)
		if got := m.CatalogID; got != tc.want {
			t.Errorf("Match(%q) = %q (family %q, %gB), want %q", tc.id, got, m.Family, m.ParamsB, tc.want)
			continue
		}
		if tc.want == "" && !m.Estimated {
			t.Errorf("Match(%q): unknown model not marked Estimated", tc.id)
		}
		if tc.want != "" && m.Estimated {
			t.Errorf("Match(%q): catalog match marked Estimated", tc.id)
		}
		if tc.params != 0 && (m.ParamsB < tc.params-0.05 || m.ParamsB > tc.params+0.05) {
			t.Errorf("Match(%q).ParamsB = %g, want %g", tc.id, m.ParamsB, tc.params)
		}
		if tc.quant != "" && m.Quantization != tc.quant {
			t.Errorf("Match(%q).Quantization = %q, want %q", tc.id, m.Quantization, tc.quant)
		}
		if tc.variant != "" && m.Variant != tc.variant {
			t.Errorf("Match(%q).Variant = %q, want %q", tc.id, m.Variant, tc.variant)
		}
		if m.Embedding != tc.embedding {
			t.Errorf("Match(%q).Embedding = %v, want %v", tc.id, m.Embedding, tc.embedding)
		}
		if !m.Embedding && (m.ContextLength <= 0 || m.Scores.Coding <= 0 || m.VRAMGB <= 0 || m.Tier == "") {
			t.Errorf("Match(%q): incomplete capabilities %+v", tc.id, m)
		}
	}
	if len(cases) < 60 {
		t.Fatalf("only %d ids", len(cases))
	}
}

func TestEstimatesFollowFamilyAndSize(t *testing.T) {
	c := Default()
	small := c.Match("gemma2:2b")
	big, _ := c.Get("gemma-2-27b-it")
	nine, _ := c.Get("gemma-2-9b-it")
	if !small.Estimated || small.ParamsB != 2 {
		t.Fatalf("gemma2:2b: %+v", small)
	}
	if small.Scores.Coding >= nine.Scores.Coding || small.Scores.Coding >= big.Scores.Coding {
		t.Errorf("gemma2:2b estimated coding %d should be below 9b (%d) and 27b (%d)", small.Scores.Coding, nine.Scores.Coding, big.Scores.Coding)
	}
	if small.ContextLength != nine.ContextLength {
		t.Errorf("gemma2:2b context %d, want the family's %d", small.ContextLength, nine.ContextLength)
	}
	if !strings.Contains(small.Basis, "gemma2") {
		t.Errorf("basis %q does not name the family", small.Basis)
	}
	pr := c.Match("phi4-mini-reasoning:3.8b")
	if !strings.Contains(pr.Basis, "phi-4-mini-instruct") {
		t.Errorf("phi4-mini-reasoning estimated from %q, want phi4-mini (never phi-4)", pr.Basis)
	}
	nem := c.Match("llama3.1-nemotron:70b")
	if !strings.Contains(nem.Basis, "llama-3.1-70b") || nem.Tier != TierLarge {
		t.Errorf("nemotron estimate: %+v", nem)
	}
	coderUnknown := c.Match("acme-coder:7b")
	plainUnknown := c.Match("acme-chat:7b")
	if coderUnknown.Scores.Coding <= plainUnknown.Scores.Coding {
		t.Errorf("a coder model should get a coding bonus: %d vs %d", coderUnknown.Scores.Coding, plainUnknown.Scores.Coding)
	}
	moe := c.Match("acme-moe:8x7b")
	if moe.ParamsB < 46 || moe.ParamsB > 47 {
		t.Errorf("unknown 8x7b MoE params = %g, want ~46.5 (total with shared weights)", moe.ParamsB)
	}
}

func TestQuantizationChangesVRAM(t *testing.T) {
	c := Default()
	q4 := c.Match("qwen2.5-coder:32b-instruct-q4_K_M")
	q8 := c.Match("qwen2.5-coder:32b-instruct-q8_0")
	f16 := c.Match("qwen2.5-coder:32b-instruct-fp16")
	if !(q4.VRAMGB < q8.VRAMGB && q8.VRAMGB < f16.VRAMGB) {
		t.Fatalf("VRAM should grow with bits: q4 %g q8 %g f16 %g", q4.VRAMGB, q8.VRAMGB, f16.VRAMGB)
	}
	if f16.VRAMGB < 64 || f16.VRAMGB > 80 {
		t.Errorf("32.8B at f16 = %g GB, want ~72", f16.VRAMGB)
	}
}

func TestBaseWeightsScoreLower(t *testing.T) {
	base := Match("qwen2.5-coder:32b-base-q8_0")
	inst := Match("qwen2.5-coder:32b-instruct-q8_0")
	if base.CatalogID != inst.CatalogID || base.Scores.Coding >= inst.Scores.Coding || base.Variant != "base" {
		t.Errorf("base %+v vs instruct %+v", base, inst)
	}
}

func TestContextHintFromID(t *testing.T) {
	m := Match("microsoft/Phi-3-medium-128k-instruct")
	if m.ContextLength != 131072 {
		t.Errorf("128k variant context = %d, want 131072", m.ContextLength)
	}
	if m4 := Match("microsoft/Phi-3-medium-4k-instruct"); m4.ContextLength != 4096 {
		t.Errorf("4k variant context = %d", m4.ContextLength)
	}
}

func TestOverrides(t *testing.T) {
	c, err := Load([]Entry{
		{ID: "qwen2.5-coder-32b-instruct", ContextLength: 131072},
		{ID: "acme-coder-13b", Family: "acme-coder", ParamsB: 13, ContextLength: 65536, Scores: Scores{88, 60, 70, 60}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := c.Get("qwen2.5-coder-32b-instruct")
	if e.ContextLength != 131072 || e.Scores.Coding != 90 {
		t.Errorf("override should change only context: %+v", e)
	}
	m := c.Match("acme-coder:13b-q4_K_M")
	if m.CatalogID != "acme-coder-13b" || m.Estimated || m.Tier != TierMedium || m.VRAMGB <= 0 {
		t.Errorf("user entry not matched: %+v", m)
	}
}

func TestOverrideErrors(t *testing.T) {
	bad := []struct {
		e    Entry
		want string
	}{
		{Entry{Family: "x", ParamsB: 1}, "missing id"},
		{Entry{ID: "new-model", ParamsB: 7, Scores: Scores{1, 1, 1, 1}}, "missing family"},
		{Entry{ID: "new-model", Family: "new", Scores: Scores{1, 1, 1, 1}}, "params_b"},
		{Entry{ID: "new-model", Family: "new", ParamsB: 7}, "needs scores"},
		{Entry{ID: "new-model", Family: "new", ParamsB: 7, Scores: Scores{101, 1, 1, 1}}, "between 0 and 100"},
		{Entry{ID: "new-model", Family: "new", ParamsB: 7, Tier: "huge", Scores: Scores{1, 1, 1, 1}}, "tier"},
		{Entry{ID: "qwen-dup", Family: "qwen2.5-coder", ParamsB: 7.6, Variant: "instruct", Scores: Scores{1, 1, 1, 1}}, "same family key"},
	}
	for _, b := range bad {
		_, err := Load([]Entry{b.e})
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Load(%+v) error = %v, want it to mention %q", b.e, err, b.want)
		}
	}
	if _, err := Parse([]byte("[[model]]\nid = \"x\"\ncontext_length = 5\n")); err == nil || !strings.Contains(err.Error(), "context_length") {
		t.Errorf("unknown key not reported: %v", err)
	}
}

func BenchmarkMatch(b *testing.B) {
	c := Default()
	ids := []string{"qwen2.5-coder:32b-instruct-q4_K_M", "hf.co/bartowski/Qwen2.5-Coder-14B-Instruct-GGUF:Q4_K_M", "meta-llama/Llama-3.3-70B-Instruct", "unknown-model:7b"}
	for i := 0; b.Loop(); i++ {
		c.Match(ids[i%len(ids)])
	}
}
