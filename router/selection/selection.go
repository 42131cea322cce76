// Package selection picks the model that answers a request among the models the local
// services actually have, explains the choice, and runs the fallback chain: primary models,
// fallback models, a reduced context, the smallest available model, then a failure that lists
// every attempt. A per-service circuit breaker skips services that keep failing.
//
// The package depends on the catalog only; the caller maps discovery results onto Available
// and LLM client errors onto the Kind sentinels, so it never imports the LLM clients.
package selection

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lsp-router/lsp-router/router/catalog"
)

// Available is one model offered by one discovered service.
type Available struct {
	Service     string // display name ("Ollama", "LM Studio (work laptop)")
	ServiceKind string // ollama, lmstudio, vllm, llamacpp, ...
	Endpoint    string // base URL; also the circuit breaker key
	// Priority orders services: a LOWER value is preferred (1 before 2), 0 counts as 0.
	Priority int
	ModelID  string // as the service names it: "qwen2.5-coder:32b", "Qwen/Qwen2.5-Coder-32B-Instruct"
	// ContextLength is the actual window from discovery; 0 = unknown (the catalog's is used).
	ContextLength int
	Loaded        bool // resident in memory now: no cold load
	// Chat is false when the service says the model cannot chat. Set it true when the service
	// does not say: embedding models are also recognised by name.
	Chat   bool
	Digest string
	// External, when not empty, says where the model really runs although a
	// local service lists it ("runs on https://host:443 through Ollama"): a
	// prompt sent to it leaves the network, so Select skips it unless
	// Request.AllowExternal is set.
	External string
}

// Routing is the user's task_routing entry for one category.
type Routing struct {
	// Primary and Fallback name models in order of preference: a service's model id
	// ("qwen2.5-coder:32b"), a catalog id ("qwen2.5-coder-32b-instruct") or either with
	// "@service" to pin the service ("qwen2.5-coder:32b@Ollama").
	Primary  []string
	Fallback []string
	// MinContext excludes models with a smaller window.
	MinContext int
	// RequireSerena refuses the category when Serena's semantic context is unavailable.
	RequireSerena bool
}

// Table maps a category to its routing.
type Table map[string]Routing

// Request describes what must be answered.
type Request struct {
	Category     string
	PromptTokens int
	AnswerTokens int
	// VRAMCeilingGB excludes models that would need more memory to load (0 = no ceiling).
	// Models already loaded are exempt: they fit, since they are running.
	VRAMCeilingGB float64
	// SerenaAvailable tells whether semantic context from Serena is available (RequireSerena).
	SerenaAvailable bool
	// AllowExternal lets models that run outside the network be chosen
	// (config security.allow_external).
	AllowExternal bool
	// LoadedMargin is how many score points a loaded model may trail a cold one and still be
	// preferred; 0 means DefaultLoadedMargin, negative disables the preference.
	LoadedMargin int
}

// DefaultLoadedMargin: within 5 points (on the catalog's 0-100 scale) a loaded model wins,
// because a cold load of a large model costs tens of seconds to minutes.
const DefaultLoadedMargin = 5

// Level is a step of the fallback chain.
type Level int

const (
	LevelPrimary Level = iota + 1
	LevelFallback
	// LevelReducedContext: the attempt must build a smaller prompt (fewer references, shorter
	// bodies) than at the earlier levels.
	LevelReducedContext
	// LevelSmallest: the smallest available model, with the reduced prompt too.
	LevelSmallest
)

func (l Level) String() string {
	switch l {
	case LevelPrimary:
		return "primary"
	case LevelFallback:
		return "fallback"
	case LevelReducedContext:
		return "reduced context"
	case LevelSmallest:
		return "smallest available"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// MarshalText makes levels readable in JSON output.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Reduced reports whether the attempt should build the smaller prompt.
func (l Level) Reduced() bool { return l >= LevelReducedContext }

// Choice is a candidate model on a service.
type Choice struct {
	Model         string  `json:"model"`
	Service       string  `json:"service"`
	ServiceKind   string  `json:"service_kind,omitempty"`
	Endpoint      string  `json:"endpoint,omitempty"`
	CatalogID     string  `json:"catalog_id,omitempty"`
	Estimated     bool    `json:"estimated"`
	Score         int     `json:"score"`
	ContextLength int     `json:"context_length"`
	ParamsB       float64 `json:"params_b"`
	VRAMGB        float64 `json:"vram_gb"`
	Loaded        bool    `json:"loaded"`
	Priority      int     `json:"priority"`
	Level         Level   `json:"level"`
	// Why says how the choice got its place ("task_routing primary", "best coding score 90").
	Why string `json:"why"`
}

// Skip says why a model was not a candidate.
type Skip struct {
	Model   string `json:"model"`
	Service string `json:"service,omitempty"`
	Score   int    `json:"score"`
	Reason  string `json:"reason"`
}

// Decision is the explainable result of Select.
type Decision struct {
	Category string `json:"category"`
	// Model and Service name the first choice ("" when Err is set).
	Model   string `json:"model"`
	Service string `json:"service"`
	Chosen  Choice `json:"chosen"`
	// Fallbacks are the next candidates in the order they will be tried.
	Fallbacks []Choice `json:"fallbacks"`
	// Reduced is the best model skipped only because the full prompt does not fit its window:
	// the reduced-context level uses it when no earlier failure points to a better retry.
	Reduced *Choice `json:"reduced,omitempty"`
	// Smallest is the model for the last level (nil when there is no chat model at all).
	Smallest *Choice `json:"smallest,omitempty"`
	// Skipped lists every model that was not a candidate and why, best score first, so the
	// models that would have ranked above the choice come first.
	Skipped []Skip `json:"skipped"`
	// Err is set when nothing can be chosen; it says what to do.
	Err error `json:"-"`
}

// Candidates returns the chosen model followed by the fallbacks.
func (d Decision) Candidates() []Choice {
	if d.Err != nil || d.Model == "" {
		return nil
	}
	return append([]Choice{d.Chosen}, d.Fallbacks...)
}

type cand struct {
	a      Available
	m      catalog.MatchResult
	choice Choice
	skip   string // reason the model cannot answer at full context; "" if eligible
	// hard is set for reasons no reduced prompt can fix (embedding, VRAM, not chat).
	hard bool
}

// Select chooses a model for the request among available, honouring the category's routing
// (primary then fallback lists, then the catalog ranking of everything else) and the
// constraints: chat capability, the prompt fitting the actual context window, the routing's
// minimum context, the VRAM ceiling. Among close scores a loaded model and then the service
// priority win. cat may be nil for the embedded catalog.
func Select(req Request, available []Available, table Table, cat *catalog.Catalog) Decision {
	if cat == nil {
		cat = catalog.Default()
	}
	d := Decision{Category: req.Category, Skipped: []Skip{}, Fallbacks: []Choice{}}
	routing := table[req.Category]
	if d.Err = checkRequest(req, routing); d.Err != nil {
		return d
	}
	margin := loadedMargin(req.LoadedMargin)
	cands := candidates(req, routing, available, cat)
	eligible := rankEligible(cands, margin)

	used := map[*cand]bool{}
	order, missing := routedOrder(cat, routing.Primary, LevelPrimary, "primary", eligible, cands, used)
	more, missingFallback := routedOrder(cat, routing.Fallback, LevelFallback, "fallback", eligible, cands, used)
	order = append(order, more...)
	d.Skipped = append(append(d.Skipped, missing...), missingFallback...)
	order = append(order, rankedOrder(req.Category, eligible, used, margin, len(order) == 0)...)

	for _, c := range cands {
		if c.skip != "" {
			d.Skipped = append(d.Skipped, Skip{Model: c.a.ModelID, Service: c.a.Service, Score: c.choice.Score, Reason: c.skip})
		}
	}
	sort.SliceStable(d.Skipped, func(i, j int) bool { return d.Skipped[i].Score > d.Skipped[j].Score })

	d.Smallest = smallestChoice(cands)
	d.Reduced = reducedChoice(req.Category, cands)

	// Nothing takes the full prompt: start directly at the reduced-context level (the caller
	// sees Chosen.Level and builds the smaller prompt), or at the smallest model.
	if len(order) == 0 && d.Reduced != nil {
		order = append(order, *d.Reduced)
	} else if len(order) == 0 && d.Smallest != nil {
		order = append(order, *d.Smallest)
	}
	if len(order) == 0 {
		d.Err = nothingChosen(req.Category, len(available))
		return d
	}
	d.Chosen = order[0]
	d.Model, d.Service = order[0].Model, order[0].Service
	d.Fallbacks = append(d.Fallbacks, order[1:]...)
	return d
}

// MinAnswerReserve is the least room kept for the answer in any window.
const MinAnswerReserve = 256

// AnswerReserve is the room kept for the answer in a window of window
// tokens when the user allows maxAnswer: all of it in a large window, but
// at most a quarter of a small one (never below MinAnswerReserve), so a
// 2048-token model still has room for the question. window <= 0 (unknown)
// keeps maxAnswer.
func AnswerReserve(maxAnswer, window int) int {
	if maxAnswer <= 0 {
		return 0
	}
	if window <= 0 {
		return maxAnswer
	}
	return min(maxAnswer, max(window/4, MinAnswerReserve))
}

func validCategory(c string) bool {
	for _, k := range catalog.Categories {
		if c == k {
			return true
		}
	}
	return false
}

// nameMatches tells whether a routing name designates the candidate: the exact service model
// id, or the same catalog entry (a catalog id, or another id of the same weights), with an
// optional "@service" suffix pinning the service. Unknown models match by exact id only.
func nameMatches(cat *catalog.Catalog, name string, c *cand) bool {
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, c.a.ModelID) {
		return true // before "@service": LM Studio keys may contain '@' (key@q4_k_m)
	}
	if i := strings.LastIndex(name, "@"); i > 0 {
		svc := name[i+1:]
		if !strings.EqualFold(svc, c.a.Service) && !strings.EqualFold(svc, c.a.ServiceKind) {
			return false
		}
		name = name[:i]
	}
	if strings.EqualFold(name, c.a.ModelID) {
		return true
	}
	if c.m.Entry == nil {
		return false
	}
	if e, ok := cat.Get(name); ok {
		return e.ID == c.m.Entry.ID
	}
	return cat.Match(name).CatalogID == c.m.Entry.ID
}
