package selection

import (
	"context"
	"errors"
	"fmt"
)

// AttemptFunc makes one generation with the choice. At LevelReducedContext and LevelSmallest
// (level.Reduced()) it must build a smaller prompt than before. It returns an error that
// ClassifyError understands (wrap the sentinels or use Mark) and must honour ctx.
type AttemptFunc func(ctx context.Context, c Choice, level Level) error

// Result says which choice answered, at which level, and everything tried before.
type Result struct {
	Choice   Choice    `json:"choice"`
	Level    Level     `json:"level"`
	Attempts []Attempt `json:"attempts"` // failed or skipped attempts before the success
}

// Executor walks a Decision's fallback chain.
type Executor struct {
	// Breakers is shared across requests; nil disables circuit breaking.
	Breakers *Breakers
}

// Run tries the decision's candidates level by level: the primary choices, the fallbacks, the
// best candidate again with a reduced context, the smallest available model; it stops at the
// first success. A model reported missing is not retried; a service whose breaker is open is
// skipped (recorded as an attempt of kind circuit open); a user cancel stops at once. When
// everything fails the error is an *ExhaustedError listing every attempt.
func (x *Executor) Run(ctx context.Context, d Decision, attempt AttemptFunc) (Result, error) {
	if d.Err != nil {
		return Result{}, d.Err
	}
	if attempt == nil {
		return Result{}, errors.New("run: nil attempt function")
	}
	r := &chain{x: x, ctx: ctx, attempt: attempt, missing: map[string]bool{}, tried: map[string]Level{}, failKind: map[string]Kind{}}
	cands := d.Candidates()
	for _, lvl := range []Level{LevelPrimary, LevelFallback} {
		for _, c := range cands {
			if c.Level != lvl || r.missing[choiceKey(c)] {
				continue
			}
			if done, err := r.try(c, lvl); done {
				return r.res, err
			}
		}
	}
	if reduced := r.reducedRetry(cands, d.Reduced); reduced != nil {
		if done, err := r.try(*reduced, LevelReducedContext); done {
			return r.res, err
		}
	}
	if s := d.Smallest; s != nil && !r.missing[choiceKey(*s)] && r.tried[choiceKey(*s)] < LevelReducedContext {
		if done, err := r.try(*s, LevelSmallest); done {
			return r.res, err
		}
	}
	return r.res, &ExhaustedError{Category: d.Category, Attempts: r.res.Attempts}
}

// chain is one walk of a fallback chain: the result so far and what each
// attempt taught about the service+model pairs.
type chain struct {
	x        *Executor
	ctx      context.Context
	attempt  AttemptFunc
	res      Result
	missing  map[string]bool  // service+model reported missing
	tried    map[string]Level // last level at which service+model was attempted
	failKind map[string]Kind  // last failure kind
}

func choiceKey(c Choice) string { return c.Endpoint + "\x00" + c.Service + "\x00" + c.Model }

// breakerKey is the service's endpoint, or its name when it has none.
func breakerKey(c Choice) string {
	if c.Endpoint != "" {
		return c.Endpoint
	}
	return c.Service
}

// try returns (done, err): done with err == nil is success; done with err is a stop.
func (r *chain) try(c Choice, lvl Level) (bool, error) {
	if err := r.ctx.Err(); err != nil {
		return true, err
	}
	b := r.x.Breakers
	if err := b.Allow(breakerKey(c)); err != nil {
		r.res.Attempts = append(r.res.Attempts, Attempt{Choice: c, Level: lvl, Kind: KindCircuitOpen, Err: err})
		return false, nil
	}
	r.tried[choiceKey(c)] = lvl
	err := r.attempt(r.ctx, c, lvl)
	if err == nil {
		b.Success(breakerKey(c))
		r.res.Choice, r.res.Level = c, lvl
		return true, nil
	}
	kind := ClassifyError(err)
	if r.ctx.Err() != nil {
		kind = KindCanceled
	}
	r.res.Attempts = append(r.res.Attempts, Attempt{Choice: c, Level: lvl, Kind: kind, Err: err})
	r.failKind[choiceKey(c)] = kind
	switch kind {
	case KindCanceled:
		b.release(breakerKey(c))
		return true, fmt.Errorf("run %s on %s: %w", c.Model, c.Service, r.ctx.Err())
	case KindModelMissing:
		r.missing[choiceKey(c)] = true
		b.Success(breakerKey(c)) // the service answered properly
	case KindContextTooLong:
		b.Success(breakerKey(c))
	default:
		b.Failure(breakerKey(c))
	}
	return false, nil
}

// reducedRetry picks the reduced-context attempt: the best candidate whose
// failure a smaller prompt may cure (context too long first, then server
// errors such as out-of-memory), else the decision's reduced choice,
// skipping missing models.
func (r *chain) reducedRetry(cands []Choice, fallback *Choice) *Choice {
	for _, want := range []Kind{KindContextTooLong, KindRetryable, KindOther} {
		for i := range cands {
			c := cands[i]
			if k, ok := r.failKind[choiceKey(c)]; ok && k == want && !r.missing[choiceKey(c)] {
				return &c
			}
		}
	}
	if fallback != nil && !r.missing[choiceKey(*fallback)] {
		return fallback
	}
	return nil
}
