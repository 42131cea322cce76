package router

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/selection"
)

// fleet is a decision for one model served by n endpoints.
func fleet(n int) selection.Decision {
	var cands []selection.Choice
	for i := range n {
		cands = append(cands, selection.Choice{Model: "qwen2.5-coder:32b", Service: fmt.Sprintf("gpu%d", i),
			Endpoint: fmt.Sprintf("http://10.0.0.%d:8000", i+1), ServiceKind: "vllm", Level: selection.LevelPrimary})
	}
	return selection.Decision{Model: cands[0].Model, Service: cands[0].Service, Chosen: cands[0], Fallbacks: cands[1:]}
}

func conversation(i int) []Message {
	return []Message{{Role: "system", Content: "You are a coding agent. " + strings.Repeat("Rules. ", 50)},
		{Role: "user", Content: fmt.Sprintf("task %d: add a flag to the CLI", i)}}
}

func TestAffinityKeepsConversationsOnTheirEndpoint(t *testing.T) {
	var f inflight
	d := fleet(4)
	// 400 conversations open one request each (a steady agent load), then
	// each sends a follow-up: it must land where the first one did.
	first := map[int]string{}
	var releases []func()
	spread := map[string]int{}
	for i := range 400 {
		got, rel := f.reserve(d, AffinityKey(conversation(i)), true)
		first[i] = got.Chosen.Endpoint
		spread[got.Chosen.Endpoint]++
		releases = append(releases, rel)
	}
	for _, n := range spread {
		if n > 125 { // 1.25 × the average of 100
			t.Errorf("an endpoint took %d of 400 conversations: %v", n, spread)
		}
	}
	for _, r := range releases {
		r()
	}
	same := 0
	for i := range 400 {
		follow := append(conversation(i), Message{Role: "assistant", Content: "done"}, Message{Role: "user", Content: "now add tests"})
		got, rel := f.reserve(d, AffinityKey(follow), true)
		if got.Chosen.Endpoint == first[i] {
			same++
		}
		rel()
	}
	if same < 380 { // 95%
		t.Errorf("%d/400 follow-ups on the conversation's endpoint, want >= 95%%", same)
	}
}

func TestAffinityYieldsToAnOverloadedEndpoint(t *testing.T) {
	var f inflight
	d := fleet(3)
	key := AffinityKey(conversation(7))
	home, rel := f.reserve(d, key, true)
	rel()
	// The conversation's endpoint is busy with 20 requests, the others idle.
	for range 20 {
		f.add(home.Chosen.Endpoint, 1)
	}
	got, rel := f.reserve(d, key, true)
	rel()
	if got.Chosen.Endpoint == home.Chosen.Endpoint {
		t.Fatalf("the request stayed on the overloaded endpoint %s", home.Chosen.Endpoint)
	}
	// The endpoint left as a fallback, not dropped.
	found := false
	for _, c := range got.Fallbacks {
		found = found || c.Endpoint == home.Chosen.Endpoint
	}
	if !found {
		t.Errorf("the busy endpoint is no longer a fallback: %+v", got.Fallbacks)
	}
}

func TestQueueDepthCountsAsLoad(t *testing.T) {
	d := fleet(2)
	// Without affinity, least outstanding: the server's own queue decides.
	f := inflight{queue: func(endpoint, kind string) int {
		if endpoint == d.Chosen.Endpoint {
			return 9
		}
		return 0
	}}
	got, rel := f.reserve(d, 0, true)
	rel()
	if got.Chosen.Endpoint == d.Chosen.Endpoint {
		t.Fatalf("chose the endpoint with 9 queued requests")
	}
}

func TestNoAffinityIsLeastOutstanding(t *testing.T) {
	var f inflight
	d := fleet(3)
	counts := map[string]int{}
	var rels []func()
	for range 9 {
		got, rel := f.reserve(d, 0, true)
		counts[got.Chosen.Endpoint]++
		rels = append(rels, rel)
	}
	for ep, n := range counts {
		if n != 3 {
			t.Errorf("%s got %d of 9 concurrent requests: %v", ep, n, counts)
		}
	}
	for _, r := range rels {
		r()
	}
}

func TestAffinityKeyIgnoresLaterTurns(t *testing.T) {
	a := AffinityKey(conversation(1))
	b := AffinityKey(append(conversation(1), Message{Role: "assistant", Content: "x"}, Message{Role: "user", Content: "y"}))
	if a == 0 || a != b {
		t.Errorf("keys %d %d", a, b)
	}
	if AffinityKey(conversation(2)) == a {
		t.Error("two conversations share a key")
	}
	if AffinityKey([]Message{{Role: "system", Content: "s"}}) != 0 {
		t.Error("a conversation without a user message got a key")
	}
}

// vllmMetrics is an excerpt of vLLM 0.11's /metrics (vllm/v1/metrics/loggers.py
// gauge names), with two models.
const vllmMetrics = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen2.5-Coder-32B-Instruct"} 4.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen2.5-Coder-32B-Instruct"} 3.0
vllm:num_requests_waiting{engine="1",model_name="Qwen/Qwen2.5-Coder-7B-Instruct"} 2.0
vllm:num_requests_waiting_by_reason{reason="capacity"} 50.0
`

func TestParseQueueDepth(t *testing.T) {
	if n, ok := ParseQueueDepth(strings.NewReader(vllmMetrics)); !ok || n != 5 {
		t.Errorf("vllm: %d %v, want 5", n, ok)
	}
	sg := "# TYPE sglang:num_queue_reqs gauge\nsglang:num_queue_reqs{model_name=\"m\"} 7\n"
	if n, ok := ParseQueueDepth(strings.NewReader(sg)); !ok || n != 7 {
		t.Errorf("sglang: %d %v", n, ok)
	}
	if _, ok := ParseQueueDepth(strings.NewReader("go_goroutines 12\nvllm:num_requests_waiting{x=\"1\"} NaN-ish\n")); ok {
		t.Error("found a depth where there is none")
	}
}

func TestQueueDepthsPollsVLLMMetricsWithoutBlocking(t *testing.T) {
	hits := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		hits <- struct{}{}
		io.WriteString(w, vllmMetrics)
	}))
	defer srv.Close()
	q := NewQueueDepths(srv.Client(), time.Hour)
	if q.Depth(srv.URL, "ollama") != 0 || len(hits) != 0 {
		t.Fatal("polled a server kind that has no queue gauge")
	}
	// The first read answers at once (unknown: 0) and starts one poll.
	if n := q.Depth(srv.URL+"/v1", "vllm"); n != 0 {
		t.Fatalf("first read %d", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for q.Depth(srv.URL+"/v1", "vllm") != 5 {
		if time.Now().After(deadline) {
			t.Fatal("the queue depth never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(hits) != 1 {
		t.Errorf("%d polls within the TTL, want 1", len(hits))
	}
}

func TestEditorConversationFollowsWhereItWent(t *testing.T) {
	var f inflight
	d := fleet(2)
	busy, relBusy := f.reserve(d, 0, false) // another request keeps one endpoint busy
	key := AffinityKey(conversation(3))
	first, rel := f.reserve(d, key, false)
	if first.Chosen.Endpoint == busy.Chosen.Endpoint {
		t.Fatalf("a new editor conversation went to the busy endpoint")
	}
	rel()
	relBusy()
	// Both idle now: least outstanding would pick the first endpoint; the
	// follow-up goes where its conversation went.
	for range 3 {
		got, rel := f.reserve(d, key, false)
		rel()
		if got.Chosen.Endpoint != first.Chosen.Endpoint {
			t.Fatalf("follow-up on %s, conversation on %s", got.Chosen.Endpoint, first.Chosen.Endpoint)
		}
	}
}
