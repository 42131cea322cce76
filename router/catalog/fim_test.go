package catalog

import "testing"

func TestMatchFIM(t *testing.T) {
	c := Default()
	cases := map[string]string{
		"qwen2.5-coder:1.5b":                     FIMQwen,
		"qwen2.5-coder-7b-instruct-q4_k_m.gguf":  FIMQwen,
		"Qwen/Qwen2.5-Coder-7B-Instruct":         FIMQwen,
		"deepseek-coder:6.7b-base":               FIMDeepSeek,
		"deepseek-coder-v2:16b":                  FIMDeepSeek,
		"starcoder2:3b":                          FIMStarCoder,
		"codestral:22b":                          FIMCodestral,
		"codellama:7b-code":                      FIMCodeLlama,
		"codellama:7b":                           "", // Ollama's codellama:7b is the instruct model
		"codellama:34b-code":                     "", // no FIM in 34B
		"codegemma:7b-code":                      FIMCodeGemma,
		"codegemma:7b":                           "", // the instruct model
		"llama3.2:3b":                            "", // chat only
		"qwen2.5:7b":                             "", // the general model, not the coder
		"nomic-embed-text":                       "",
		"qwen2.5-coder:0.5b-instruct-q8_0":       FIMQwen,
		"qwen2.5-coder:2b-something-unknown":     FIMQwen, // estimated from the family
		"bartowski/starcoder2-15b-instruct-GGUF": FIMStarCoder,
	}
	for id, want := range cases {
		if got := c.Match(id).FIM; got != want {
			t.Errorf("Match(%q).FIM = %q, want %q", id, got, want)
		}
	}
}

func TestUnknownFIMFormatRefused(t *testing.T) {
	_, err := Load([]Entry{{ID: "my-coder-7b", Family: "my-coder", ParamsB: 7, FIM: "mystery",
		Scores: Scores{Coding: 50, Reasoning: 40, Analysis: 40, Documentation: 40}}})
	if err == nil {
		t.Fatal("an unknown fim format was accepted")
	}
}
