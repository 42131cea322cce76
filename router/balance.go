package router

import (
	"slices"
	"sync"

	"github.com/lsp-router/lsp-router/router/selection"
)

// inflight counts the requests running on each endpoint of this process,
// so that when several endpoints serve the same model (a team's GPU hosts)
// the one with the fewest outstanding requests goes first. Nothing is
// shared between processes: several routers can front one fleet, each
// balancing its own load, with the circuit breaker and re-probing keeping
// failed endpoints out.
type inflight struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *inflight) add(endpoint string, d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[endpoint] += d
	if f.n[endpoint] <= 0 {
		delete(f.n, endpoint)
	}
}

// reserve balances d (see balanceLocked) and counts the request on the chosen
// endpoint, in one step so that concurrent requests see each other. The
// returned func ends the reservation.
func (f *inflight) reserve(d selection.Decision) (selection.Decision, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d = f.balanceLocked(d)
	if d.Model == "" {
		return d, func() {}
	}
	ep := d.Chosen.Endpoint
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[ep]++
	return d, func() { f.add(ep, -1) }
}

// balanceLocked reorders the decision's candidates: within each run of
// candidates that are the same model (served by several endpoints), the
// endpoint with the fewest requests in flight comes first. The order of
// different models is not touched. f.mu is held.
func (f *inflight) balanceLocked(d selection.Decision) selection.Decision {
	cands := d.Candidates()
	if len(cands) < 2 {
		return d
	}
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && sameModel(cands[i], cands[j]) {
			j++
		}
		if j-i > 1 {
			// Positions keep their level (primary, fallback): only the
			// endpoints change places.
			levels := make([]selection.Level, j-i)
			for k := range levels {
				levels[k] = cands[i+k].Level
			}
			slices.SortStableFunc(cands[i:j], func(a, b selection.Choice) int { return f.n[a.Endpoint] - f.n[b.Endpoint] })
			for k := range levels {
				cands[i+k].Level = levels[k]
			}
		}
		i = j
	}
	d.Chosen, d.Fallbacks = cands[0], cands[1:]
	d.Model, d.Service = d.Chosen.Model, d.Chosen.Service
	return d
}

func sameModel(a, b selection.Choice) bool {
	if a.CatalogID != "" && a.CatalogID == b.CatalogID && a.ParamsB == b.ParamsB {
		return true
	}
	return a.Model == b.Model
}
