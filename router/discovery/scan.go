package discovery

import (
	"context"
	"net/url"
	"sort"

	"github.com/sourcegraph/conc/iter"

	"github.com/lsp-router/lsp-router/router/llm"
)

// Scan probes every target of cfg at once, so a scan costs about one probe
// timeout however many endpoints there are, and returns the services found,
// preferred first (lowest Priority, as in router/selection). Default
// endpoints where nothing answers are left out; custom endpoints always
// appear (offline ones with StatusOffline). The error is only for an invalid
// configuration.
func Scan(ctx context.Context, cfg Config) ([]llm.Service, error) {
	targets, err := Targets(cfg)
	if err != nil {
		return nil, err
	}
	return scanTargets(ctx, cfg, targets), nil
}

func scanTargets(ctx context.Context, cfg Config, targets []Target) []llm.Service {
	type result struct {
		svc   llm.Service
		found bool
	}
	// Best effort: one endpoint failing never cancels the others.
	mapper := iter.Mapper[Target, result]{MaxGoroutines: len(targets)}
	results := mapper.Map(targets, func(t *Target) result {
		svc, found := Probe(ctx, cfg, *t)
		return result{svc, found}
	})
	var out []llm.Service
	for _, r := range results {
		if r.found {
			out = append(out, r.svc)
		}
	}
	nameDuplicates(out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out
}

// nameDuplicates makes names unique when several endpoints of one kind are
// found (three vLLM servers become "vLLM (gpu1:8000)", ...).
func nameDuplicates(svcs []llm.Service) {
	count := map[string]int{}
	for _, s := range svcs {
		count[s.Name]++
	}
	for i := range svcs {
		if count[svcs[i].Name] > 1 {
			if u, err := url.Parse(svcs[i].Endpoint); err == nil {
				svcs[i].Name += " (" + u.Host + u.Path + ")"
			}
		}
	}
}
