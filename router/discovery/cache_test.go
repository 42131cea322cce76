package discovery

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// freeAddr returns a loopback address nothing listens on (the port was
// just released by the kernel).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func serving(svcs []llm.Service) int {
	n := 0
	for _, s := range svcs {
		if s.Status == llm.StatusOnline {
			n++
		}
	}
	return n
}

func TestNoServiceIsNotCached(t *testing.T) {
	addr := freeAddr(t)
	c, err := NewCache(customCfg(CustomEndpoint{Endpoint: "http://" + addr, Kind: llm.KindOllama}), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	svcs, err := c.Services(ctx)
	if err != nil || serving(svcs) != 0 {
		t.Fatalf("nothing runs yet: %v %+v", err, svcs)
	}
	// The user starts the server: the next request finds it, although the
	// TTL (an hour) has not passed.
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Addr: addr})
	defer srv.Close()
	svcs, err = c.Services(ctx)
	if err != nil || serving(svcs) != 1 {
		t.Fatalf("the new server was not found: %v %+v", err, svcs)
	}
	// A positive result is cached for the TTL: no new probe.
	reqs := srv.Requests()
	if svcs, _ := c.Services(ctx); serving(svcs) != 1 || srv.Requests() != reqs {
		t.Fatalf("a found service must be cached: %d new requests", srv.Requests()-reqs)
	}
}
