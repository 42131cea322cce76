package router

import (
	"hash/fnv"
	"math"
	"slices"
	"sync"

	"github.com/lsp-router/lsp-router/router/selection"
)

// AffinityLoadFactor is c in bounded-load consistent hashing: a
// conversation stays on its endpoint while that endpoint's load, counting
// the new request, is at most c times the average of the endpoints serving
// the model. 1.25 keeps nearly every follow-up on its endpoint (so the
// server's prefix/KV cache is reused) while no endpoint takes more than a
// quarter above its share.
const AffinityLoadFactor = 1.25

// affinitySlack is how many requests above its share an endpoint may have
// before a conversation leaves it, whatever the load factor says.
const affinitySlack = 2

// QueueDepthFunc reports how many requests wait in an endpoint's own queue
// (vLLM's vllm:num_requests_waiting, SGLang's sglang:num_queue_reqs), or 0
// when unknown. It must not block: see QueueDepths.
type QueueDepthFunc func(endpoint, kind string) int

// inflight counts the requests running on each endpoint of this process,
// so that when several endpoints serve the same model (a team's GPU hosts)
// the one with the fewest outstanding requests goes first, unless the
// request continues a conversation whose endpoint is not overloaded
// (prefix affinity). Nothing is shared between processes: several routers
// can front one fleet, each balancing its own load, with the circuit
// breaker and re-probing keeping failed endpoints out; affinity needs no
// shared state because every replica hashes a conversation the same way.
type inflight struct {
	mu sync.Mutex
	n  map[string]int
	// queue, when set, adds the servers' own queue depths to the load.
	queue QueueDepthFunc
	// home remembers where each conversation went last, so that its next
	// request follows it even when the first went elsewhere (its hashed
	// endpoint was busy, or it was placed by load). Bounded: forgotten
	// wholesale at maxHomes, after which conversations fall back to their
	// hash.
	home map[uint64]string
}

// maxHomes bounds the conversations remembered per process.
const maxHomes = 16384

func (f *inflight) add(endpoint string, d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[endpoint] += d
	if f.n[endpoint] <= 0 {
		delete(f.n, endpoint)
	}
}

// reserve balances d (see balanceLocked) and counts the request on the chosen
// endpoint, in one step so that concurrent requests see each other. affinity
// is the conversation's hash (AffinityKey), 0 for none; byHash says whether a
// new conversation is placed by its hash (the gateway: every replica agrees)
// or by load (editors: one process per user). The returned func ends the
// reservation.
func (f *inflight) reserve(d selection.Decision, affinity uint64, byHash bool) (selection.Decision, func()) {
	// Queue depths are read before taking the lock: the function may take
	// its own lock, and its values are a few hundred milliseconds old anyway.
	var queued map[string]int
	if f.queue != nil {
		for _, c := range d.Candidates() {
			if q := f.queue(c.Endpoint, c.ServiceKind); q > 0 {
				if queued == nil {
					queued = map[string]int{}
				}
				queued[c.Endpoint] = q
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d = f.balanceLocked(d, affinity, byHash, queued)
	if d.Model == "" {
		return d, func() {}
	}
	ep := d.Chosen.Endpoint
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[ep]++
	if affinity != 0 {
		if f.home == nil || len(f.home) >= maxHomes {
			f.home = map[uint64]string{}
		}
		f.home[affinity] = ep
	}
	return d, func() { f.add(ep, -1) }
}

// balanceLocked reorders the decision's candidates: within each run of
// candidates that are the same model (served by several endpoints), the
// conversation's endpoint comes first when it is not overloaded, then the
// others by fewest requests in flight (plus queued on the server). The
// order of different models is not touched. f.mu is held.
func (f *inflight) balanceLocked(d selection.Decision, affinity uint64, byHash bool, queued map[string]int) selection.Decision {
	cands := d.Candidates()
	if len(cands) < 2 {
		return d
	}
	load := func(ep string) int { return f.n[ep] + queued[ep] }
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && sameModel(cands[i], cands[j]) {
			j++
		}
		if j-i > 1 {
			// Positions keep their level (primary, fallback): only the
			// endpoints change places.
			levels := make([]selection.Level, j-i)
			for k := range levels {
				levels[k] = cands[i+k].Level
			}
			run := cands[i:j]
			slices.SortStableFunc(run, func(a, b selection.Choice) int { return load(a.Endpoint) - load(b.Endpoint) })
			if affinity != 0 {
				if k := affinityPick(run, affinity, f.home[affinity], byHash, load); k > 0 {
					c := run[k]
					copy(run[1:k+1], run[:k])
					run[0] = c
				}
			}
			for k := range levels {
				cands[i+k].Level = levels[k]
			}
		}
		i = j
	}
	d.Chosen, d.Fallbacks = cands[0], cands[1:]
	d.Model, d.Service = d.Chosen.Model, d.Chosen.Service
	return d
}

// affinityPick returns the index in run of the endpoint the conversation
// goes to: where it went last (home) when that endpoint is in run, else,
// with byHash, the endpoints in the conversation's rendezvous-hash order;
// the first whose load after this request stays within AffinityLoadFactor
// of the average, or within affinitySlack requests of it (bounded-load
// consistent hashing). Rendezvous hashing moves only the conversations of
// an endpoint that leaves or joins. Without byHash, home only breaks ties
// between the least loaded endpoints. 0 (run is ordered by load)
// otherwise.
func affinityPick(run []selection.Choice, affinity uint64, home string, byHash bool, load func(string) int) int {
	total := 1 // the request being placed
	for _, c := range run {
		total += load(c.Endpoint)
	}
	avg := float64(total) / float64(len(run))
	// At low load one or two requests are noise, not overload: the slack
	// keeps a conversation home while its endpoint has at most two more
	// than its share, which the server's cache reuse is worth.
	bound := max(int(math.Ceil(AffinityLoadFactor*avg)), int(math.Ceil(avg))+affinitySlack)
	var order []int
	for k, c := range run {
		if c.Endpoint != home {
			continue
		}
		if !byHash && load(c.Endpoint) > load(run[0].Endpoint) {
			// Placed by load (an editor): the conversation's endpoint
			// breaks ties, it does not take a request off a freer one.
			return 0
		}
		order = append(order, k)
	}
	if byHash {
		hashed := make([]int, len(run))
		for k := range hashed {
			hashed[k] = k
		}
		slices.SortStableFunc(hashed, func(a, b int) int {
			ha, hb := rendezvous(affinity, run[a].Endpoint), rendezvous(affinity, run[b].Endpoint)
			switch {
			case ha > hb:
				return -1
			case ha < hb:
				return 1
			}
			return 0
		})
		order = append(order, hashed...)
	}
	for _, k := range order {
		if load(run[k].Endpoint)+1 <= bound {
			return k
		}
	}
	return 0 // all over the bound: the least loaded, already first
}

// rendezvous is the weight of endpoint for the conversation key.
func rendezvous(key uint64, endpoint string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(key >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(endpoint))
	// fnv mixes the last bytes weakly: finish with a 64-bit mixer.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// AffinityKey hashes what identifies a conversation: the system prompt and
// the first user message, which every later turn repeats as its prefix. It
// returns 0 (no affinity) when there is no user message.
func AffinityKey(msgs []Message) uint64 {
	h := fnv.New64a()
	sawUser := false
	for _, m := range msgs {
		if m.Role == "system" || m.Role == "developer" {
			h.Write([]byte(m.Role))
			h.Write([]byte{0})
			h.Write([]byte(m.Content))
			h.Write([]byte{0})
			continue
		}
		if m.Role == "user" {
			h.Write([]byte("user\x00"))
			h.Write([]byte(m.Content))
			sawUser = true
			break
		}
	}
	if !sawUser {
		return 0
	}
	if k := h.Sum64(); k != 0 {
		return k
	}
	return 1
}

func sameModel(a, b selection.Choice) bool {
	if a.CatalogID != "" && a.CatalogID == b.CatalogID && a.ParamsB == b.ParamsB {
		return true
	}
	return a.Model == b.Model
}
