package catalog

import (
	"math"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// MatchResult is what the catalog knows, or estimates, about a model id reported by a server.
type MatchResult struct {
	// ID is the id as given.
	ID string `json:"id"`
	// Entry is the catalog entry, nil when the model is unknown (then the capability fields
	// below are estimates and Estimated is true).
	Entry *Entry `json:"-"`
	// CatalogID is Entry's id, "" when the model is unknown.
	CatalogID string `json:"catalog_id"`
	// Family is the normalised family key parsed from the id ("qwen2.5-coder", "phi4-mini").
	Family string `json:"family"`
	// ParamsB is the total parameter count in billions: parsed from the id, else the entry's.
	// MoE tags "NxMb" are total parameters: the entry's value when matched (Mixtral 8x7b =
	// 46.7), else N*M*0.83 because experts share attention and embedding weights.
	ParamsB float64 `json:"params_b"`
	// ActiveB is the active parameter count for MoE models ("a3b" tags or the entry), else 0.
	ActiveB float64 `json:"active_b,omitempty"`
	// Variant is instruct, chat, base, code, reasoning, vision, embedding... or "".
	Variant string `json:"variant,omitempty"`
	// Quantization is the normalised quantization ("q4_k_m", "q8_0", "awq", "fp16"), or "".
	Quantization string `json:"quantization,omitempty"`
	// ContextHint is a context size written in the id ("128k" in Phi-3-medium-128k), or 0.
	ContextHint int `json:"context_hint,omitempty"`
	// Embedding is true for embedding-only models: never use them for chat.
	Embedding bool `json:"embedding"`
	// FIM is the fill-in-the-middle format (Entry.FIM), "" when the model
	// cannot fill in the middle.
	FIM string `json:"fim,omitempty"`
	// Estimated is true when the capabilities below are guessed from family and size.
	Estimated bool `json:"estimated"`
	// Basis says what an estimate was derived from ("family qwen2.5-coder 7.6B", "size only").
	Basis string `json:"basis,omitempty"`

	// Effective capabilities (from the entry, or estimated).
	ContextLength int     `json:"context_length"`
	VRAMGB        float64 `json:"vram_gb"`
	Tier          string  `json:"tier"`
	Scores        Scores  `json:"scores"`
}

// parsedID is the structural reading of a model id.
type parsedID struct {
	family    string // normalised family key
	tokens    []string
	params    float64
	experts   int
	expertB   float64
	active    float64
	variant   string
	quant     string
	ctxHint   int
	embedding bool
	ollama    bool // looked like an Ollama tag without a size: the family default applies
}

var (
	// Quantization names as they appear in Ollama tags, GGUF file names, HF repo suffixes and
	// LM Studio keys. Matched on token boundaries only, before tokenising (they contain '_').
	quantRe  = regexp.MustCompile(`(?i)(?:^|[-_.:@/ ])((?:ud-)?i?q[1-8](?:_[0-9a-z]{1,2})*|f16|f32|bf16|fp16|fp32|fp8|fp4|mxfp4|nvfp4|int4|int8|w4a16|w8a8|awq|gptq|exl2|bnb-4bit|4bit|8bit|qat)(?:$|[-_.:@/ ])`)
	sizeRe   = regexp.MustCompile(`^(\d+(?:\.\d+)?)([bm])$`)
	moeRe    = regexp.MustCompile(`^(\d+)x(\d+(?:\.\d+)?)b$`)
	activeRe = regexp.MustCompile(`^a(\d+(?:\.\d+)?)b$`)
	ctxRe    = regexp.MustCompile(`^(\d+)k$`)
	numRe    = regexp.MustCompile(`^\d+(?:\.\d+)*$`)
	vIntRe   = regexp.MustCompile(`^v\d+$`)
	vDotRe   = regexp.MustCompile(`^v\d+(?:\.\d+)+$`)
	splitRe  = regexp.MustCompile(`-\d{5}-of-\d{5}$`)
)

// variantWords are tokens that describe a fine-tune, not the family.
var variantWords = map[string]string{
	"instruct": "instruct", "inst": "instruct", "it": "instruct", "chat": "chat", "base": "base",
	"dpo": "instruct", "sft": "instruct", "rlhf": "instruct", "thinking": "reasoning",
	"uncensored": "uncensored", "abliterated": "uncensored", "preview": "", "hf": "", "gguf": "",
	"mlx": "", "latest": "", "ud": "", "hq": "", "imatrix": "",
}

// vendorPrefixes are leading tokens that name the publisher, not the model.
var vendorPrefixes = map[string]bool{"meta": true, "c4ai": true, "text-embedding": true, "lmstudio": true}

// embeddingTokens mark embedding and reranker models anywhere in the family key.
var embeddingTokens = []string{"embed", "embedding", "embeddings", "bge", "e5", "gte", "minilm", "rerank", "reranker", "embeddinggemma"}

// parseID reads a model id as any service spells it: the name and tag,
// the quantization, then each token as a size, a revision, a variant or a
// family word.
func parseID(raw string) parsedID {
	var p parsedID
	name, tag, hasSlash := splitName(raw)
	// LM Studio prefixes embedding model keys: text-embedding-nomic-embed-text-v1.5.
	if rest, ok := strings.CutPrefix(name, "text-embedding-"); ok {
		name = rest
		p.embedding = true
	}
	if tag == "latest" {
		tag = ""
	}
	full := name
	if tag != "" {
		full = name + ":" + tag
	}
	full = p.takeQuant(full)
	toks, tagStart := tokens(full, tag)
	st := familyReader{p: &p, tagStart: tagStart}
	for i, t := range toks {
		st.read(i, t)
	}
	p.tokens = st.fam
	p.family = strings.Join(st.fam, "-")
	if hasEmbeddingToken(st.fam) {
		p.embedding = true
	}
	if p.embedding {
		p.variant = "embedding"
	}
	// Without a size, a bare name or Ollama tag means the family's default size, while a
	// Hugging Face repo without a size (deepseek-ai/DeepSeek-R1) is the full model.
	p.ollama = !hasSlash
	return p
}

// splitName lowercases raw, drops URL schemes, registry prefixes, paths,
// file extensions and split-file suffixes, and separates the Ollama tag
// (name:tag) or LM Studio quant (key@quant). hasSlash tells whether raw
// named a repository or path.
func splitName(raw string) (name, tag string, hasSlash bool) {
	s := strings.ToLower(strings.TrimSpace(raw))
	for _, pre := range []string{"https://", "http://"} {
		s = strings.TrimPrefix(s, pre)
	}
	for _, pre := range []string{"hf.co/", "huggingface.co/", "registry.ollama.ai/library/", "registry.ollama.ai/", "koboldcpp/"} {
		s = strings.TrimPrefix(s, pre)
	}
	// Ollama tag: name:tag (the colon after the last slash). LM Studio: key@quant.
	name = s
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		name, tag = s[:i], s[i+1:]
	}
	if i := strings.LastIndex(name, "@"); i >= 0 {
		name, tag = name[:i], strings.Trim(tag+"-"+name[i+1:], "-")
	}
	hasSlash = strings.Contains(name, "/")
	// Paths and Hugging Face ids: keep the last segment (the repo or file name).
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	for _, ext := range []string{".gguf", ".bin", ".safetensors", ".llamafile"} {
		name = strings.TrimSuffix(name, ext)
	}
	return splitRe.ReplaceAllString(name, ""), tag, hasSlash
}

// takeQuant records the quantization and blanks it out of full. It runs
// before tokenising: its '_' would otherwise split it into tokens.
func (p *parsedID) takeQuant(full string) string {
	for {
		loc := quantRe.FindStringSubmatchIndex(full)
		if loc == nil {
			return full
		}
		q := full[loc[2]:loc[3]]
		q = strings.TrimPrefix(q, "ud-")
		if p.quant == "" || p.quant == "qat" {
			p.quant = normQuant(q)
		}
		full = full[:loc[2]] + " " + full[loc[3]:]
	}
}

// tokens splits full into its non-empty tokens; tagStart is the index of
// the first token of the tag (-1 without a tag). Tokens of the tag part are
// marked: there "code" and "python" name a variant (codellama:34b-code),
// while in a name "code" belongs to the family (granite-code).
func tokens(full, tag string) (toks []string, tagStart int) {
	toks = nonEmpty(splitTokens(full))
	tagStart = -1
	if tag != "" {
		if i := strings.LastIndex(full, ":"); i >= 0 {
			tagStart = len(nonEmpty(splitTokens(full[:i])))
		}
	}
	return toks, tagStart
}

// familyReader sorts the tokens of an id into the family words and the
// parsed fields.
type familyReader struct {
	p             *parsedID
	fam           []string
	tagStart      int
	lastWasFamily bool
}

// read takes token t at index i.
func (r *familyReader) read(i int, t string) {
	switch {
	case i == 0 && vendorPrefixes[t]:
		r.lastWasFamily = false
	case r.p.takeSize(t):
		r.lastWasFamily = false
	case vDotRe.MatchString(t) || (numRe.MatchString(t) && (len(t) >= 4 || strings.HasPrefix(t, "0"))):
		// Revisions: v0.3, v1.1, 2501, 0528, 08-2024.
		r.lastWasFamily = false
	case numRe.MatchString(t) || vIntRe.MatchString(t):
		r.version(t)
	case r.tagStart >= 0 && i >= r.tagStart && (t == "code" || t == "python"):
		if r.p.variant == "" {
			r.p.variant = "code"
		}
		r.lastWasFamily = false
	default:
		r.word(t)
	}
}

// version: a version right after a family word belongs to it: llama-3.2 ->
// llama3.2, phi-4 -> phi4, hermes-2 -> hermes2; deepseek-coder-v2 keeps its
// v2. After a size or variant it is a revision (solar:10.7b-instruct-v1).
func (r *familyReader) version(t string) {
	if !r.lastWasFamily || len(r.fam) == 0 {
		return
	}
	if last := len(r.fam) - 1; numRe.MatchString(t) && endsWithLetter(r.fam[last]) {
		r.fam[last] += t
	} else {
		r.fam = append(r.fam, t)
	}
}

// word is a variant word or else a family word.
func (r *familyReader) word(t string) {
	if v, ok := variantWords[t]; ok {
		if v != "" && r.p.variant == "" {
			r.p.variant = v
		}
		r.lastWasFamily = false
		return
	}
	r.fam = append(r.fam, t)
	r.lastWasFamily = true
}

// takeSize records t when it is a size (7b, 500m), a mixture of experts
// (8x7b), an active size (a3b) or a context hint (32k).
func (p *parsedID) takeSize(t string) bool {
	switch {
	case moeRe.MatchString(t):
		m := moeRe.FindStringSubmatch(t)
		n, _ := strconv.Atoi(m[1])
		b, _ := strconv.ParseFloat(m[2], 64)
		if p.params == 0 {
			p.experts, p.expertB = n, b
			p.params = round1(float64(n) * b * 0.83)
		}
	case sizeRe.MatchString(t):
		m := sizeRe.FindStringSubmatch(t)
		v, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "m" {
			v /= 1000
		}
		if p.params == 0 {
			p.params = v
		}
	case activeRe.MatchString(t):
		m := activeRe.FindStringSubmatch(t)
		p.active, _ = strconv.ParseFloat(m[1], 64)
	case ctxRe.MatchString(t):
		n, _ := strconv.Atoi(ctxRe.FindStringSubmatch(t)[1])
		p.ctxHint = n * 1024
	default:
		return false
	}
	return true
}

func hasEmbeddingToken(fam []string) bool {
	for _, t := range fam {
		if strings.HasPrefix(t, "embed") || slices.Contains(embeddingTokens, t) {
			return true
		}
	}
	return false
}

// splitTokens splits on '-', '_', ':', spaces and on dots that are not between two digits
// ("qwen2.5" keeps its dot, "instruct.Q4" does not).
func splitTokens(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		sep := c == '-' || c == '_' || c == ':' || c == ' ' || c == '/'
		if c == '.' {
			sep = !(i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1]))
		}
		if sep {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	return append(out, cur.String())
}

func nonEmpty(ts []string) []string {
	var out []string
	for _, t := range ts {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func endsWithLetter(s string) bool {
	return s != "" && s[len(s)-1] >= 'a' && s[len(s)-1] <= 'z'
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func normQuant(q string) string {
	q = strings.ToLower(q)
	switch q {
	case "fp16":
		return "f16"
	case "fp32":
		return "f32"
	case "4bit", "bnb-4bit":
		return "int4"
	case "8bit":
		return "int8"
	}
	return q
}

// sameSize reports whether two parameter counts name the same model size, allowing for the
// rounding in tags (magicoder:7b is 6.7B, llama3.2:1b is 1.24B) while keeping neighbours
// apart (0.5b/1.5b, 1b/3b, 7b/8b).
func sameSize(a, b float64) bool {
	d := math.Abs(a - b)
	return d <= 0.3+0.06*math.Max(a, b)
}

// Match maps a model id to a catalog entry. Matching is structural, never by substring: the id
// is parsed into family key, size, variant and quantization, and an entry matches only when
// its family key (or an alias) is equal and its size is the same. phi4-mini is not phi4,
// llama3.2:1b is not llama3.2 3B, gemma2:2b is not gemma2 27B. Unknown models get capabilities
// estimated from the nearest known size of the family (or of the longest known family prefix,
// or from size alone), with Estimated set.
func (c *Catalog) Match(id string) MatchResult {
	p := parseID(id)
	m := MatchResult{ID: id, Family: p.family, ParamsB: p.params, ActiveB: p.active,
		Variant: p.variant, Quantization: p.quant, ContextHint: p.ctxHint, Embedding: p.embedding}

	if e := c.lookup(p); e != nil {
		m.Entry = e
		m.CatalogID = e.ID
		m.ParamsB = e.ParamsB // more precise than the rounded size in a tag
		if m.ActiveB == 0 {
			m.ActiveB = e.ActiveB
		}
		if m.Variant == "" {
			m.Variant = e.Variant
		}
		m.Embedding = m.Embedding || e.Embedding
		m.ContextLength = e.ContextLength
		if p.ctxHint > 0 {
			m.ContextLength = p.ctxHint
		}
		m.VRAMGB = e.VRAMGB
		if m.Quantization != "" && !strings.HasPrefix(m.Quantization, "q4_k") && m.Quantization != "mxfp4" {
			m.VRAMGB = EstimateVRAMGB(m.ParamsB, m.Quantization)
		}
		m.Tier = e.Tier
		m.Scores = e.Scores
		m.FIM = fimFor(e.FIM, m.Variant)
		if p.variant == "base" && e.Variant != "base" && e.Variant != "code" {
			// Base (pre-instruct) weights of a chat model complete text but follow
			// instructions poorly: keep the entry, lower its scores.
			m.Scores = shift(e.Scores, -15)
			m.Basis = "base weights of " + e.ID + ": scores lowered by 15"
		}
		return m
	}
	return c.estimate(p, m)
}

// lookup finds the entry for a parsed id, or nil.
func (c *Catalog) lookup(p parsedID) *Entry {
	idxs := c.byFamily[p.family]
	if len(idxs) == 0 {
		return nil
	}
	var cands []int
	if p.params > 0 {
		// The nearest size wins (deepseek-r1:7b is the 7.6B distill, :8b the 8.0B one); entries
		// of equal size (codellama 34b code and instruct) are then told apart by variant.
		best := math.Inf(1)
		for _, i := range idxs {
			if d := math.Abs(c.entries[i].ParamsB - p.params); sameSize(c.entries[i].ParamsB, p.params) && d < best {
				best = d
			}
		}
		for _, i := range idxs {
			if math.Abs(math.Abs(c.entries[i].ParamsB-p.params)-best) < 0.05 {
				cands = append(cands, i)
			}
		}
	} else {
		// No size in the id: a family key that is an alias of exactly one entry names it
		// (DeepSeek-Coder-V2-Lite); else the Ollama default for bare names, or the largest
		// model for Hugging Face repos (deepseek-ai/DeepSeek-R1 is the 671B model).
		if len(idxs) == 1 {
			cands = idxs
		} else if p.ollama {
			for _, i := range idxs {
				if c.entries[i].Default {
					cands = append(cands, i)
				}
			}
		}
		if len(cands) == 0 {
			best := idxs[0]
			for _, i := range idxs[1:] {
				if c.entries[i].ParamsB > c.entries[best].ParamsB {
					best = i
				}
			}
			cands = []int{best}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	// Several sizes match only when variants differ (codellama 34b code vs instruct): prefer
	// the same variant, then an instruct/chat entry when the id says nothing.
	pick := cands[0]
	for _, i := range cands {
		if c.entries[i].Variant == p.variant && p.variant != "" {
			pick = i
			break
		}
	}
	if p.variant == "" {
		for _, i := range cands {
			if c.entries[i].Variant == "code" {
				pick = i
				break
			}
		}
	}
	e := c.entries[pick]
	return &e
}

// estimate fills the capability fields for an id the catalog does not know.
func (c *Catalog) estimate(p parsedID, m MatchResult) MatchResult {
	m.Estimated = true
	if p.embedding {
		m.ContextLength = 512
		m.Tier = TierTiny
		m.VRAMGB = EstimateVRAMGB(math.Max(p.params, 0.3), p.quant)
		m.Basis = "embedding model"
		return m
	}
	// Family known (exact key) or the longest known family that is a token prefix of it
	// (llama3.1-nemotron -> llama3.1; phi4-mini-reasoning -> phi4-mini, never phi4).
	fam := p.family
	idxs := c.byFamily[fam]
	if len(idxs) == 0 {
		for k := len(p.tokens) - 1; k >= 1; k-- {
			key := strings.Join(p.tokens[:k], "-")
			if ix := c.byFamily[key]; len(ix) > 0 {
				fam, idxs = key, ix
				break
			}
		}
	}
	var chat []int
	for _, i := range idxs {
		if !c.entries[i].Embedding {
			chat = append(chat, i)
		}
	}
	if len(chat) > 0 {
		// Nearest size on a log scale; scores move about 6 points per doubling of size.
		sort.Slice(chat, func(a, b int) bool {
			return logDist(c.entries[chat[a]].ParamsB, p.params) < logDist(c.entries[chat[b]].ParamsB, p.params)
		})
		ref := c.entries[chat[0]]
		m.FIM = fimFor(ref.FIM, firstNonEmpty(p.variant, ref.Variant))
		params := p.params
		if params == 0 {
			params = ref.ParamsB
		}
		delta := 0
		if p.params > 0 {
			delta = int(math.Round(6 * math.Log2(p.params/ref.ParamsB)))
		}
		m.ParamsB = params
		m.Scores = shift(ref.Scores, delta)
		m.ContextLength = ref.ContextLength
		m.Basis = "family " + fam + " (nearest: " + ref.ID + ")"
		if m.Variant == "" {
			m.Variant = ref.Variant
		}
	} else {
		m.Scores = sizeScores(p)
		m.ContextLength = unknownContext
		m.Basis = "size only"
		if p.params == 0 {
			m.Basis = "nothing known: assumed a 7B general model"
		}
	}
	if p.ctxHint > 0 {
		m.ContextLength = p.ctxHint
	}
	if m.ParamsB == 0 {
		m.VRAMGB = EstimateVRAMGB(7, p.quant)
		m.Tier = TierSmall
	} else {
		m.VRAMGB = EstimateVRAMGB(m.ParamsB, p.quant)
		m.Tier = TierFor(m.ParamsB)
	}
	return m
}

func logDist(a, b float64) float64 {
	if b <= 0 {
		return 0 // no size: every size is as good; sort keeps family order
	}
	return math.Abs(math.Log(a / b))
}

func shift(s Scores, d int) Scores {
	cl := func(v int) int { return max(5, min(99, v+d)) }
	return Scores{cl(s.Coding), cl(s.Reasoning), cl(s.Analysis), cl(s.Documentation)}
}

// sizeScores guesses scores for a completely unknown family from its size and name words.
func sizeScores(p parsedID) Scores {
	params := p.params
	if params == 0 {
		params = 7
	}
	base := int(math.Round(28 + 10*math.Log2(1+params)))
	base = max(20, min(82, base))
	s := Scores{base, base, base, base}
	for _, t := range p.tokens {
		switch {
		case strings.Contains(t, "code") || strings.Contains(t, "coder"):
			s.Coding += 8
			s.Documentation -= 4
		case t == "r1" || strings.Contains(t, "reason") || strings.Contains(t, "think") || t == "qwq":
			s.Reasoning += 8
		}
	}
	return shift(s, 0)
}

// bitsPerWeight approximates the storage cost of common quantizations.
var bitsPerWeight = map[string]float64{
	"q2_k": 3.0, "q3_k_s": 3.5, "q3_k_m": 3.9, "q3_k_l": 4.3, "q4_0": 4.5, "q4_1": 5.0,
	"q4_k_s": 4.6, "q4_k_m": 4.85, "q4_k_xl": 5.0, "q5_0": 5.5, "q5_1": 6.0, "q5_k_s": 5.5, "q5_k_m": 5.7,
	"q6_k": 6.6, "q8_0": 8.5, "f16": 16, "bf16": 16, "f32": 32, "fp8": 8, "int8": 8,
	"int4": 4.5, "awq": 4.5, "gptq": 4.5, "w4a16": 4.5, "mxfp4": 4.25, "nvfp4": 4.5, "fp4": 4.25,
	"iq4_xs": 4.25, "iq4_nl": 4.5, "iq3_xxs": 3.1, "iq3_m": 3.7, "iq2_xxs": 2.1, "iq2_m": 2.7,
	"iq1_s": 1.6, "qat": 4.5,
}

// EstimateVRAMGB estimates the memory a model needs: weights at the quantization's bits per
// weight plus about 10% and 0.5 GB for runtime buffers and a small KV cache. An unknown or
// empty quantization is treated as Q4_K_M, the common default of local servers.
func EstimateVRAMGB(paramsB float64, quant string) float64 {
	bpw, ok := bitsPerWeight[strings.ToLower(quant)]
	if !ok {
		bpw = bitsPerWeight["q4_k_m"]
	}
	return round1(paramsB*bpw/8*1.1 + 0.5)
}

// fimFor is the FIM format of a model of the given variant whose entry
// says format. CodeLlama and CodeGemma fill in the middle only in their
// code (pretrained) weights: Ollama's docs/template.md says "CodeLlama 34B
// and 70B code completion and all instruct and Python fine-tuned models do
// not support fill-in-the-middle" (ollama/ollama, 2025), and CodeGemma's
// model card gives FIM to the 2B and 7B pretrained models only.
func fimFor(format, variant string) string {
	if (format == FIMCodeLlama || format == FIMCodeGemma) && variant != "code" && variant != "base" {
		return ""
	}
	return format
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
