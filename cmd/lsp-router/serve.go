package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
)

func init() {
	var framing lsp.FramingOptions
	register(&command{
		name:    "serve",
		summary: "serve LSP on stdin/stdout (what editors run)",
		usage:   "[--config FILE] [--log-file FILE] [--max-message-bytes N] [--max-header-bytes N]",
		flags: func(fs *flag.FlagSet) {
			fs.Int64Var(&framing.MaxMessageBytes, "max-message-bytes", lsp.DefaultMaxMessageBytes, "largest LSP message `bytes` accepted from the editor; a larger one ends the session")
			fs.IntVar(&framing.MaxHeaderLine, "max-header-bytes", lsp.DefaultMaxHeaderLine, "longest LSP header line in `bytes`")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) int {
			if framing.MaxMessageBytes <= 0 || framing.MaxHeaderLine <= 0 {
				fmt.Fprintln(os.Stderr, "lsp-router serve: --max-message-bytes and --max-header-bytes must be positive")
				return exitUsage
			}
			return runServe(e, framing)
		},
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

func runServe(e *env, framing lsp.FramingOptions) int {
	wd, _ := os.Getwd()
	// A broken file must not leave the editor with a server that died at
	// start: serve with the defaults and tell the user what to fix.
	var notice string
	cfg, err := config.Load(e.configPath, wd)
	if err != nil {
		e.log.Error("configuration not used; serving with the defaults", "err", err)
		notice = fmt.Sprintf("lsp-router: configuration not used, running with the defaults: %v. Fix it (lsp-router config validate) and restart the server.", err)
		cfg = config.Default()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	e.log.Info("lsp-router serving on stdio", "version", version, "config", cfg.Source)
	framing.Logger = e.log
	return lsp.Serve(ctx, lsp.NewStream(stdio{}, framing), lsp.Options{
		Config:    cfg,
		NewEngine: engineFactory(e),
		Logger:    e.log,
		Version:   version,
		Notice:    notice,
	})
}
