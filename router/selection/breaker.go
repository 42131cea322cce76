package selection

import (
	"fmt"
	"sync"
	"time"
)

// BreakerState is the state of one service's circuit breaker.
type BreakerState int

const (
	// Closed: requests flow.
	Closed BreakerState = iota
	// Open: the service failed Threshold times in a row; it is skipped until the cool-down ends.
	Open
	// HalfOpen: the cool-down ended; one probe request is let through. Success closes the
	// breaker, failure opens it for another cool-down.
	HalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "closed"
}

// Breakers holds one circuit breaker per service. It is safe for concurrent use; share one
// instance across requests so failures are remembered.
type Breakers struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu sync.Mutex
	m  map[string]*breaker
}

type breaker struct {
	state    BreakerState
	failures int
	openedAt time.Time
	probing  bool
}

// Defaults for NewBreakers arguments <= 0.
const (
	DefaultThreshold = 3
	DefaultCooldown  = 30 * time.Second
)

// NewBreakers returns breakers that open after threshold consecutive failures and re-probe
// after cooldown. now is the clock (nil = time.Now); tests inject a fake one.
func NewBreakers(threshold int, cooldown time.Duration, now func() time.Time) *Breakers {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if cooldown <= 0 {
		cooldown = DefaultCooldown
	}
	if now == nil {
		now = time.Now
	}
	return &Breakers{threshold: threshold, cooldown: cooldown, now: now, m: map[string]*breaker{}}
}

func (b *Breakers) get(service string) *breaker {
	br := b.m[service]
	if br == nil {
		br = &breaker{}
		b.m[service] = br
	}
	return br
}

// Allow returns nil when a request to service may go ahead, or an error wrapping
// ErrCircuitOpen that says when the service will be probed again. When the cool-down has
// ended, exactly one caller gets through as the half-open probe.
func (b *Breakers) Allow(service string) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.get(service)
	switch br.state {
	case Closed:
		return nil
	case Open:
		wait := br.openedAt.Add(b.cooldown).Sub(b.now())
		if wait > 0 {
			return fmt.Errorf("%w: %s failed %d times in a row; skipped for another %s", ErrCircuitOpen, service, br.failures, wait.Round(time.Second))
		}
		br.state, br.probing = HalfOpen, true
		return nil
	default: // HalfOpen
		if br.probing {
			return fmt.Errorf("%w: %s is being re-probed by another request", ErrCircuitOpen, service)
		}
		br.probing = true
		return nil
	}
}

// Success records a healthy answer (including "model missing", which a healthy service
// gives): the breaker closes.
func (b *Breakers) Success(service string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.get(service)
	br.state, br.failures, br.probing = Closed, 0, false
}

// Failure records a failed request; the breaker opens at the threshold, and at once when the
// half-open probe fails.
func (b *Breakers) Failure(service string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.get(service)
	br.failures++
	if br.state == HalfOpen || br.failures >= b.threshold {
		br.state, br.openedAt, br.probing = Open, b.now(), false
	}
}

// State returns the service's current state (Open turns HalfOpen once the cool-down ended,
// without consuming the probe).
func (b *Breakers) State(service string) BreakerState {
	if b == nil {
		return Closed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.get(service)
	if br.state == Open && !b.now().Before(br.openedAt.Add(b.cooldown)) {
		return HalfOpen
	}
	return br.state
}

// release gives back a half-open probe whose outcome says nothing about the service (the
// user canceled), so the next request can probe.
func (b *Breakers) release(service string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if br := b.get(service); br.state == HalfOpen {
		br.probing = false
	}
}
