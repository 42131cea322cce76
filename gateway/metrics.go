package gateway

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// metrics are the gateway's counters, written in the Prometheus text
// format by hand: a dozen series do not need a client library.
type metrics struct {
	mu       sync.Mutex
	byModel  map[modelKey]*modelStats
	requests map[reqKey]int64 // by endpoint and status code
	inflight int64
}

type modelKey struct{ model, service string }

type reqKey struct {
	endpoint string
	code     int
}

type modelStats struct {
	requests, errors, fallbacks int64
	tokensIn, tokensOut         int64
	ttft, duration              histogram
}

// Buckets in seconds: from a warm model's first token to a long answer.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

type histogram struct {
	counts []int64 // per bucket, not cumulative
	sum    float64
	n      int64
}

func (h *histogram) observe(d time.Duration) {
	if h.counts == nil {
		h.counts = make([]int64, len(latencyBuckets))
	}
	s := d.Seconds()
	for i, b := range latencyBuckets {
		if s <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += s
	h.n++
}

func newMetrics() *metrics {
	return &metrics{byModel: map[modelKey]*modelStats{}, requests: map[reqKey]int64{}}
}

func (m *metrics) stats(model, service string) *modelStats {
	k := modelKey{model, service}
	s := m.byModel[k]
	if s == nil {
		s = &modelStats{}
		m.byModel[k] = s
	}
	return s
}

// request records one HTTP request's outcome.
func (m *metrics) request(endpoint string, code int) {
	m.mu.Lock()
	m.requests[reqKey{endpoint, code}]++
	m.mu.Unlock()
}

func (m *metrics) addInflight(d int64) {
	m.mu.Lock()
	m.inflight += d
	m.mu.Unlock()
}

// generation records one routed generation. model and service are empty
// when no model answered.
type generation struct {
	model, service      string
	failed              bool
	fallbacks           int
	tokensIn, tokensOut int
	ttft, duration      time.Duration
}

func (m *metrics) generation(g generation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats(g.model, g.service)
	s.requests++
	if g.failed {
		s.errors++
	}
	s.fallbacks += int64(g.fallbacks)
	s.tokensIn += int64(g.tokensIn)
	s.tokensOut += int64(g.tokensOut)
	if g.ttft > 0 {
		s.ttft.observe(g.ttft)
	}
	s.duration.observe(g.duration)
}

func esc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// write writes the Prometheus text exposition (version 0.0.4).
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]modelKey, 0, len(m.byModel))
	for k := range m.byModel {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b modelKey) int { return strings.Compare(a.model+"\x00"+a.service, b.model+"\x00"+b.service) })
	lbl := func(k modelKey) string {
		return fmt.Sprintf(`model="%s",service="%s"`, esc(k.model), esc(k.service))
	}
	counter := func(name, help string, get func(*modelStats) int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		for _, k := range keys {
			fmt.Fprintf(w, "%s{%s} %d\n", name, lbl(k), get(m.byModel[k]))
		}
	}
	counter("lsp_router_gateway_model_requests_total", "Generations routed, by the model and service that answered (empty when none did).", func(s *modelStats) int64 { return s.requests })
	counter("lsp_router_gateway_model_errors_total", "Generations that failed.", func(s *modelStats) int64 { return s.errors })
	counter("lsp_router_gateway_fallbacks_total", "Candidates that failed before the one that answered.", func(s *modelStats) int64 { return s.fallbacks })
	fmt.Fprintf(w, "# HELP lsp_router_gateway_tokens_total Tokens, by direction (prompt, completion).\n# TYPE lsp_router_gateway_tokens_total counter\n")
	for _, k := range keys {
		s := m.byModel[k]
		fmt.Fprintf(w, "lsp_router_gateway_tokens_total{%s,direction=\"prompt\"} %d\n", lbl(k), s.tokensIn)
		fmt.Fprintf(w, "lsp_router_gateway_tokens_total{%s,direction=\"completion\"} %d\n", lbl(k), s.tokensOut)
	}
	hist := func(name, help string, get func(*modelStats) *histogram) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
		for _, k := range keys {
			h := get(m.byModel[k])
			var cum int64
			for i, b := range latencyBuckets {
				if h.counts != nil {
					cum += h.counts[i]
				}
				fmt.Fprintf(w, "%s_bucket{%s,le=\"%s\"} %d\n", name, lbl(k), strconv.FormatFloat(b, 'g', -1, 64), cum)
			}
			fmt.Fprintf(w, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, lbl(k), h.n)
			fmt.Fprintf(w, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, lbl(k), h.sum, name, lbl(k), h.n)
		}
	}
	hist("lsp_router_gateway_time_to_first_token_seconds", "Time from the request to the first answer token.", func(s *modelStats) *histogram { return &s.ttft })
	hist("lsp_router_gateway_request_duration_seconds", "Time from the request to the end of the answer.", func(s *modelStats) *histogram { return &s.duration })

	rk := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		rk = append(rk, k)
	}
	slices.SortFunc(rk, func(a, b reqKey) int {
		if c := strings.Compare(a.endpoint, b.endpoint); c != 0 {
			return c
		}
		return a.code - b.code
	})
	fmt.Fprintf(w, "# HELP lsp_router_gateway_http_requests_total HTTP requests, by API endpoint and status code.\n# TYPE lsp_router_gateway_http_requests_total counter\n")
	for _, k := range rk {
		fmt.Fprintf(w, "lsp_router_gateway_http_requests_total{endpoint=\"%s\",code=\"%d\"} %d\n", esc(k.endpoint), k.code, m.requests[k])
	}
	fmt.Fprintf(w, "# HELP lsp_router_gateway_inflight_requests Requests being answered now.\n# TYPE lsp_router_gateway_inflight_requests gauge\nlsp_router_gateway_inflight_requests %d\n", m.inflight)
}
