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
				fmt.Fprintln(e.stderr, "lsp-router serve: --max-message-bytes and --max-header-bytes must be positive")
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
	loader := config.Loader{Explicit: e.configPath}
	// The server reads the configuration again for the workspace the editor
	// opens; reading it here too puts a broken file in the log even when no
	// editor ever initializes. A broken configuration does not stop the
	// server (an editor shows a dead server badly): it refuses model calls
	// and tells the user what to fix until the file is fixed.
	if _, err := loader.Load(wd); err != nil {
		e.log.Error("configuration error: model calls are refused until it is fixed", "err", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	e.log.Info("lsp-router serving on stdio", "version", version)
	framing.Logger = e.log
	return lsp.Serve(ctx, lsp.NewStream(stdio{}, framing), lsp.Options{
		Loader:    loader,
		NewEngine: engineFactory(e),
		Logger:    e.log,
		Version:   version,
	})
}
