package selection

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lsp-router/lsp-router/router/catalog"
)

// subject is what the skip rules look at: one offered model, what the
// catalog knows of it and the request's needs measured against its window.
type subject struct {
	req     Request
	routing Routing
	a       Available
	m       catalog.MatchResult
	ctxLen  int    // the window used: discovery's, else the catalog's
	ctxSrc  string // where ctxLen comes from: discovery, catalog or estimate
	answer  int    // the answer reserve in that window
	need    int    // prompt + answer
}

// skipRule is one reason a model cannot be a candidate. check returns the
// reason shown to the user, or nil when the rule lets the model through.
type skipRule struct {
	// hard marks reasons no reduced prompt can fix (not chat, VRAM, external).
	hard  bool
	check func(s *subject) *string
}

// skipRules are tried in order; the first that objects explains the skip.
var skipRules = []skipRule{
	{hard: true, check: skipExternal},
	{hard: true, check: skipEmbedding},
	{hard: true, check: skipNoChat},
	{hard: true, check: skipVRAM},
	{check: skipMinContext},
	{check: skipPromptTooLarge},
}

func reason(format string, args ...any) *string {
	s := fmt.Sprintf(format, args...)
	return &s
}

// skipExternal keeps prompts inside the network unless the user allowed it.
func skipExternal(s *subject) *string {
	if s.a.External == "" || s.req.AllowExternal {
		return nil
	}
	return reason("external model: %s; prompts sent to it leave the network (set security.allow_external = true to allow it)", s.a.External)
}

func skipEmbedding(s *subject) *string {
	if !s.m.Embedding {
		return nil
	}
	return reason("embedding-only model, cannot chat")
}

func skipNoChat(s *subject) *string {
	if s.a.Chat {
		return nil
	}
	return reason("the service reports no chat capability for this model")
}

// skipVRAM exempts loaded models: they fit, since they are running.
func skipVRAM(s *subject) *string {
	if s.req.VRAMCeilingGB <= 0 || s.a.Loaded || s.m.VRAMGB <= s.req.VRAMCeilingGB {
		return nil
	}
	return reason("needs about %.1f GB of VRAM to load, above the %.1f GB ceiling", s.m.VRAMGB, s.req.VRAMCeilingGB)
}

func skipMinContext(s *subject) *string {
	if s.routing.MinContext <= 0 || s.ctxLen >= s.routing.MinContext {
		return nil
	}
	return reason("context window %d (%s) is below the routing's min_context %d", s.ctxLen, s.ctxSrc, s.routing.MinContext)
}

func skipPromptTooLarge(s *subject) *string {
	if s.need <= s.ctxLen {
		return nil
	}
	return reason("prompt needs %d tokens (%d prompt + %d answer) but the context window is %d (%s); "+
		"lower generation.max_answer_tokens (now %d) or use a model with a larger window",
		s.need, s.req.PromptTokens, s.answer, s.ctxLen, s.ctxSrc, s.req.AnswerTokens)
}

// checkRequest refuses requests no model can answer: an unknown category,
// negative sizes, or a routing that needs Serena when it is absent.
func checkRequest(req Request, routing Routing) error {
	if !validCategory(req.Category) {
		return fmt.Errorf("select: %w %q: use one of %s", errUnknownCategory, req.Category, strings.Join(catalog.Categories, ", "))
	}
	if req.PromptTokens < 0 || req.AnswerTokens < 0 || req.VRAMCeilingGB < 0 {
		return fmt.Errorf("select: negative prompt tokens, answer tokens or VRAM ceiling (%d, %d, %g)", req.PromptTokens, req.AnswerTokens, req.VRAMCeilingGB)
	}
	if routing.RequireSerena && !req.SerenaAvailable {
		return fmt.Errorf("select: task_routing for %s requires Serena, which is not available: start Serena or set require_serena = false", req.Category)
	}
	return nil
}

// loadedMargin turns Request.LoadedMargin into points: 0 is the default,
// negative disables the preference.
func loadedMargin(m int) int {
	switch {
	case m == 0:
		return DefaultLoadedMargin
	case m < 0:
		return 0
	}
	return m
}

// candidates matches each distinct offered model against the catalog and
// runs the skip rules on it.
func candidates(req Request, routing Routing, available []Available, cat *catalog.Catalog) []*cand {
	cands := make([]*cand, 0, len(available))
	seen := map[string]bool{}
	for _, a := range available {
		key := a.Endpoint + "\x00" + a.Service + "\x00" + a.ModelID
		if seen[key] || strings.TrimSpace(a.ModelID) == "" {
			continue
		}
		seen[key] = true
		cands = append(cands, newCand(req, routing, a, cat.Match(a.ModelID)))
	}
	return cands
}

func newCand(req Request, routing Routing, a Available, m catalog.MatchResult) *cand {
	s := subject{req: req, routing: routing, a: a, m: m, ctxLen: a.ContextLength, ctxSrc: "discovery"}
	if s.ctxLen <= 0 {
		s.ctxLen, s.ctxSrc = m.ContextLength, "catalog"
		if m.Estimated {
			s.ctxSrc = "estimate"
		}
	}
	s.answer = AnswerReserve(req.AnswerTokens, s.ctxLen)
	s.need = req.PromptTokens + s.answer
	c := &cand{a: a, m: m, choice: Choice{Model: a.ModelID, Service: a.Service, ServiceKind: a.ServiceKind, Endpoint: a.Endpoint,
		CatalogID: m.CatalogID, Estimated: m.Estimated, Score: m.Scores.For(req.Category), ContextLength: s.ctxLen,
		ParamsB: m.ParamsB, VRAMGB: m.VRAMGB, Loaded: a.Loaded, Priority: a.Priority}}
	for _, r := range skipRules {
		if why := r.check(&s); why != nil {
			c.skip, c.hard = *why, r.hard
			break
		}
	}
	return c
}

// rankEligible returns the candidates without a skip in catalog ranking
// order: score with the loaded bonus, then service priority, then the
// larger window, then the id for a stable order.
func rankEligible(cands []*cand, margin int) []*cand {
	var eligible []*cand
	for _, c := range cands {
		if c.skip == "" {
			eligible = append(eligible, c)
		}
	}
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
	return eligible
}

// routedOrder returns the eligible candidates the routing names, in the
// routing's order, marking them used, and a skip for each routed name no
// service offers (a routed model that is offered but skipped is explained
// by its own skip).
func routedOrder(cat *catalog.Catalog, names []string, lvl Level, label string, eligible, cands []*cand, used map[*cand]bool) ([]Choice, []Skip) {
	var order []Choice
	var missing []Skip
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
		if !found && !skippedByName(cat, name, cands) {
			missing = append(missing, Skip{Model: name, Reason: fmt.Sprintf("task_routing %s: not offered by any discovered service (pull it or fix the name)", label)})
		}
	}
	return order, missing
}

func skippedByName(cat *catalog.Catalog, name string, cands []*cand) bool {
	for _, c := range cands {
		if c.skip != "" && nameMatches(cat, name, c) {
			return true
		}
	}
	return false
}

// rankedOrder returns the eligible candidates the routing did not name, in
// ranking order; the first is primary when the routing chose nothing.
func rankedOrder(category string, eligible []*cand, used map[*cand]bool, margin int, first bool) []Choice {
	var order []Choice
	for _, c := range eligible {
		if used[c] {
			continue
		}
		ch := c.choice
		ch.Level = LevelFallback
		if first && len(order) == 0 {
			ch.Level = LevelPrimary
		}
		ch.Why = fmt.Sprintf("catalog ranking: %s score %d", category, ch.Score)
		if ch.Estimated {
			ch.Why += " (estimated)"
		}
		if c.a.Loaded && margin > 0 {
			ch.Why += ", loaded"
		}
		order = append(order, ch)
	}
	return order
}

// smallestChoice is the last level's model: the smallest chat model that
// can load, even one whose window is too small for the full prompt, since
// that level sends the reduced prompt.
func smallestChoice(cands []*cand) *Choice {
	var smallest *cand
	for _, c := range cands {
		if !c.hard && (smallest == nil || smallerThan(c, smallest)) {
			smallest = c
		}
	}
	if smallest == nil {
		return nil
	}
	ch := smallest.choice
	ch.Level = LevelSmallest
	ch.Why = fmt.Sprintf("smallest available model (%.1fB)", ch.ParamsB)
	return &ch
}

// smallerThan orders by size, then loaded first, then service priority.
func smallerThan(c, than *cand) bool {
	if c.m.ParamsB != than.m.ParamsB {
		return c.m.ParamsB < than.m.ParamsB
	}
	if c.a.Loaded != than.a.Loaded {
		return c.a.Loaded
	}
	return c.a.Priority < than.a.Priority
}

// reducedChoice is the best model skipped only because the full prompt
// does not fit: the reduced-context level's model.
func reducedChoice(category string, cands []*cand) *Choice {
	var reduced *cand
	for _, c := range cands {
		if c.skip != "" && !c.hard && (reduced == nil || c.choice.Score > reduced.choice.Score) {
			reduced = c
		}
	}
	if reduced == nil {
		return nil
	}
	ch := reduced.choice
	ch.Level = LevelReducedContext
	ch.Why = fmt.Sprintf("best model for a reduced prompt (%s score %d, window %d)", category, ch.Score, ch.ContextLength)
	return &ch
}

// nothingChosen says what to do when no model is left at any level.
func nothingChosen(category string, offered int) error {
	if offered == 0 {
		return fmt.Errorf("select %s: %w: no models discovered; start a local LLM service (Ollama, LM Studio, llama.cpp, ...) or check the configured endpoints", category, ErrNoCandidate)
	}
	return fmt.Errorf("select %s: %w: all %d discovered models were skipped (see skipped); use a model with a larger context, lower generation.max_answer_tokens, raise the VRAM ceiling or shorten the request", category, ErrNoCandidate, offered)
}
