package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/lsp"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "serve LSP on stdin/stdout (what editors run)",
		usage:   "[--config FILE] [--log-file FILE]",
		run:     runServe,
	})
}

// stdio joins stdin and stdout into the one stream LSP needs. Nothing else
// may write to stdout: logs go to stderr or --log-file.
type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error {
	err := os.Stdin.Close()
	if err2 := os.Stdout.Close(); err == nil {
		err = err2
	}
	return err
}

func runServe(e *env, _ *flag.FlagSet, _ []string) int {
	wd, _ := os.Getwd()
	cfg, ok := e.loadConfig(wd)
	if !ok {
		return exitFailure
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	e.log.Info("lsp-router serving on stdio", "version", version, "config", cfg.Source)
	return lsp.Serve(ctx, jsonrpc2.NewHeaderStream(stdio{}), lsp.Options{
		Config:    cfg,
		NewEngine: engineFactory(e),
		Logger:    e.log,
		Version:   version,
	})
}
