// Command fakellm serves one llmtest double of a local LLM server until it is
// killed, so tests outside Go (the Neovim plugin's) can talk to a server with
// a known answer. It prints the server's base URL as the first line of
// stdout.
//
//	go run ./tools/fakellm --kind ollama --addr 127.0.0.1:0 --reply-file answer.txt
//	go run ./tools/fakellm --kind vllm --echo
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

type modelList []string

func (m *modelList) String() string     { return strings.Join(*m, ",") }
func (m *modelList) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakellm:", err)
		os.Exit(2)
	}
}

// run serves until ctx ends (SIGINT or SIGTERM in main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakellm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kindName := fs.String("kind", "ollama", "server to imitate: "+kindNames())
	addr := fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	reply := fs.String("reply", "", "answer text")
	replyFile := fs.String("reply-file", "", "file whose content is the answer")
	echo := fs.Bool("echo", false, "answer with the last user message")
	chunkDelay := fs.Duration("chunk-delay", 0, "pause between streamed chunks")
	firstDelay := fs.Duration("first-token-delay", 0, "pause before the first chunk")
	ctxLen := fs.Int("context-length", 32768, "context length reported for the models")
	apiKey := fs.String("api-key", "", "require this Bearer key where the real server would")
	var models modelList
	fs.Var(&models, "model", "model id to serve (repeatable; default: the server's usual default model)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kind, err := llm.ParseKind(*kindName)
	if err != nil {
		return err
	}
	opts := llmtest.Options{Addr: *addr, Echo: *echo, Reply: *reply, ChunkDelay: *chunkDelay,
		FirstTokenDelay: *firstDelay, APIKey: *apiKey}
	if *replyFile != "" {
		b, err := os.ReadFile(*replyFile)
		if err != nil {
			return fmt.Errorf("read --reply-file: %w", err)
		}
		opts.Reply = string(b)
		if opts.Reply == "" {
			// An empty file means an empty answer, not the default greeting.
			opts.ReplyFunc = func(llmtest.ChatRequest) string { return "" }
		}
	}
	if opts.Reply != "" && opts.Echo {
		return fmt.Errorf("--echo and --reply/--reply-file exclude each other: pick one")
	}
	def := llmtest.DefaultModel(kind)
	def.ContextLength = *ctxLen
	if len(models) == 0 {
		opts.Models = []llmtest.Model{def}
	}
	for _, id := range models {
		m := def
		m.ID = id
		opts.Models = append(opts.Models, m)
	}
	srv, err := llmtest.Start(kind, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(stdout, srv.URL)
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync()
	}
	fmt.Fprintf(stderr, "fakellm: serving a %s double at %s (models: %s)\n", kind.DisplayName(), srv.URL, modelIDs(opts.Models))
	<-ctx.Done()
	return nil
}

func kindNames() string {
	var names []string
	for _, k := range llm.AllKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func modelIDs(ms []llmtest.Model) string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return strings.Join(ids, ", ")
}
