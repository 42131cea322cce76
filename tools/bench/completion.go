package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func init() {
	sections = append(sections, section{"completion", benchCompletion})
}

// completionSession is the binary with [completion] context_tokens = 4096,
// wired to an Ollama double whose FIM route records each arrival.
func (s *suite) completionSession(ctx context.Context, opts llmtest.Options, source string) (*session, *llmtest.Server, chan time.Time, error) {
	arrived := make(chan time.Time, 20000)
	if opts.FirstTokenDelay == 0 {
		opts.FIMFunc = func(llmtest.FIMRequest) string {
			arrived <- time.Now()
			return "return a + b"
		}
	}
	opts.Models = []llmtest.Model{{ID: "qwen2.5-coder:1.5b", ContextLength: 32768, Loaded: true}}
	srv := llmtest.New(llm.KindOllama, opts)
	dir, err := os.MkdirTemp("", "bench-cfg")
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := configFor(dir, srv.URL)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	fmt.Fprintf(f, "[completion]\ncontext_tokens = 4096\n")
	f.Close()
	p, _, err := s.startWithEnv(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	path := p.dir + "/main.go"
	if err := p.ed.Open(ctx, path, "go", source); err != nil {
		return nil, nil, nil, err
	}
	return &session{p: p, path: path}, srv, arrived, nil
}

// inline sends textDocument/inlineCompletion at line (column 1).
func (se *session) inline(ctx context.Context, line int, kind protocol.InlineCompletionTriggerKind) error {
	_, err := se.p.ed.Server.InlineCompletion(ctx, &protocol.InlineCompletionParams{
		TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: uri.URI(fakeeditor.URI(se.path))},
			Position:     protocol.Position{Line: uint32(line), Character: 1}},
		Context: protocol.InlineCompletionContext{TriggerKind: kind}})
	return err
}

// waitUntil polls cond every 50 µs (a channel is not available for every
// count the double keeps), failing after 10 s.
func waitUntil(cond func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out")
		}
		time.Sleep(50 * time.Microsecond)
	}
	return nil
}

func benchCompletion(s *suite) error {
	ctx := context.Background()
	source := sourceWithTokens(6000) // more than the 4k-token window
	// Cursor lines 20..20+lines stay inside the function body.
	lines := strings.Count(source, "\n") - 30

	// 1. Request to first byte at the server, 4k-token context, the cache
	// missed (each request at another line).
	se, srv, arrived, err := s.completionSession(ctx, llmtest.Options{}, source)
	if err != nil {
		return err
	}
	for i := range 5 { // warm up: discovery, connections
		if err := se.inline(ctx, 12+i, protocol.InlineCompletionTriggerKindInvoked); err != nil {
			return err
		}
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("warm-up completion never reached the double")
		}
	}
	var first []float64
	for i := range s.reps(300) {
		t0 := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- se.inline(ctx, 20+i%lines, protocol.InlineCompletionTriggerKindInvoked) }()
		var at time.Time
		select {
		case at = <-arrived:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("completion %d never reached the double", i)
		}
		first = append(first, float64(at.Sub(t0).Microseconds())/1000)
		if err := <-errc; err != nil {
			return err
		}
	}
	s.add("completion: request to first byte at the server (4k-token context)", "ms", first, "p50 < 2 ms, p99 < 5 ms", "audit on, redaction on, cache missed")

	// 4. Memory over 10,000 completions: RSS after 1,000 (warm) and after
	// 10,000 more.
	total := 10000
	if s.quick {
		total = 1000
	}
	// Each completion follows an edit of the line above the cursor, so
	// none is served from the cache and every one reaches the double.
	text := strings.Split(source, "\n")
	runOne := func(i int) error {
		above := 19 + i%lines
		next := fmt.Sprintf("\t// edit %d", i)
		if err := se.p.ed.Edit(ctx, se.path, codectx.Range{Start: codectx.Position{Line: above}, End: codectx.Position{Line: above, Character: len(text[above])}}, next); err != nil {
			return err
		}
		text[above] = next
		if err := se.inline(ctx, 20+i%lines, protocol.InlineCompletionTriggerKindInvoked); err != nil {
			return err
		}
		select {
		case <-arrived:
			return nil
		case <-time.After(10 * time.Second):
			return fmt.Errorf("completion %d never reached the double (%d requests there)", i, len(srv.FIMRequests()))
		}
	}
	for i := range 1000 {
		if err := runOne(i); err != nil {
			return err
		}
	}
	runtime.GC()
	before, err := rssMB(se.p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	for i := range total {
		if err := runOne(1000 + i); err != nil {
			return err
		}
	}
	after, err := rssMB(se.p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	s.figures = append(s.figures, Figure{Name: fmt.Sprintf("completion: RSS after 1,000 completions -> after %d more", total), Unit: "MB",
		Median: before, P99: after, Runs: total, Target: "flat", Note: fmt.Sprintf("growth %.1f MB (median column: before, p99 column: after)", after-before)})
	se.p.stop()
	srv.Close()

	// 2. A superseded request is cancelled upstream: the double holds each
	// request; a newer request for the same document closes the older
	// one's connection.
	se, srv, _, err = s.completionSession(ctx, llmtest.Options{FirstTokenDelay: time.Hour}, source)
	if err != nil {
		return err
	}
	var cancels []float64
	sent := 0
	for i := range s.reps(100) {
		go se.inline(ctx, 20+2*i, protocol.InlineCompletionTriggerKindInvoked)
		sent++
		want := sent
		if err := waitUntil(func() bool {
			return len(srv.FIMRequests()) >= want && srv.FIMCancelled() >= int64(want-1)
		}); err != nil {
			return fmt.Errorf("request %d never reached the double (%d there, %d cancelled): %w", want, len(srv.FIMRequests()), srv.FIMCancelled(), err)
		}
		t0 := time.Now()
		go se.inline(ctx, 21+2*i, protocol.InlineCompletionTriggerKindInvoked)
		sent++
		if err := waitUntil(func() bool { return srv.FIMCancelled() >= int64(want) }); err != nil {
			return fmt.Errorf("superseded request %d stayed open upstream: %w", want, err)
		}
		cancels = append(cancels, float64(time.Since(t0).Microseconds())/1000)
		// The newer request must reach the double before the next round
		// supersedes it in turn.
		if err := waitUntil(func() bool { return len(srv.FIMRequests()) >= want+1 }); err != nil {
			return fmt.Errorf("request %d never reached the double: %w", want+1, err)
		}
	}
	se.p.stop()
	srv.Close()
	s.add("completion: newer request to the superseded one closed upstream", "ms", cancels, "< 5 ms", "measured from the editor sending the newer request")

	// 3. 50 keystrokes 30 ms apart, each with an automatic request: the
	// server's debounce (75 ms) lets only requests after a pause through.
	se, srv, _, err = s.completionSession(ctx, llmtest.Options{}, source)
	if err != nil {
		return err
	}
	defer srv.Close()
	defer se.p.stop()
	var upstream []float64
	for range s.reps(5) {
		before := len(srv.FIMRequests())
		done := make(chan error, 50)
		col := 1
		for k := range 50 {
			at := codectx.Position{Line: 12, Character: col}
			if err := se.p.ed.Edit(ctx, se.path, codectx.Range{Start: at, End: at}, "x"); err != nil {
				return err
			}
			col++
			go func() {
				_, err := se.p.ed.Server.InlineCompletion(ctx, &protocol.InlineCompletionParams{
					TextDocumentPositionParams: protocol.TextDocumentPositionParams{
						TextDocument: protocol.TextDocumentIdentifier{URI: uri.URI(fakeeditor.URI(se.path))},
						Position:     protocol.Position{Line: 12, Character: uint32(col)}},
					Context: protocol.InlineCompletionContext{TriggerKind: protocol.InlineCompletionTriggerKindAutomatic}})
				done <- err
			}()
			if k < 49 {
				time.Sleep(30 * time.Millisecond)
			}
		}
		for range 50 {
			if err := <-done; err != nil {
				return err
			}
		}
		upstream = append(upstream, float64(len(srv.FIMRequests())-before))
	}
	s.add("completion: upstream requests for 50 keystrokes 30 ms apart", "requests", upstream, "debounced (1 expected)", "automatic trigger, debounce 75 ms; 50 without it")
	return nil
}
