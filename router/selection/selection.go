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
	if !validCategory(req.Category) {
		d.Err = fmt.Errorf("select: %w %q: use one of %s", errUnknownCategory, req.Category, strings.Join(catalog.Categories, ", "))
		return d
	}
	if req.PromptTokens < 0 || req.AnswerTokens < 0 || req.VRAMCeilingGB < 0 {
		d.Err = fmt.Errorf("select: negative prompt tokens, answer tokens or VRAM ceiling (%d, %d, %g)", req.PromptTokens, req.AnswerTokens, req.VRAMCeilingGB)
		return d
	}
	routing := table[req.Category]
	if routing.RequireSerena && !req.SerenaAvailable {
		d.Err = fmt.Errorf("select: task_routing for %s requires Serena, which is not available: start Serena or set require_serena = false", req.Category)
		return d
	}
	margin := req.LoadedMargin
	if margin == 0 {
		margin = DefaultLoadedMargin
	} else if margin < 0 {
		margin = 0
	}

	cands := make([]*cand, 0, len(available))
	seen := map[string]bool{}
	for _, a := range available {
		key := a.Endpoint + "\x00" + a.Service + "\x00" + a.ModelID
		if seen[key] || strings.TrimSpace(a.ModelID) == "" {
			continue
		}
		seen[key] = true
		m := cat.Match(a.ModelID)
		c := &cand{a: a, m: m}
		ctxLen, ctxSrc := a.ContextLength, "discovery"
		if ctxLen <= 0 {
			ctxLen, ctxSrc = m.ContextLength, "catalog"
			if m.Estimated {
				ctxSrc = "estimate"
			}
		}
		answer := AnswerReserve(req.AnswerTokens, ctxLen)
		need := req.PromptTokens + answer
		c.choice = Choice{Model: a.ModelID, Service: a.Service, ServiceKind: a.ServiceKind, Endpoint: a.Endpoint,
			CatalogID: m.CatalogID, Estimated: m.Estimated, Score: m.Scores.For(req.Category), ContextLength: ctxLen,
			ParamsB: m.ParamsB, VRAMGB: m.VRAMGB, Loaded: a.Loaded, Priority: a.Priority}
		switch {
		case a.External != "" && !req.AllowExternal:
			c.skip, c.hard = "external model: "+a.External+"; prompts sent to it leave the network (set security.allow_external = true to allow it)", true
		case m.Embedding:
			c.skip, c.hard = "embedding-only model, cannot chat", true
		case !a.Chat:
			c.skip, c.hard = "the service reports no chat capability for this model", true
		case req.VRAMCeilingGB > 0 && !a.Loaded && m.VRAMGB > req.VRAMCeilingGB:
			c.skip, c.hard = fmt.Sprintf("needs about %.1f GB of VRAM to load, above the %.1f GB ceiling", m.VRAMGB, req.VRAMCeilingGB), true
		case routing.MinContext > 0 && ctxLen < routing.MinContext:
			c.skip = fmt.Sprintf("context window %d (%s) is below the routing's min_context %d", ctxLen, ctxSrc, routing.MinContext)
		case need > ctxLen:
			c.skip = fmt.Sprintf("prompt needs %d tokens (%d prompt + %d answer) but the context window is %d (%s); "+
				"lower generation.max_answer_tokens (now %d) or use a model with a larger window", need, req.PromptTokens, answer, ctxLen, ctxSrc, req.AnswerTokens)
		}
		cands = append(cands, c)
	}

	var eligible []*cand
	for _, c := range cands {
		if c.skip == "" {
			eligible = append(eligible, c)
		}
	}
	// Catalog ranking: score, with the loaded bonus, then service priority, then the larger
	// window, then the id for a stable order.
	eff := func(c *cand) int {
		if c.a.Loaded {
			return c.choice.Score + margin
		}
		return c.choice.Score
	}
	sort.SliceStable(eligible, func(i, j int) bool {
		a, b := eligible[i], eligible[j]
		if ea, eb := eff(a), eff(b); ea != eb {
			return ea > eb
		}
		if a.a.Loaded != b.a.Loaded {
			return a.a.Loaded
		}
		if a.a.Priority != b.a.Priority {
			return a.a.Priority < b.a.Priority
		}
		if a.choice.ContextLength != b.choice.ContextLength {
			return a.choice.ContextLength > b.choice.ContextLength
		}
		return a.a.ModelID+a.a.Service < b.a.ModelID+b.a.Service
	})

	var order []Choice
	used := map[*cand]bool{}
	addRouted := func(names []string, lvl Level, label string) {
		for _, name := range names {
			found := false
			for _, c := range eligible {
				if used[c] || !nameMatches(cat, name, c) {
					continue
				}
				found = true
				used[c] = true
				ch := c.choice
				ch.Level = lvl
				ch.Why = fmt.Sprintf("task_routing %s %q", label, name)
				order = append(order, ch)
			}
			if found {
				continue
			}
			// Explain why a routed model is absent: present but ineligible, or not offered.
			explained := false
			for _, c := range cands {
				if c.skip != "" && nameMatches(cat, name, c) {
					explained = true // its reason is reported with the other skips
				}
			}
			if !explained {
				d.Skipped = append(d.Skipped, Skip{Model: name, Reason: fmt.Sprintf("task_routing %s: not offered by any discovered service (pull it or fix the name)", label)})
			}
		}
	}
	addRouted(routing.Primary, LevelPrimary, "primary")
	addRouted(routing.Fallback, LevelFallback, "fallback")
	for _, c := range eligible {
		if used[c] {
			continue
		}
		ch := c.choice
		ch.Level = LevelFallback
		if len(order) == 0 {
			ch.Level = LevelPrimary
		}
		ch.Why = fmt.Sprintf("catalog ranking: %s score %d", req.Category, ch.Score)
		if ch.Estimated {
			ch.Why += " (estimated)"
		}
		if c.a.Loaded && margin > 0 {
			ch.Why += ", loaded"
		}
		order = append(order, ch)
	}

	for _, c := range cands {
		if c.skip != "" {
			d.Skipped = append(d.Skipped, Skip{Model: c.a.ModelID, Service: c.a.Service, Score: c.choice.Score, Reason: c.skip})
		}
	}
	sort.SliceStable(d.Skipped, func(i, j int) bool { return d.Skipped[i].Score > d.Skipped[j].Score })

	// The last level's model: the smallest chat model that can load, even one whose window is
	// too small for the full prompt, since that level sends the reduced prompt.
	var smallest *cand
	for _, c := range cands {
		if c.hard {
			continue
		}
		if smallest == nil || c.m.ParamsB < smallest.m.ParamsB ||
			(c.m.ParamsB == smallest.m.ParamsB && c.a.Loaded && !smallest.a.Loaded) ||
			(c.m.ParamsB == smallest.m.ParamsB && c.a.Loaded == smallest.a.Loaded && c.a.Priority < smallest.a.Priority) {
			smallest = c
		}
	}
	if smallest != nil {
		ch := smallest.choice
		ch.Level = LevelSmallest
		ch.Why = fmt.Sprintf("smallest available model (%.1fB)", ch.ParamsB)
		d.Smallest = &ch
	}

	var reduced *cand
	for _, c := range cands {
		if c.skip != "" && !c.hard && (reduced == nil || c.choice.Score > reduced.choice.Score) {
			reduced = c
		}
	}
	if reduced != nil {
		ch := reduced.choice
		ch.Level = LevelReducedContext
		ch.Why = fmt.Sprintf("best model for a reduced prompt (%s score %d, window %d)", req.Category, ch.Score, ch.ContextLength)
		d.Reduced = &ch
	}

	// Nothing takes the full prompt: start directly at the reduced-context level (the caller
	// sees Chosen.Level and builds the smaller prompt), or at the smallest model.
	if len(order) == 0 && d.Reduced != nil {
		order = append(order, *d.Reduced)
	} else if len(order) == 0 && d.Smallest != nil {
		order = append(order, *d.Smallest)
	}
	if len(order) == 0 {
		if len(available) == 0 {
			d.Err = fmt.Errorf("select %s: %w: no models discovered; start a local LLM service (Ollama, LM Studio, llama.cpp, ...) or check the configured endpoints", req.Category, ErrNoCandidate)
		} else {
			d.Err = fmt.Errorf("select %s: %w: all %d discovered models were skipped (see skipped); use a model with a larger context, lower generation.max_answer_tokens, raise the VRAM ceiling or shorten the request", req.Category, ErrNoCandidate, len(available))
		}
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
