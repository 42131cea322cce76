// Package completion holds what inline completion needs beside the model
// call: the fill-in-the-middle prompt of each model family, the context
// window around the cursor, the post-processing that turns a model's
// middle into ghost text, a cache that serves a suggestion again while the
// user types through it, and the per-document coalescing that cancels a
// superseded request. router.Pipeline.Complete ties them together.
package completion

import (
	"strings"

	"github.com/lsp-router/lsp-router/router/catalog"
)

// Template is one family's fill-in-the-middle prompt for servers without a
// native FIM API.
type Template struct {
	Format string
	// Prefix, Suffix and Middle are the special tokens; SuffixFirst puts
	// the suffix before the prefix (Codestral).
	Prefix, Suffix, Middle string
	SuffixFirst            bool
	// Stop lists the tokens that end a middle (end of text, file separator,
	// the FIM tokens themselves when a model repeats them).
	Stop []string
}

// templates, each verified against the model's tokenizer config and the
// template Ollama ships:
//
//   - qwen: Qwen2.5-Coder's tokenizer_config.json added tokens
//     <|fim_prefix|> <|fim_suffix|> <|fim_middle|> <|fim_pad|> <|endoftext|>
//     <|file_sep|>; Ollama's qwen2.5-coder template
//     "<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>";
//     llama.cpp src/llama-vocab.cpp lists <|fim_prefix|> as Qwen's FIM_PRE.
//   - codellama: "<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>" (ollama/ollama
//     docs/template.md, "Fill-in-middle"), end token <EOT>; llama-vocab.cpp
//     lists "▁<PRE>" as CodeLlama's FIM_PRE.
//   - starcoder: StarCoder2's tokenizer <fim_prefix> <fim_suffix> <fim_middle>
//     <file_sep> <|endoftext|> (bigcode/starcoder2 tokenizer_config.json;
//     Ollama's starcoder2 template uses the same three).
//   - deepseek: <｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>
//     (deepseek-ai/DeepSeek-Coder README "Code Insertion"; Ollama's
//     deepseek-coder-v2 template; llama-vocab.cpp FIM_PRE/SUF/MID "DeepSeek").
//     The tokens use U+FF5C (｜) and U+2581 (▁), not ASCII.
//   - codestral: "[SUFFIX]{{ .Suffix }}[PREFIX] {{ .Prompt }}" (ollama/ollama
//     docs/template.md; mistral-common's FIM request encoding puts the
//     suffix first), end token </s>.
//   - codegemma: <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>,
//     ending with <|file_separator|> (google/codegemma model card, "Prompt
//     format"; Ollama's codegemma template).
var templates = map[string]Template{
	catalog.FIMQwen: {Format: catalog.FIMQwen, Prefix: "<|fim_prefix|>", Suffix: "<|fim_suffix|>", Middle: "<|fim_middle|>",
		Stop: []string{"<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|im_start|>", "<|im_end|>"}},
	catalog.FIMCodeLlama: {Format: catalog.FIMCodeLlama, Prefix: "<PRE> ", Suffix: " <SUF>", Middle: " <MID>",
		Stop: []string{"<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"}},
	catalog.FIMStarCoder: {Format: catalog.FIMStarCoder, Prefix: "<fim_prefix>", Suffix: "<fim_suffix>", Middle: "<fim_middle>",
		Stop: []string{"<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"}},
	catalog.FIMDeepSeek: {Format: catalog.FIMDeepSeek, Prefix: "<｜fim▁begin｜>", Suffix: "<｜fim▁hole｜>", Middle: "<｜fim▁end｜>",
		Stop: []string{"<｜end▁of▁sentence｜>", "<|EOT|>", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"}},
	catalog.FIMCodestral: {Format: catalog.FIMCodestral, Suffix: "[SUFFIX]", Prefix: "[PREFIX] ", SuffixFirst: true,
		Stop: []string{"</s>", "[PREFIX]", "[SUFFIX]", "[MIDDLE]"}},
	catalog.FIMCodeGemma: {Format: catalog.FIMCodeGemma, Prefix: "<|fim_prefix|>", Suffix: "<|fim_suffix|>", Middle: "<|fim_middle|>",
		Stop: []string{"<|file_separator|>", "<eos>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"}},
}

// TemplateFor returns the template of a catalog FIM format.
func TemplateFor(format string) (Template, bool) {
	t, ok := templates[format]
	return t, ok
}

// Prompt writes prefix and suffix in the template.
func (t Template) Prompt(prefix, suffix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(suffix) + 64)
	if t.SuffixFirst {
		b.WriteString(t.Suffix)
		b.WriteString(suffix)
		b.WriteString(t.Prefix)
		b.WriteString(prefix)
		b.WriteString(t.Middle)
		return b.String()
	}
	b.WriteString(t.Prefix)
	b.WriteString(prefix)
	b.WriteString(t.Suffix)
	b.WriteString(suffix)
	b.WriteString(t.Middle)
	return b.String()
}

// AllStops is every template's stop tokens, for cutting a middle whose
// server (Ollama, llama.cpp) applied a template the caller did not see.
func AllStops() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range catalog.FIMFormats {
		for _, s := range templates[f].Stop {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
