package main

import (
	"context"
	"errors"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/router"
)

// engineFactory builds the router engine from the configuration.
func engineFactory(e *env) lsp.EngineFactory {
	return func(cfg *config.Config, workspace string) (router.Engine, error) {
		return notReadyEngine{}, nil
	}
}

type notReadyEngine struct{}

func (notReadyEngine) Run(context.Context, router.Request, router.ProgressFunc) (*router.Result, error) {
	return nil, errors.New("the model pipeline is not wired in this build yet")
}

func (notReadyEngine) Models(context.Context) ([]router.ModelInfo, error) {
	return nil, errors.New("model discovery is not wired in this build yet")
}
