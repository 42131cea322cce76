package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func init() {
	sections = append(sections,
		section{"router overhead", benchOverhead},
		section{"relay", benchRelay},
		section{"cancellation", benchCancel},
		section{"growth", benchGrowth},
		section{"memory after requests", benchMemoryAfterRequests},
	)
}

// double is an instant Ollama double that records when each chat request
// reaches it.
type double struct {
	srv     *llmtest.Server
	arrived chan time.Time
}

func newDouble(opts llmtest.Options) *double {
	d := &double{arrived: make(chan time.Time, 1024)}
	reply := opts.Reply
	if reply == "" {
		reply = "It reverses the words."
	}
	opts.ReplyFunc = func(llmtest.ChatRequest) string {
		d.arrived <- time.Now()
		return reply
	}
	if opts.Models == nil {
		opts.Models = []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 262144, Loaded: true}}
	}
	d.srv = llmtest.New(llm.KindOllama, opts)
	return d
}

// configFor writes a config that probes only the double.
func configFor(dir, url string) (string, error) {
	var b strings.Builder
	for _, k := range []string{"ollama", "lmstudio", "jan", "openwebui", "localai", "vllm", "llamacpp", "koboldcpp", "gpt4all", "textgenwebui", "tgi", "sglang"} {
		if k == "ollama" {
			fmt.Fprintf(&b, "[services.ollama]\nendpoint = %q\n", url)
		} else {
			fmt.Fprintf(&b, "[services.%s]\nenabled = false\n", k)
		}
	}
	// Context gathering is stubbed as the budget asks: no language server,
	// only the in-process syntax and buffer sources (measured separately).
	b.WriteString("[language_servers.go]\nenabled = false\n")
	fmt.Fprintf(&b, "[generation]\nmax_answer_tokens = 512\n[security]\naudit_log_path = %q\n", filepath.Join(dir, "audit.jsonl"))
	path := filepath.Join(dir, "bench.toml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// session is a running binary wired to a double, with one open file.
type session struct {
	p    *proc
	d    *double
	path string
}

func (s *suite) session(ctx context.Context, d *double, source string) (*session, error) {
	dir, err := os.MkdirTemp("", "bench-cfg")
	if err != nil {
		return nil, err
	}
	cfg, err := configFor(dir, d.srv.URL)
	if err != nil {
		return nil, err
	}
	p, _, err := s.startWithEnv(ctx, cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(p.dir, "main.go")
	if err := p.ed.Open(ctx, path, "go", source); err != nil {
		return nil, err
	}
	return &session{p: p, d: d, path: path}, nil
}

// explain runs one explain command at line 9 (inside the function).
func (s *session) explain(ctx context.Context) error {
	_, err := s.p.ed.Execute(ctx, "lsp-router.explain", s.p.ed.Args(s.path, codectx.Range{Start: codectx.Position{Line: 9, Character: 1}, End: codectx.Position{Line: 9, Character: 1}}, ""))
	return err
}

// sourceWithTokens is a Go file whose function body holds about n tokens.
func sourceWithTokens(n int) string {
	var b strings.Builder
	b.WriteString("// Package main is a benchmark input.\npackage main\n\nimport \"strings\"\n\n// reverseWords reverses words.\n// It is long on purpose.\n\nfunc reverseWords(s string) string {\n\twords := strings.Fields(s)\n")
	for i := 0; b.Len() < n*4; i++ {
		fmt.Fprintf(&b, "\twords = append(words, strings.Repeat(\"w%d\", %d))\n", i, i%7)
	}
	b.WriteString("\treturn strings.Join(words, \" \")\n}\n\nfunc main() { println(reverseWords(\"a b\")) }\n")
	return b.String()
}

// overheadSamples measures executeCommand -> first byte at the double, and
// the same body sent straight to the double.
func (s *suite) overheadSamples(tokens, reps int) (router, direct []float64, err error) {
	ctx := context.Background()
	d := newDouble(llmtest.Options{})
	defer d.srv.Close()
	sess, err := s.session(ctx, d, sourceWithTokens(tokens))
	if err != nil {
		return nil, nil, err
	}
	defer sess.p.stop()
	// Warm up: discovery, prompt templates, connection pools.
	for range 3 {
		if err := sess.explain(ctx); err != nil {
			return nil, nil, err
		}
		<-d.arrived
	}
	for range reps {
		t0 := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- sess.explain(ctx) }()
		at := <-d.arrived
		router = append(router, float64(at.Sub(t0).Microseconds())/1000)
		if err := <-errc; err != nil {
			return nil, nil, err
		}
	}
	chats := d.srv.Chats()
	body, _ := json.Marshal(chats[len(chats)-1].Raw)
	client := &http.Client{}
	for range reps {
		t0 := time.Now()
		resp, err := client.Post(d.srv.URL+"/api/chat", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		at := <-d.arrived
		resp.Body.Close()
		direct = append(direct, float64(at.Sub(t0).Microseconds())/1000)
	}
	return router, direct, nil
}

func benchOverhead(s *suite) error {
	r, dct, err := s.overheadSamples(10000, s.reps(200))
	if err != nil {
		return err
	}
	s.add("router overhead: executeCommand to first byte at LLM (10k-token prompt)", "ms", r, "p99 < 2 ms", "")
	s.add("direct request to first byte at LLM (same body)", "ms", dct, "", "")
	ratio := quantile(r, 0.5) / quantile(dct, 0.5)
	s.figures = append(s.figures, Figure{Name: "router / direct, median", Unit: "x", Median: ratio, P99: quantile(r, 0.99) / quantile(dct, 0.99), Runs: len(r)})
	return nil
}

func benchRelay(s *suite) error {
	ctx := context.Background()
	// Time to first token: the double answers at once; the editor sees the
	// "generating" progress report.
	d := newDouble(llmtest.Options{})
	sess, err := s.session(ctx, d, sourceWithTokens(200))
	if err != nil {
		return err
	}
	var samples []float64
	for range s.reps(100) {
		before := len(sess.p.ed.Progress())
		if err := sess.explain(ctx); err != nil {
			return err
		}
		at := <-d.arrived
		for _, ev := range sess.p.ed.Progress()[before:] {
			if ev.Kind == "report" && strings.HasPrefix(ev.Message, "qwen2.5-coder:7b: ") {
				samples = append(samples, float64(ev.Time.Sub(at).Microseconds())/1000)
				break
			}
		}
	}
	sess.p.stop()
	d.srv.Close()
	s.add("relay: first token at the double to progress in the editor", "ms", samples, "", "includes the double's own chunk write")

	// Throughput: a 20,000-chunk answer through the whole pipeline.
	const chunks = 20000
	d = newDouble(llmtest.Options{Reply: strings.Repeat("tok ", chunks)})
	defer d.srv.Close()
	sess, err = s.session(ctx, d, sourceWithTokens(200))
	if err != nil {
		return err
	}
	defer sess.p.stop()
	var rates []float64
	for range s.reps(10) {
		if err := sess.explain(ctx); err != nil {
			return err
		}
		at := <-d.arrived
		rates = append(rates, chunks/time.Since(at).Seconds())
	}
	s.add("relay: chunks per second through engine and LSP server", "chunks/s", rates, ">= 5,000/s", "")
	return nil
}

func benchCancel(s *suite) error {
	ctx := context.Background()
	var samples []float64
	for range s.reps(30) {
		d := newDouble(llmtest.Options{Reply: strings.Repeat("word ", 5000), ChunkDelay: 2 * time.Millisecond})
		sess, err := s.session(ctx, d, sourceWithTokens(200))
		if err != nil {
			return err
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { sess.explain(cctx); close(done) }()
		<-d.arrived
		time.Sleep(20 * time.Millisecond) // generation under way
		t0 := time.Now()
		cancel() // $/cancelRequest
		select {
		case <-d.srv.ClientGone():
			samples = append(samples, float64(time.Since(t0).Microseconds())/1000)
		case <-time.After(5 * time.Second):
			return fmt.Errorf("upstream connection not closed after cancel")
		}
		<-done
		sess.p.stop()
		d.srv.Close()
	}
	s.add("cancellation: $/cancelRequest to upstream connection closed", "ms", samples, "< 20 ms", "")
	return nil
}

func benchGrowth(s *suite) error {
	for _, n := range []int{1000, 10000, 100000} {
		r, dct, err := s.overheadSamples(n, s.reps(50))
		if err != nil {
			return err
		}
		s.add(fmt.Sprintf("growth: overhead, %dk-token prompt", n/1000), "ms", r, "", fmt.Sprintf("direct median %.3f ms", quantile(dct, 0.5)))
	}
	ctx := context.Background()
	for _, k := range []int{1, 8, 64} {
		d := newDouble(llmtest.Options{})
		sess, err := s.session(ctx, d, sourceWithTokens(1000))
		if err != nil {
			return err
		}
		var samples []float64
		var mu sync.Mutex
		for range s.reps(10) {
			var wg sync.WaitGroup
			for range k {
				wg.Add(1)
				go func() {
					defer wg.Done()
					t0 := time.Now()
					if err := sess.explain(ctx); err == nil {
						mu.Lock()
						samples = append(samples, float64(time.Since(t0).Microseconds())/1000)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			for len(d.arrived) > 0 {
				<-d.arrived
			}
		}
		sess.p.stop()
		d.srv.Close()
		s.add(fmt.Sprintf("growth: whole request, %d concurrent", k), "ms", samples, "", "")
	}
	return nil
}

func benchMemoryAfterRequests(s *suite) error {
	ctx := context.Background()
	d := newDouble(llmtest.Options{})
	defer d.srv.Close()
	var samples []float64
	for range s.reps(3) {
		sess, err := s.session(ctx, d, sourceWithTokens(1000))
		if err != nil {
			return err
		}
		for range 1000 {
			if err := sess.explain(ctx); err != nil {
				return err
			}
			<-d.arrived
		}
		time.Sleep(200 * time.Millisecond)
		r, err := rssMB(sess.p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		samples = append(samples, r)
		sess.p.stop()
	}
	s.add("memory: RSS after 1,000 requests", "MB", samples, "", "")
	return nil
}
