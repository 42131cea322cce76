package router

import (
	"context"
	"errors"
	"fmt"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// SerenaGate is the part of the Serena client the engine needs to keep
// requests from racing its start: *serena.Client implements it.
type SerenaGate interface {
	// Name is the source name Serena reports under in Context.Sources.
	Name() string
	// WaitStarted returns nil when Serena is ready, waits while it is
	// starting (up to its start budget), and otherwise says why not.
	WaitStarted(ctx context.Context) error
}

// waitForSerena makes a request wait for a starting Serena before context
// is gathered, so the first requests after start-up use it too. A request
// with a position waits because gathering would otherwise fall back to the
// language servers silently; a category with require_serena waits even
// without one. Serena not coming up is an error only for require_serena.
func (p *Pipeline) waitForSerena(ctx context.Context, cat string, req Request, progress ProgressFunc) error {
	required := p.d.Routing[cat].RequireSerena
	if p.d.Serena == nil || !(req.HasPosition || required) {
		return nil
	}
	if p.d.SerenaAvailable == nil || !p.d.SerenaAvailable() {
		progress(Progress{Stage: StageGathering, Message: "waiting for Serena to start"})
	}
	err := p.d.Serena.WaitStarted(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case required:
		return fmt.Errorf("task_routing.%s.require_serena: %w", cat, err)
	}
	p.log.Info("serena not ready: context comes from the other sources", "err", err)
	return nil
}

// ErrSerenaDidNotAnswer is returned for a require_serena category when the
// symbol came from another source because Serena's call failed.
var ErrSerenaDidNotAnswer = errors.New("serena did not provide the code context")

// checkSerenaAnswered refuses, for a require_serena category, context that
// fell back from Serena to another source: require_serena means Serena's
// context or an error, never a silent fallback.
func (p *Pipeline) checkSerenaAnswered(cat string, cctx codectx.Context) error {
	if p.d.Serena == nil || !p.d.Routing[cat].RequireSerena || cctx.Symbol == nil {
		return nil
	}
	for _, r := range cctx.Sources {
		if r.Source == p.d.Serena.Name() && r.Part == codectx.PartSymbol && !r.OK {
			return fmt.Errorf("task_routing.%s.require_serena: %w: %s; fix Serena (see lsp-router doctor) or set require_serena = false", cat, ErrSerenaDidNotAnswer, r.Error)
		}
	}
	return nil
}
