package router_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// TestTokenizeOnlyNearTheWindow: a server with a tokenizer (vLLM) gets the
// prompt once when it is far below the model's window, and a token count
// first only when the estimate comes near the window.
func TestTokenizeOnlyNearTheWindow(t *testing.T) {
	srv := llmtest.New(llm.KindVLLM, llmtest.Options{Reply: "It reverses."})
	defer srv.Close()
	svcs := &fixedServices{services: []llm.Service{serviceOf(srv, "vLLM", 1)}}
	window := svcs.services[0].Models[0].ContextLength
	count := func() int {
		n := 0
		for _, p := range srv.Paths() {
			if strings.Contains(p, "tokenize") {
				n++
			}
		}
		return n
	}
	// The answer's reserve is at most a quarter of the window, so "near" is
	// a question that nearly fills the window: about 1,650 estimated tokens
	// plus a 750-token reserve in 3,000 (selection's conservative estimate
	// still fits, the family estimate is within 20% of the window).
	long := strings.Repeat("why is this slow? ", 300)
	for _, c := range []struct {
		name     string
		window   int
		question string
		want     int
	}{
		{"far below the window", window, "", 0},
		{"near the window", 3000, long, 1},
	} {
		before := count()
		svcs.services[0].Models[0].ContextLength = c.window
		p := newPipeline(t, svcs, func(d *router.Deps) { d.MaxAnswerTokens = 2048 })
		req := request(router.ActionExplain, "")
		if c.question != "" {
			req = request(router.ActionAsk, c.question)
		}
		if _, err := p.Run(context.Background(), req, nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := count() - before; got != c.want {
			t.Errorf("%s: %d tokenize calls, want %d (paths %v)", c.name, got, c.want, srv.Paths())
		}
	}
}
