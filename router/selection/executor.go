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
	var res Result
	missing := map[string]bool{}  // service+model reported missing
	tried := map[string]Level{}   // last level at which service+model was attempted
	failKind := map[string]Kind{} // last failure kind
	key := func(c Choice) string { return c.Endpoint + "\x00" + c.Service + "\x00" + c.Model }
	bkey := func(c Choice) string {
		if c.Endpoint != "" {
			return c.Endpoint
		}
		return c.Service
	}

	// try returns (done, err): done with err == nil is success; done with err is a stop.
	try := func(c Choice, lvl Level) (bool, error) {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		if err := x.Breakers.Allow(bkey(c)); err != nil {
			res.Attempts = append(res.Attempts, Attempt{Choice: c, Level: lvl, Kind: KindCircuitOpen, Err: err})
			return false, nil
		}
		tried[key(c)] = lvl
		err := attempt(ctx, c, lvl)
		if err == nil {
			x.Breakers.Success(bkey(c))
			res.Choice, res.Level = c, lvl
			return true, nil
		}
		kind := ClassifyError(err)
		if ctx.Err() != nil {
			kind = KindCanceled
		}
		res.Attempts = append(res.Attempts, Attempt{Choice: c, Level: lvl, Kind: kind, Err: err})
		failKind[key(c)] = kind
		switch kind {
		case KindCanceled:
			x.Breakers.release(bkey(c))
			return true, fmt.Errorf("run %s on %s: %w", c.Model, c.Service, ctx.Err())
		case KindModelMissing:
			missing[key(c)] = true
			x.Breakers.Success(bkey(c)) // the service answered properly
		case KindContextTooLong:
			x.Breakers.Success(bkey(c))
		default:
			x.Breakers.Failure(bkey(c))
		}
		return false, nil
	}

	cands := d.Candidates()
	for _, lvl := range []Level{LevelPrimary, LevelFallback} {
		for _, c := range cands {
			if c.Level != lvl || missing[key(c)] {
				continue
			}
			if done, err := try(c, lvl); done {
				return res, err
			}
		}
	}

	// Reduced context: the best candidate whose failure a smaller prompt may cure (context too
	// long first, then server errors such as out-of-memory), skipping missing models.
	var reduced *Choice
	for _, want := range []Kind{KindContextTooLong, KindRetryable, KindOther} {
		for i := range cands {
			c := cands[i]
			if k, ok := failKind[key(c)]; ok && k == want && !missing[key(c)] {
				reduced = &c
				break
			}
		}
		if reduced != nil {
			break
		}
	}
	if reduced == nil && d.Reduced != nil && !missing[key(*d.Reduced)] {
		reduced = d.Reduced
	}
	if reduced != nil {
		if done, err := try(*reduced, LevelReducedContext); done {
			return res, err
		}
	}

	if s := d.Smallest; s != nil && !missing[key(*s)] && tried[key(*s)] < LevelReducedContext {
		if done, err := try(*s, LevelSmallest); done {
			return res, err
		}
	}
	return res, &ExhaustedError{Category: d.Category, Attempts: res.Attempts}
}
