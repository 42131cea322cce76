package llm

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Model ids carry most of what servers without rich metadata tell about a
// model: "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ", "qwen2.5-coder:7b-instruct-q4_K_M",
// "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "mixtral-8x7b".
var (
	reMoE    = regexp.MustCompile(`(?i)(?:^|[^a-z0-9.])(\d+)x(\d+(?:\.\d+)?)b(?:[^a-z0-9]|$)`)
	reParams = regexp.MustCompile(`(?i)(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)([bm])(?:[^a-z0-9]|$)`)
	reQuant  = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])(i?q\d(?:_[a-z0-9]+)*|bf16|fp16|f16|f32|fp8|awq|gptq|int4|int8|\dbit)(?:[^a-z0-9]|$)`)
	reFamily = regexp.MustCompile(`(?i)(codellama|codestral|codegemma|starcoder\d?|deepseek(?:-coder|-r1|-v\d)?|qwen\d*(?:\.\d+)?|llama-?\d*(?:\.\d+)?|mistral|mixtral|gemma\d*|phi-?\d*(?:\.\d+)?|granite\d*(?:\.\d+)?|command-r|gpt-oss|yi|falcon\d*|smollm\d*|olmo\d*|nomic-bert|bert)`)
	reEmbed  = regexp.MustCompile(`(?i)(embed|bge-|^bge|e5-|minilm|rerank|nomic-bert)`)
)

// ModelFacts are what can be read from a model id.
type ModelFacts struct {
	Family        string
	ParameterSize string
	ParamsB       float64
	Quantization  string
	Embedding     bool
}

// ParseModelID reads family, size, quantization and embedding-ness from a
// model id. Unknown parts stay empty.
func ParseModelID(id string) ModelFacts {
	var f ModelFacts
	name := id
	// Repo-style ids ("org/model" or a file path): the last element is the model.
	if strings.Contains(name, "/") {
		name = path.Base(name)
	}
	name = strings.TrimSuffix(name, ".gguf")
	f.Family = familyOf(name)
	if f.Family == "" && name != id {
		f.Family = familyOf(id)
	}
	if m := reMoE.FindStringSubmatch(name); m != nil {
		n, _ := strconv.ParseFloat(m[1], 64)
		per, _ := strconv.ParseFloat(m[2], 64)
		f.ParamsB = n * per
		f.ParameterSize = m[1] + "x" + strings.ToUpper(m[2]) + "B"
	} else if m := reParams.FindStringSubmatch(name); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		if strings.EqualFold(m[2], "m") {
			f.ParamsB = v / 1000
			f.ParameterSize = m[1] + "M"
		} else {
			f.ParamsB = v
			f.ParameterSize = m[1] + "B"
		}
	}
	if m := reQuant.FindStringSubmatch(name); m != nil {
		f.Quantization = strings.ToUpper(m[1])
	}
	f.Embedding = reEmbed.MatchString(id)
	return f
}

func familyOf(name string) string {
	m := reFamily.FindString(name)
	return strings.ToLower(strings.ReplaceAll(m, "-", ""))
}

// FamilyFromID is ParseModelID(id).Family.
func FamilyFromID(id string) string { return ParseModelID(id).Family }

// ParseParameterSize reads Ollama-style sizes ("7.6B", "137M", "8x7B") into
// billions.
func ParseParameterSize(s string) float64 {
	s = strings.TrimSpace(strings.ToUpper(s))
	if s == "" {
		return 0
	}
	if a, b, ok := strings.Cut(s, "X"); ok {
		n, err1 := strconv.ParseFloat(a, 64)
		per := ParseParameterSize(b)
		if err1 == nil {
			return n * per
		}
		return 0
	}
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "B"):
		s = strings.TrimSuffix(s, "B")
	case strings.HasSuffix(s, "M"):
		s, mult = strings.TrimSuffix(s, "M"), 0.001
	case strings.HasSuffix(s, "T"):
		s, mult = strings.TrimSuffix(s, "T"), 1000
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v * mult
}

// FormatParams renders a parameter count as "7.6B" / "137M".
func FormatParams(n float64) string {
	if n <= 0 {
		return ""
	}
	b := n / 1e9
	if b < 1 {
		return strconv.FormatFloat(n/1e6, 'f', 0, 64) + "M"
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + "B"
}
