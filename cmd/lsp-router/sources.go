package main

import (
	"log/slog"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
)

// contextSources starts the code-context backends in the "Serena first"
// order. Serena and the built-in language servers start lazily in the
// background, so building them here never blocks the editor.
func contextSources(cfg *config.Config, workspace string, log *slog.Logger, deps *router.Deps) []codectx.Source {
	return nil
}
