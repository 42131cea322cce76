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
	for _, c := range []struct {
		name    string
		reserve int
		want    int
	}{
		{"far below the window", 2048, 0},
		{"near the window", window - 400, 1},
	} {
		before := count()
		p := newPipeline(t, svcs, func(d *router.Deps) { d.MaxAnswerTokens = c.reserve })
		if _, err := p.Run(context.Background(), request(router.ActionExplain, ""), nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := count() - before; got != c.want {
			t.Errorf("%s: %d tokenize calls, want %d (paths %v)", c.name, got, c.want, srv.Paths())
		}
	}
}
