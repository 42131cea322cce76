// Package catalog knows what local models are good at: their native context window, their
// size and memory needs, and a score per task category. The data lives in models.toml (embedded)
// and can be extended or overridden from the user's configuration. Match maps the ids that real
// servers report (Ollama tags, Hugging Face repos, LM Studio keys, GGUF file names) to entries,
// and estimates capabilities for models the catalog does not know.
package catalog

import (
	_ "embed"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// Task categories, shared with the classifier and selection.
const (
	Coding        = "coding"
	Reasoning     = "reasoning"
	Analysis      = "analysis"
	Documentation = "documentation"
)

// Categories lists the task categories in a stable order.
var Categories = []string{Coding, Reasoning, Analysis, Documentation}

// Size tiers, derived from total parameters when an entry does not set one.
const (
	TierFrontier = "frontier" // >= 100B
	TierLarge    = "large"    // >= 30B
	TierMedium   = "medium"   // >= 12B
	TierSmall    = "small"    // >= 5B
	TierTiny     = "tiny"     // < 5B
)

// Scores rates a model per task category on a 0-100 scale.
type Scores struct {
	Coding        int `toml:"coding" json:"coding"`
	Reasoning     int `toml:"reasoning" json:"reasoning"`
	Analysis      int `toml:"analysis" json:"analysis"`
	Documentation int `toml:"documentation" json:"documentation"`
}

// For returns the score for a category; an unknown category gets the mean of the four, so a
// typo in a routing table degrades ranking instead of ranking every model 0.
func (s Scores) For(category string) int {
	switch category {
	case Coding:
		return s.Coding
	case Reasoning:
		return s.Reasoning
	case Analysis:
		return s.Analysis
	case Documentation:
		return s.Documentation
	}
	return (s.Coding + s.Reasoning + s.Analysis + s.Documentation) / 4
}

func (s Scores) isZero() bool { return s == Scores{} }

// Entry is one catalog model.
type Entry struct {
	// ID is the canonical id, unique in the catalog.
	ID string `toml:"id" json:"id"`
	// Family is the normalised family key produced by the matcher ("qwen2.5-coder", "phi4-mini").
	Family string `toml:"family" json:"family"`
	// Aliases are other family keys for the same weights ("deepseek-r1-distill-qwen").
	Aliases []string `toml:"aliases" json:"aliases,omitempty"`
	// ParamsB is the total parameter count in billions. For mixture-of-experts models this is
	// every expert (Mixtral 8x7b = 46.7, not 56 and not 12.9): all weights must sit in memory.
	ParamsB float64 `toml:"params_b" json:"params_b"`
	// ActiveB is the per-token active parameter count for MoE models, 0 for dense models.
	ActiveB float64 `toml:"active_b" json:"active_b,omitempty"`
	// Variant is instruct, chat, code (completion-only), reasoning, vision or embedding.
	Variant string `toml:"variant" json:"variant"`
	// ContextLength is the native context window in tokens.
	ContextLength int `toml:"context" json:"context"`
	// VRAMGB is the approximate memory needed at Q4_K_M with a small context.
	VRAMGB float64 `toml:"vram_gb" json:"vram_gb"`
	// Tier is the size class (frontier, large, medium, small, tiny).
	Tier string `toml:"tier" json:"tier"`
	// Scores rates the model per task category.
	Scores Scores `toml:"scores" json:"scores"`
	// Default marks the size served for a bare family name (Ollama's family:latest).
	Default bool `toml:"default" json:"default,omitempty"`
	// Embedding marks embedding-only models, never chosen for chat.
	Embedding bool `toml:"embedding" json:"embedding,omitempty"`
	// FIM names the fill-in-the-middle format the model was trained with
	// (one of FIMFormats), "" when it cannot fill in the middle: such a
	// model is never used for inline completion.
	FIM string `toml:"fim" json:"fim,omitempty"`
	// Notes is free text for humans.
	Notes string `toml:"notes" json:"notes,omitempty"`
}

// Fill-in-the-middle formats, by the family whose special tokens they use.
// router/completion has the prompt of each, with its source.
const (
	FIMQwen      = "qwen"      // <|fim_prefix|> <|fim_suffix|> <|fim_middle|>
	FIMCodeLlama = "codellama" // <PRE> <SUF> <MID>
	FIMStarCoder = "starcoder" // <fim_prefix> <fim_suffix> <fim_middle>
	FIMDeepSeek  = "deepseek"  // <｜fim▁begin｜> <｜fim▁hole｜> <｜fim▁end｜>
	FIMCodestral = "codestral" // [SUFFIX] [PREFIX]
	FIMCodeGemma = "codegemma" // <|fim_prefix|> <|fim_suffix|> <|fim_middle|>, <|file_separator|> ends
)

// FIMFormats lists the valid values of Entry.FIM.
var FIMFormats = []string{FIMQwen, FIMCodeLlama, FIMStarCoder, FIMDeepSeek, FIMCodestral, FIMCodeGemma}

// Catalog is a validated, indexed set of entries. It is immutable after Load and safe for
// concurrent use.
type Catalog struct {
	entries  []Entry
	byID     map[string]int
	byFamily map[string][]int // family key or alias -> entry indexes
}

//go:embed models.toml
var embedded []byte

// Load parses the embedded catalog and applies the overrides in order. An override whose ID
// exists replaces that entry's non-zero fields (so a user can change only `context`); an
// override with a new ID adds a model and must then name at least its family and parameters.
func Load(overrides ...[]Entry) (*Catalog, error) {
	base, err := parse(embedded)
	if err != nil {
		return nil, fmt.Errorf("embedded catalog: %w", err)
	}
	for _, set := range overrides {
		for _, o := range set {
			base, err = applyOverride(base, o)
			if err != nil {
				return nil, err
			}
		}
	}
	return build(base)
}

// Parse reads catalog entries from TOML in the embedded file's format ([[model]] tables), for
// users who keep their overrides in a separate file.
func Parse(data []byte) ([]Entry, error) { return parse(data) }

func parse(data []byte) ([]Entry, error) {
	var doc struct {
		Model []Entry `toml:"model"`
	}
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		return nil, fmt.Errorf("parse catalog TOML: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("parse catalog TOML: unknown keys %s (valid keys: id, family, aliases, params_b, active_b, variant, context, vram_gb, tier, scores, default, embedding, notes)", strings.Join(keys, ", "))
	}
	return doc.Model, nil
}

func applyOverride(entries []Entry, o Entry) ([]Entry, error) {
	o.ID = strings.TrimSpace(o.ID)
	if o.ID == "" {
		return nil, fmt.Errorf("catalog override: missing id (set id to an existing catalog id to change it, or to a new one to add a model)")
	}
	for i := range entries {
		if !strings.EqualFold(entries[i].ID, o.ID) {
			continue
		}
		e := entries[i]
		if o.Family != "" {
			e.Family = o.Family
		}
		if len(o.Aliases) > 0 {
			e.Aliases = o.Aliases
		}
		if o.ParamsB != 0 {
			e.ParamsB = o.ParamsB
		}
		if o.ActiveB != 0 {
			e.ActiveB = o.ActiveB
		}
		if o.Variant != "" {
			e.Variant = o.Variant
		}
		if o.ContextLength != 0 {
			e.ContextLength = o.ContextLength
		}
		if o.VRAMGB != 0 {
			e.VRAMGB = o.VRAMGB
		}
		if o.Tier != "" {
			e.Tier = o.Tier
		}
		if !o.Scores.isZero() {
			e.Scores = o.Scores
		}
		if o.Default {
			e.Default = true
		}
		if o.Embedding {
			e.Embedding = true
		}
		if o.Notes != "" {
			e.Notes = o.Notes
		}
		if o.FIM != "" {
			e.FIM = o.FIM
		}
		entries[i] = e
		return entries, nil
	}
	return append(entries, o), nil
}

func build(entries []Entry) (*Catalog, error) {
	c := &Catalog{byID: map[string]int{}, byFamily: map[string][]int{}}
	for _, e := range entries {
		e.ID = strings.ToLower(strings.TrimSpace(e.ID))
		e.Family = strings.ToLower(strings.TrimSpace(e.Family))
		if e.Family == "" {
			return nil, fmt.Errorf("catalog entry %q: missing family (the key the id matcher produces, e.g. \"qwen2.5-coder\")", e.ID)
		}
		if e.ParamsB <= 0 || math.IsNaN(e.ParamsB) {
			return nil, fmt.Errorf("catalog entry %q: params_b must be > 0 (billions of parameters, e.g. 7.6)", e.ID)
		}
		if e.ContextLength < 0 || e.VRAMGB < 0 || e.ActiveB < 0 {
			return nil, fmt.Errorf("catalog entry %q: context, vram_gb and active_b must not be negative", e.ID)
		}
		for _, s := range []int{e.Scores.Coding, e.Scores.Reasoning, e.Scores.Analysis, e.Scores.Documentation} {
			if s < 0 || s > 100 {
				return nil, fmt.Errorf("catalog entry %q: scores must be between 0 and 100, got %d", e.ID, s)
			}
		}
		if e.Variant == "embedding" {
			e.Embedding = true
		}
		if e.FIM != "" && !slices.Contains(FIMFormats, e.FIM) {
			return nil, fmt.Errorf("catalog entry %q: fim %q is not a known fill-in-the-middle format; use one of %s, or leave it out", e.ID, e.FIM, strings.Join(FIMFormats, ", "))
		}
		if !e.Embedding && e.Scores.isZero() {
			return nil, fmt.Errorf("catalog entry %q: a chat model needs scores = { coding, reasoning, analysis, documentation }", e.ID)
		}
		if e.ContextLength == 0 {
			e.ContextLength = unknownContext
		}
		if e.VRAMGB == 0 {
			e.VRAMGB = EstimateVRAMGB(e.ParamsB, "q4_k_m")
		}
		switch e.Tier {
		case "":
			e.Tier = TierFor(e.ParamsB)
		case TierFrontier, TierLarge, TierMedium, TierSmall, TierTiny:
		default:
			return nil, fmt.Errorf("catalog entry %q: tier %q is not one of frontier, large, medium, small, tiny", e.ID, e.Tier)
		}
		if _, dup := c.byID[e.ID]; dup {
			return nil, fmt.Errorf("catalog entry %q: duplicate id", e.ID)
		}
		idx := len(c.entries)
		c.entries = append(c.entries, e)
		c.byID[e.ID] = idx
		keys := append([]string{e.Family}, e.Aliases...)
		seen := map[string]bool{}
		for _, k := range keys {
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			c.byFamily[k] = append(c.byFamily[k], idx)
		}
	}
	// Two entries of one family with the same size would make matching ambiguous unless their
	// variants differ (codellama 34b code vs instruct).
	for fam, idxs := range c.byFamily {
		for i := 0; i < len(idxs); i++ {
			for j := i + 1; j < len(idxs); j++ {
				a, b := c.entries[idxs[i]], c.entries[idxs[j]]
				if math.Abs(a.ParamsB-b.ParamsB) < 0.2 && a.Variant == b.Variant {
					return nil, fmt.Errorf("catalog entries %q and %q: same family key %q, size and variant; give one a different variant or remove it", a.ID, b.ID, fam)
				}
			}
		}
	}
	return c, nil
}

// unknownContext is assumed when neither discovery nor the catalog knows a window: the
// smallest window still common among local models, so prompts are never sized too large.
const unknownContext = 4096

// TierFor returns the size tier for a total parameter count in billions.
func TierFor(paramsB float64) string {
	switch {
	case paramsB >= 100:
		return TierFrontier
	case paramsB >= 30:
		return TierLarge
	case paramsB >= 12:
		return TierMedium
	case paramsB >= 5:
		return TierSmall
	}
	return TierTiny
}

// Entries returns a copy of all entries in catalog order.
func (c *Catalog) Entries() []Entry {
	out := make([]Entry, len(c.entries))
	copy(out, c.entries)
	return out
}

// Get returns the entry with the canonical id (case-insensitive).
func (c *Catalog) Get(id string) (*Entry, bool) {
	i, ok := c.byID[strings.ToLower(strings.TrimSpace(id))]
	if !ok {
		return nil, false
	}
	e := c.entries[i]
	return &e, true
}

// Families lists the known family keys (including aliases), sorted.
func (c *Catalog) Families() []string {
	out := make([]string, 0, len(c.byFamily))
	for k := range c.byFamily {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the embedded catalog without overrides. It panics only if the embedded data
// is invalid, which the package tests rule out.
func Default() *Catalog {
	defaultOnce.Do(func() { defaultCat, defaultErr = Load() })
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultCat
}

// Match matches a model id against the embedded catalog; see (*Catalog).Match.
func Match(id string) MatchResult { return Default().Match(id) }
