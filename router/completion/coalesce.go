package completion

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrSuperseded is the cause of a request replaced by a newer one for the
// same document.
var ErrSuperseded = errors.New("superseded by a newer completion request")

// Coalescer keeps at most one completion in flight per document: Begin
// cancels the previous request of the same key (closing its upstream HTTP
// request), and Debounce waits before the model is asked so that a burst
// of keystrokes costs one request.
type Coalescer struct {
	mu       sync.Mutex
	inflight map[string]*slot
	seq      uint64
}

type slot struct {
	id     uint64
	cancel context.CancelCauseFunc
}

// NewCoalescer returns an empty coalescer.
func NewCoalescer() *Coalescer { return &Coalescer{inflight: map[string]*slot{}} }

// Begin starts the request for key, cancelling the one before it. done
// must be called when the request ends.
func (c *Coalescer) Begin(ctx context.Context, key string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	c.mu.Lock()
	c.seq++
	s := &slot{id: c.seq, cancel: cancel}
	if old := c.inflight[key]; old != nil {
		old.cancel(ErrSuperseded)
	}
	c.inflight[key] = s
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		if cur := c.inflight[key]; cur != nil && cur.id == s.id {
			delete(c.inflight, key)
		}
		c.mu.Unlock()
		cancel(context.Canceled)
	}
}

// Cancel ends the request in flight for key, if any (the document closed).
func (c *Coalescer) Cancel(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.inflight[key]; s != nil {
		s.cancel(ErrSuperseded)
		delete(c.inflight, key)
	}
}

// Debounce waits d, or less when ctx ends first; it returns ctx's error
// then (a newer keystroke replaced the request).
func Debounce(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
