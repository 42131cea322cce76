package selection

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/catalog"
)

// fakeClock is an injectable clock for the breakers.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// script answers attempts by model (and level) and records every call.
type script struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error // "model" or "model/level"
}

func (s *script) attempt(ctx context.Context, c Choice, lvl Level) error {
	s.mu.Lock()
	s.calls = append(s.calls, c.Model+"/"+lvl.String())
	s.mu.Unlock()
	if err, ok := s.fail[c.Model+"/"+lvl.String()]; ok {
		return err
	}
	return s.fail[c.Model]
}

var (
	errMissing = Mark(KindModelMissing, errors.New(`ollama: 404 {"error":"model \"qwen2.5-coder:32b\" not found, try pulling it first"}`))
	err500     = fmt.Errorf("ollama chat: %w", Mark(KindRetryable, errors.New("HTTP 500: llama runner process has terminated")))
	errTooLong = fmt.Errorf("vllm chat: %w: maximum context length is 8192 tokens", ErrContextTooLong)
)

func decision(t *testing.T, prompt int, avail ...Available) Decision {
	t.Helper()
	d := Select(Request{Category: catalog.Coding, PromptTokens: prompt}, avail, nil, nil)
	if d.Err != nil {
		t.Fatal(d.Err)
	}
	return d
}

func threeModels(t *testing.T) Decision {
	return decision(t, 100,
		ollama("qwen2.5-coder:32b", 0, false),
		Available{Service: "LM Studio", Endpoint: "http://localhost:1234", ModelID: "qwen2.5-coder-14b-instruct", Chat: true, Priority: 2},
		ollama("qwen2.5-coder:1.5b", 0, false))
}

func TestModelMissingFallsBack(t *testing.T) {
	d := threeModels(t)
	s := &script{fail: map[string]error{"qwen2.5-coder:32b": errMissing}}
	res, err := (&Executor{}).Run(context.Background(), d, s.attempt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Choice.Model != "qwen2.5-coder-14b-instruct" || res.Level != LevelFallback {
		t.Errorf("answered by %s at %s", res.Choice.Model, res.Level)
	}
	if len(res.Attempts) != 1 || res.Attempts[0].Kind != KindModelMissing {
		t.Errorf("attempts %+v", res.Attempts)
	}
}

func TestServerErrorAndTimeoutFallBack(t *testing.T) {
	d := threeModels(t)
	timeout := fmt.Errorf("first token: %w", context.DeadlineExceeded) // the attempt's own deadline
	s := &script{fail: map[string]error{"qwen2.5-coder:32b": err500, "qwen2.5-coder-14b-instruct": timeout}}
	res, err := (&Executor{}).Run(context.Background(), d, s.attempt)
	if err != nil {
		t.Fatal(err)
	}
	want := "qwen2.5-coder:32b/primary qwen2.5-coder-14b-instruct/fallback qwen2.5-coder:1.5b/fallback"
	if got := strings.Join(s.calls, " "); got != want {
		t.Errorf("calls\n got %s\nwant %s", got, want)
	}
	if res.Level != LevelFallback || res.Attempts[0].Kind != KindRetryable || res.Attempts[1].Kind != KindRetryable {
		t.Errorf("result %+v", res)
	}
}

func TestContextTooLongRetriesReduced(t *testing.T) {
	d := decision(t, 100, ollama("qwen2.5-coder:32b", 0, false))
	s := &script{fail: map[string]error{"qwen2.5-coder:32b/primary": errTooLong}}
	res, err := (&Executor{}).Run(context.Background(), d, s.attempt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Level != LevelReducedContext || !res.Level.Reduced() || res.Choice.Model != "qwen2.5-coder:32b" {
		t.Errorf("result %+v", res)
	}
	if got := strings.Join(s.calls, " "); got != "qwen2.5-coder:32b/primary qwen2.5-coder:32b/reduced context" {
		t.Errorf("calls %s", got)
	}
}

func TestAllFailingListsEveryAttempt(t *testing.T) {
	d := threeModels(t)
	s := &script{fail: map[string]error{
		"qwen2.5-coder:32b":          errTooLong,
		"qwen2.5-coder-14b-instruct": errMissing,
		"qwen2.5-coder:1.5b":         err500,
	}}
	res, err := (&Executor{}).Run(context.Background(), d, s.attempt)
	var ex *ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("err = %v, want *ExhaustedError", err)
	}
	// primary, fallbacks, then reduced context on the best model that did not report the model
	// missing, then the smallest model with the reduced prompt.
	want := []string{"qwen2.5-coder:32b/primary", "qwen2.5-coder-14b-instruct/fallback", "qwen2.5-coder:1.5b/fallback",
		"qwen2.5-coder:32b/reduced context", "qwen2.5-coder:1.5b/smallest available"}
	if strings.Join(s.calls, " ") != strings.Join(want, " ") {
		t.Errorf("calls\n got %v\nwant %v", s.calls, want)
	}
	if len(res.Attempts) != len(want) || len(ex.Attempts) != len(want) {
		t.Errorf("attempts %d", len(ex.Attempts))
	}
	msg := err.Error()
	for _, frag := range []string{
		"no local model could answer the coding request after 5 attempts",
		"1. qwen2.5-coder:32b on Ollama [primary]: context too long: vllm chat: context too long: maximum context length is 8192 tokens",
		"2. qwen2.5-coder-14b-instruct on LM Studio [fallback]: model missing: ollama: 404",
		"3. qwen2.5-coder:1.5b on Ollama [fallback]: retryable: ollama chat: HTTP 500",
		"4. qwen2.5-coder:32b on Ollama [reduced context]",
		"5. qwen2.5-coder:1.5b on Ollama [smallest available]: retryable",
		"lsp-router models",
	} {
		if !strings.Contains(msg, frag) {
			t.Errorf("message lacks %q:\n%s", frag, msg)
		}
	}
	if !errors.Is(err, ErrContextTooLong) {
		t.Error("attempt errors should be reachable with errors.Is")
	}
}

func TestCircuitBreakerSkipsAndReprobes(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	br := NewBreakers(2, time.Minute, clock.Now)
	x := &Executor{Breakers: br}
	d := decision(t, 100, ollama("qwen2.5-coder:32b", 0, false),
		Available{Service: "LM Studio", Endpoint: "http://localhost:1234", ModelID: "qwen2.5-coder-14b-instruct", Chat: true, Priority: 2})
	down := &script{fail: map[string]error{"qwen2.5-coder:32b": err500}}

	// Two requests: Ollama's primary attempt fails each time (two consecutive failures),
	// LM Studio answers as the fallback.
	for i := 0; i < 2; i++ {
		if res, err := x.Run(context.Background(), d, down.attempt); err != nil || res.Choice.Service != "LM Studio" {
			t.Fatalf("run %d: %v %+v", i, err, res)
		}
	}
	if st := br.State("http://127.0.0.1:11434"); st != Open {
		t.Fatalf("breaker %s, want open", st)
	}
	down.calls = nil
	res, err := x.Run(context.Background(), d, down.attempt)
	if err != nil {
		t.Fatal(err)
	}
	if len(down.calls) != 1 || down.calls[0] != "qwen2.5-coder-14b-instruct/fallback" {
		t.Errorf("open breaker: Ollama should not be called: %v", down.calls)
	}
	if res.Attempts[0].Kind != KindCircuitOpen || !strings.Contains(res.Attempts[0].Err.Error(), "skipped for another 1m0s") {
		t.Errorf("skip not recorded: %+v", res.Attempts)
	}

	// After the cool-down one probe goes through; it succeeds and the breaker closes.
	clock.Advance(61 * time.Second)
	if st := br.State("http://127.0.0.1:11434"); st != HalfOpen {
		t.Fatalf("state %s, want half-open", st)
	}
	up := &script{}
	res, err = x.Run(context.Background(), d, up.attempt)
	if err != nil || res.Choice.Model != "qwen2.5-coder:32b" || res.Level != LevelPrimary {
		t.Fatalf("probe: %v %+v", err, res)
	}
	if st := br.State("http://127.0.0.1:11434"); st != Closed {
		t.Errorf("state %s after successful probe", st)
	}
}

func TestBreakerHalfOpenSingleProbe(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	br := NewBreakers(1, 10*time.Second, clock.Now)
	br.Failure("svc")
	if err := br.Allow("svc"); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("want open, got %v", err)
	}
	clock.Advance(10 * time.Second)
	if err := br.Allow("svc"); err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	if err := br.Allow("svc"); err == nil || !strings.Contains(err.Error(), "re-probed") {
		t.Fatalf("second caller during probe: %v", err)
	}
	br.Failure("svc") // probe failed: open again for a full cool-down
	clock.Advance(9 * time.Second)
	if err := br.Allow("svc"); err == nil {
		t.Fatal("should still be open")
	}
	clock.Advance(time.Second)
	if err := br.Allow("svc"); err != nil {
		t.Fatal(err)
	}
	br.Success("svc")
	if br.State("svc") != Closed || br.Allow("svc") != nil {
		t.Error("success should close")
	}
	var nilBr *Breakers
	if nilBr.Allow("x") != nil || nilBr.State("x") != Closed {
		t.Error("nil breakers must allow everything")
	}
}

func TestModelMissingDoesNotTripBreaker(t *testing.T) {
	br := NewBreakers(1, time.Minute, nil)
	d := threeModels(t)
	s := &script{fail: map[string]error{"qwen2.5-coder:32b": errMissing}}
	if _, err := (&Executor{Breakers: br}).Run(context.Background(), d, s.attempt); err != nil {
		t.Fatal(err)
	}
	if st := br.State("http://127.0.0.1:11434"); st != Closed {
		t.Errorf("a 404 for a model means the service works; breaker %s", st)
	}
}

func TestCancelStopsAtOnce(t *testing.T) {
	d := threeModels(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := (&Executor{}).Run(ctx, d, func(ctx context.Context, c Choice, l Level) error {
		calls++
		cancel()
		return fmt.Errorf("stream: %w", ctx.Err())
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("err %v after %d calls; a cancel must not fall back", err, calls)
	}
}

func TestRunRefusesFailedDecision(t *testing.T) {
	d := Select(Request{Category: "nope"}, nil, nil, nil)
	if _, err := (&Executor{}).Run(context.Background(), d, (&script{}).attempt); err == nil || !strings.Contains(err.Error(), "unknown category") {
		t.Errorf("err %v", err)
	}
}

func TestClassifyError(t *testing.T) {
	cases := []struct {
		err  error
		want Kind
	}{
		{fmt.Errorf("x: %w", ErrModelMissing), KindModelMissing},
		{Mark(KindContextTooLong, errors.New("n_ctx exceeded")), KindContextTooLong},
		{fmt.Errorf("x: %w", ErrRetryable), KindRetryable},
		{context.DeadlineExceeded, KindRetryable},
		{fmt.Errorf("x: %w", context.Canceled), KindCanceled},
		{errors.New("weird"), KindOther},
	}
	for _, tc := range cases {
		if got := ClassifyError(tc.err); got != tc.want {
			t.Errorf("ClassifyError(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

func BenchmarkRunFallbackChain(b *testing.B) {
	avail := []Available{ollama("qwen2.5-coder:32b", 0, false), ollama("qwen2.5-coder:14b", 0, false), ollama("qwen2.5-coder:1.5b", 0, false)}
	d := Select(Request{Category: catalog.Coding}, avail, nil, nil)
	x := &Executor{}
	fail := func(ctx context.Context, c Choice, l Level) error {
		if l == LevelSmallest {
			return nil
		}
		return err500
	}
	for b.Loop() {
		x.Run(context.Background(), d, fail)
	}
}

func TestRunStartsAtReducedWhenNothingFits(t *testing.T) {
	d := Select(Request{Category: catalog.Coding, PromptTokens: 40000}, []Available{
		ollama("qwen2.5-coder:32b", 32768, false), ollama("llama3.2:3b", 8192, false)}, nil, nil)
	s := &script{fail: map[string]error{"qwen2.5-coder:32b": err500}}
	res, err := (&Executor{}).Run(context.Background(), d, s.attempt)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.calls, " "); got != "qwen2.5-coder:32b/reduced context llama3.2:3b/smallest available" {
		t.Errorf("calls %s", got)
	}
	if res.Level != LevelSmallest || res.Choice.Model != "llama3.2:3b" {
		t.Errorf("result %+v", res)
	}
}
