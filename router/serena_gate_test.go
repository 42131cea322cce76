package router_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/catalog"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/selection"
)

// startingSerena is a Serena source and gate that is not ready until
// started is closed: before that its calls fail at once, as the real
// client's do, and WaitStarted waits (or fails with startErr).
type startingSerena struct {
	started  chan struct{}
	startErr error
	symErr   error
	waits    sync.WaitGroup
}

func (s *startingSerena) Name() string { return "serena" }

func (s *startingSerena) ready() bool {
	select {
	case <-s.started:
		return true
	default:
		return false
	}
}

func (s *startingSerena) WaitStarted(ctx context.Context) error {
	if s.startErr != nil {
		return s.startErr
	}
	s.waits.Done()
	select {
	case <-s.started:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *startingSerena) Symbol(_ context.Context, q codectx.Query) (*codectx.Symbol, error) {
	if !s.ready() {
		return nil, errors.New("serena is not ready")
	}
	if s.symErr != nil {
		return nil, s.symErr
	}
	return &codectx.Symbol{Name: "reverseWords", NamePath: "reverseWords", Kind: "Function", Path: q.Path,
		Range: codectx.Range{Start: codectx.Position{Line: 4}, End: codectx.Position{Line: 10, Character: 1}}}, nil
}

func (s *startingSerena) Hover(context.Context, codectx.Query, *codectx.Symbol) (string, error) {
	if !s.ready() {
		return "", errors.New("serena is not ready")
	}
	return "func reverseWords(s string) string (from Serena)", nil
}

func (s *startingSerena) References(context.Context, codectx.Query, *codectx.Symbol, int) ([]codectx.Reference, error) {
	return nil, nil
}

func (s *startingSerena) Diagnostics(context.Context, codectx.Query, *codectx.Symbol) ([]codectx.Diagnostic, error) {
	return nil, nil
}

func serenaPipeline(t *testing.T, s *startingSerena, require bool) *router.Pipeline {
	return newPipeline(t, &fixedServices{}, func(d *router.Deps) {
		d.Sources = []codectx.Source{s, &router.SyntaxSource{}, codectx.BufferSource{}}
		d.Serena = s
		d.SerenaAvailable = s.ready
		if require {
			d.Routing = selection.Table{catalog.Coding: {RequireSerena: true}}
		}
	})
}

func TestFirstRequestWaitsForAStartingSerena(t *testing.T) {
	s := &startingSerena{started: make(chan struct{})}
	s.waits.Add(1)
	p := serenaPipeline(t, s, false)
	go func() {
		s.waits.Wait() // the request is waiting: now Serena comes up
		close(s.started)
	}()
	req := request(router.ActionRefactor, "use slices.Reverse")
	req.DryRun = true
	var msgs []string
	res, err := p.Run(context.Background(), req, func(pr router.Progress) { msgs = append(msgs, pr.Message) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Context.Hover != "func reverseWords(s string) string (from Serena)" {
		t.Errorf("hover %q: the request did not wait for Serena", res.Context.Hover)
	}
	if !strings.Contains(strings.Join(msgs, "|"), "waiting for Serena to start") {
		t.Errorf("progress %v does not say it waits for Serena", msgs)
	}
}

func TestRequireSerenaWaitsOrFails(t *testing.T) {
	req := request(router.ActionRefactor, "use slices.Reverse")
	req.DryRun = true

	// Serena did not come up within its start budget: an error, not the
	// language-server context.
	notUp := errors.New("serena: serena is not ready: not started within serena.start_timeout (1m0s)")
	_, err := serenaPipeline(t, &startingSerena{started: make(chan struct{}), startErr: notUp}, true).Run(context.Background(), req, nil)
	if err == nil || !strings.Contains(err.Error(), "task_routing.coding.require_serena") || !errors.Is(err, notUp) {
		t.Errorf("Serena not started: %v", err)
	}

	// Serena is up but its call failed: the syntax fallback is refused.
	up := make(chan struct{})
	close(up)
	s := &startingSerena{started: up, symErr: errors.New("serena find_symbol: serena has no active project: start it with --project <workspace> or set serena.command")}
	s.waits.Add(1)
	_, err = serenaPipeline(t, s, true).Run(context.Background(), req, nil)
	if !errors.Is(err, router.ErrSerenaDidNotAnswer) || !strings.Contains(err.Error(), "no active project") {
		t.Errorf("Serena failed: %v", err)
	}

	// Without require_serena the same failure falls back to the others.
	s = &startingSerena{started: up, symErr: errors.New("boom")}
	s.waits.Add(1)
	res, err := serenaPipeline(t, s, false).Run(context.Background(), req, nil)
	if err != nil || res.Context.Symbol == nil {
		t.Errorf("fallback without require_serena: %v", err)
	}
	s = &startingSerena{started: make(chan struct{}), startErr: notUp}
	if res, err := serenaPipeline(t, s, false).Run(context.Background(), req, nil); err != nil || res.Context.Symbol == nil {
		t.Errorf("Serena not started, not required: %v", err)
	}
}
