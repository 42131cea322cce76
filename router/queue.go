package router

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
)

// QueueDepths polls the Prometheus /metrics of the servers that expose
// their queue (vLLM: vllm:num_requests_waiting; SGLang:
// sglang:num_queue_reqs), so that the balancer sees requests other routers
// sent to a shared GPU host. A read never waits for the network: it returns
// the last value and, when that is older than the TTL, starts one refresh
// in the background.
type QueueDepths struct {
	http *http.Client
	ttl  time.Duration
	mu   sync.Mutex
	m    map[string]*queueEntry
}

type queueEntry struct {
	depth    int
	at       time.Time
	fetching bool
}

// NewQueueDepths polls with client (the allowlist dialer's), trusting a
// value for ttl (1s when 0).
func NewQueueDepths(client *http.Client, ttl time.Duration) *QueueDepths {
	if ttl <= 0 {
		ttl = time.Second
	}
	return &QueueDepths{http: client, ttl: ttl, m: map[string]*queueEntry{}}
}

// Depth implements QueueDepthFunc.
func (q *QueueDepths) Depth(endpoint, kind string) int {
	if kind != string(llm.KindVLLM) && kind != string(llm.KindSGLang) {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.m[endpoint]
	if e == nil {
		e = &queueEntry{}
		q.m[endpoint] = e
	}
	if !e.fetching && time.Since(e.at) > q.ttl {
		e.fetching = true
		go q.refresh(endpoint, e)
	}
	return e.depth
}

func (q *QueueDepths) refresh(endpoint string, e *queueEntry) {
	ctx, cancel := context.WithTimeout(context.Background(), q.ttl)
	defer cancel()
	depth, ok := fetchQueueDepth(ctx, q.http, endpoint)
	q.mu.Lock()
	defer q.mu.Unlock()
	e.fetching, e.at = false, time.Now()
	if ok {
		e.depth = depth
	} else {
		e.depth = 0 // unknown counts as empty: only in-flight counts decide
	}
}

// fetchQueueDepth reads the waiting-request gauges from endpoint's /metrics
// (at most 1 MiB), summing them over models.
func fetchQueueDepth(ctx context.Context, client *http.Client, endpoint string) (int, bool) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, llm.BaseURL(endpoint)+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	return ParseQueueDepth(io.LimitReader(resp.Body, 1<<20))
}

// ParseQueueDepth sums vllm:num_requests_waiting and sglang:num_queue_reqs
// samples of a Prometheus text exposition; ok is false when neither is
// present.
func ParseQueueDepth(r io.Reader) (depth int, ok bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	var sum float64
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "vllm:num_requests_waiting") && !strings.HasPrefix(line, "sglang:num_queue_reqs") {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if name != "vllm:num_requests_waiting" && name != "sglang:num_queue_reqs" {
			continue
		}
		rest := line[len(name):]
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				continue
			}
			rest = rest[j+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil || v < 0 || v > 1e6 {
			continue
		}
		sum += v
		ok = true
	}
	return int(sum), ok
}
