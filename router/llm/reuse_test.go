package llm_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// A finished answer leaves its connection open for the next request: a
// gateway at 200 requests a second would otherwise open (and pass the
// allowlist for) a connection per request.
func TestFinishedAnswersReuseTheirConnection(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{Reply: reply})
			defer srv.Close()
			var dials atomic.Int32
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}
			defer tr.CloseIdleConnections()
			c := llm.NewClient(service(kind, srv), &http.Client{Transport: tr}, fastOpts())
			for i := range 3 {
				if got, _, err := collect(t, c, context.Background(), chatReq(kind, "say hi")); err != nil || got != reply {
					t.Fatalf("chat %d: %q, %v", i, got, err)
				}
			}
			if n := dials.Load(); n != 1 {
				t.Fatalf("3 answers opened %d connections; want 1", n)
			}
		})
	}
}
