package discovery

import (
	"context"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// BenchmarkScanNothingListening scans every default endpoint on 127.0.0.1
// (11 addresses) where, on a machine without LLM servers, every connection
// is refused.
func BenchmarkScanNothingListening(b *testing.B) {
	cfg := Config{HostAliases: []string{}}
	for i := 0; i < b.N; i++ {
		svcs, err := Scan(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if len(svcs) != 0 {
			b.Skipf("something listens on a default port here: %+v", svcs[0].Endpoint)
		}
	}
}

// BenchmarkScanBlackHole scans 20 custom endpoints: 19 live doubles of
// assorted kinds and one listener that accepts and never answers. The scan
// should cost about one probe timeout (set to 300 ms here), not twenty.
func BenchmarkScanBlackHole(b *testing.B) {
	const timeout = 300 * time.Millisecond
	kinds := llm.AllKinds()
	var eps []CustomEndpoint
	for i := 0; i < 19; i++ {
		srv := llmtest.New(kinds[i%len(kinds)], llmtest.Options{})
		defer srv.Close()
		eps = append(eps, CustomEndpoint{Endpoint: srv.URL})
	}
	eps = append(eps, CustomEndpoint{Name: "hole", Endpoint: blackHole(b)})
	cfg := Config{NoDefaults: true, Custom: eps, HostAliases: []string{}, ProbeTimeout: timeout}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		svcs, err := Scan(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if len(svcs) != 20 {
			b.Fatalf("got %d services", len(svcs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(timeout.Milliseconds()), "timeouts/op")
}
