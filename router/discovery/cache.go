package discovery

import (
	"context"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
)

// DefaultTTL is how long a scan stays fresh.
const DefaultTTL = 60 * time.Second

// Cache holds the last scan. Services answers from it at once; when the
// scan is older than the TTL it starts a refresh in the background and
// answers with the previous result meanwhile. Only a result with a serving
// service is cached: when the last scan found none, the next call scans
// again and waits (cheap: nothing listens, so probes fail at once), so a
// server the user just started is used by the very next request.
// Invalidate re-probes one endpoint at once, for use after a call to it
// failed.
type Cache struct {
	cfg     Config
	ttl     time.Duration
	targets []Target
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup

	mu         sync.Mutex
	services   []llm.Service
	scannedAt  time.Time
	scanning   chan struct{} // non-nil while a full scan runs; closed when done
	reprobing  map[string]bool
	now        func() time.Time
	scanCount  int
	probeCount int
}

// NewCache validates cfg and returns a cache with the given TTL (0 means
// DefaultTTL). Close it to stop background work.
func NewCache(cfg Config, ttl time.Duration) (*Cache, error) {
	targets, err := Targets(cfg)
	if err != nil {
		return nil, err
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Cache{cfg: cfg, ttl: ttl, targets: targets, ctx: ctx, stop: stop,
		reprobing: map[string]bool{}, now: time.Now}, nil
}

// StartBackground rescans every TTL until Close, so Services rarely hands
// out a stale answer even when nobody asks for a while. Call it once.
func (c *Cache) StartBackground() {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(c.ttl)
		defer t.Stop()
		for {
			select {
			case <-c.ctx.Done():
				return
			case <-t.C:
				c.mu.Lock()
				c.startScanLocked()
				c.mu.Unlock()
			}
		}
	}()
}

// Close stops background refreshes and waits for them.
func (c *Cache) Close() {
	c.stop()
	c.wg.Wait()
}

// Services returns the cached services, scanning first if there is no
// result yet and refreshing in the background when the result is stale.
func (c *Cache) Services(ctx context.Context) ([]llm.Service, error) {
	c.mu.Lock()
	if c.scannedAt.IsZero() || !anyServing(c.services) {
		done := c.startScanLocked()
		c.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c.mu.Lock()
	} else if c.now().Sub(c.scannedAt) > c.ttl {
		c.startScanLocked()
	}
	out := cloneServices(c.services)
	c.mu.Unlock()
	return out, nil
}

// Refresh scans now and waits for the result.
func (c *Cache) Refresh(ctx context.Context) ([]llm.Service, error) {
	c.mu.Lock()
	done := c.startScanLocked()
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return cloneServices(c.services), nil
}

// startScanLocked starts a full scan unless one runs; it returns a channel
// closed when the running scan ends.
func (c *Cache) startScanLocked() <-chan struct{} {
	if c.scanning != nil {
		return c.scanning
	}
	done := make(chan struct{})
	c.scanning = done
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		svcs := scanTargets(c.ctx, c.cfg, c.targets)
		c.mu.Lock()
		if c.ctx.Err() == nil {
			c.services = svcs
			c.scannedAt = c.now()
			c.scanCount++
		}
		c.scanning = nil
		c.mu.Unlock()
		close(done)
	}()
	return done
}

// Invalidate re-probes endpoint in the background and replaces (or drops)
// its entry. Call it when a request to the service failed, so the next
// Services call does not offer a service that went away or changed models.
func (c *Cache) Invalidate(endpoint string) {
	key := normalize(endpoint)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reprobing[key] {
		return
	}
	var target *Target
	for i := range c.targets {
		if c.targets[i].Endpoint == key {
			target = &c.targets[i]
		}
	}
	if target == nil {
		// Not one of ours: a full scan will tell.
		c.startScanLocked()
		return
	}
	c.reprobing[key] = true
	t := *target
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		svc, found := Probe(c.ctx, c.cfg, t)
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.reprobing, key)
		c.probeCount++
		if c.ctx.Err() != nil {
			return
		}
		c.replaceLocked(key, svc, found)
	}()
}

// Reprobe is Invalidate that waits and returns the fresh entry.
func (c *Cache) Reprobe(ctx context.Context, endpoint string) (llm.Service, bool) {
	key := normalize(endpoint)
	c.mu.Lock()
	var t Target
	ok := false
	for _, tt := range c.targets {
		if tt.Endpoint == key {
			t, ok = tt, true
		}
	}
	c.mu.Unlock()
	if !ok {
		return llm.Service{}, false
	}
	svc, found := Probe(ctx, c.cfg, t)
	if ctx.Err() != nil {
		return svc, found
	}
	c.mu.Lock()
	c.probeCount++
	c.replaceLocked(key, svc, found)
	c.mu.Unlock()
	return svc, found
}

func (c *Cache) replaceLocked(key string, svc llm.Service, found bool) {
	out := c.services[:0:0]
	replaced := false
	for _, s := range c.services {
		if s.Endpoint == key {
			if found && !replaced {
				svc.Name = s.Name // keep a disambiguated name stable
				out = append(out, svc)
				replaced = true
			}
			continue
		}
		out = append(out, s)
	}
	if found && !replaced {
		out = append(out, svc)
	}
	c.services = out
}

// anyServing reports whether a scan found a service that answered as an LLM
// server (online, or loading a model): a result worth caching.
func anyServing(svcs []llm.Service) bool {
	for _, s := range svcs {
		if s.Status == llm.StatusOnline || s.Status == llm.StatusLoading {
			return true
		}
	}
	return false
}

func cloneServices(in []llm.Service) []llm.Service {
	out := make([]llm.Service, len(in))
	for i, s := range in {
		s.Models = append([]llm.Model(nil), s.Models...)
		out[i] = s
	}
	return out
}
