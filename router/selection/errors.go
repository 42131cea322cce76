package selection

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Kind says how the executor should react to a failed attempt.
type Kind int

const (
	// KindOther is any failure not classified below: the service is counted as failing and
	// the next candidate is tried.
	KindOther Kind = iota
	// KindModelMissing: the service answered but does not have the model (404, "model not
	// found"). The service is healthy; the model is not retried at later levels.
	KindModelMissing
	// KindRetryable: server error (5xx), connection refused, timeout, loading. Counts against
	// the service's circuit breaker.
	KindRetryable
	// KindContextTooLong: the prompt did not fit. The reduced-context level can help.
	KindContextTooLong
	// KindCanceled: the user canceled; the executor stops at once without falling back.
	KindCanceled
	// KindCircuitOpen: the attempt was not made because the service's breaker is open.
	KindCircuitOpen
)

func (k Kind) String() string {
	switch k {
	case KindModelMissing:
		return "model missing"
	case KindRetryable:
		return "retryable"
	case KindContextTooLong:
		return "context too long"
	case KindCanceled:
		return "canceled"
	case KindCircuitOpen:
		return "circuit open"
	}
	return "failed"
}

// Sentinel errors an attempt can wrap (fmt.Errorf("...: %w", selection.ErrModelMissing)) so
// the executor knows how to react. The LLM clients' typed errors are mapped onto these by the
// caller, or implement Classified.
var (
	ErrModelMissing    = errors.New("model missing")
	ErrRetryable       = errors.New("retryable failure")
	ErrContextTooLong  = errors.New("context too long")
	ErrCircuitOpen     = errors.New("circuit open")
	ErrNoCandidate     = errors.New("no model available")
	errUnknownCategory = errors.New("unknown category")
)

// Classified is implemented by errors that know their Kind, so client error types can be
// recognised without this package importing them.
type Classified interface {
	error
	FailureKind() Kind
}

// Mark wraps err so that ClassifyError reports kind; errors.Is(err, original) still holds.
func Mark(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &markedError{kind: kind, err: err}
}

type markedError struct {
	kind Kind
	err  error
}

func (e *markedError) Error() string     { return e.err.Error() }
func (e *markedError) Unwrap() error     { return e.err }
func (e *markedError) FailureKind() Kind { return e.kind }

// ClassifyError returns the Kind of an attempt error. Order matters: a user cancel wins over
// everything; a sentinel or Classified error is trusted next; a timeout of the attempt itself
// (its own deadline or a network timeout) is retryable.
func ClassifyError(err error) Kind {
	switch {
	case err == nil:
		return KindOther
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	var c Classified
	if errors.As(err, &c) {
		return c.FailureKind()
	}
	switch {
	case errors.Is(err, ErrModelMissing):
		return KindModelMissing
	case errors.Is(err, ErrContextTooLong):
		return KindContextTooLong
	case errors.Is(err, ErrCircuitOpen):
		return KindCircuitOpen
	case errors.Is(err, ErrRetryable), errors.Is(err, context.DeadlineExceeded):
		return KindRetryable
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindRetryable
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return KindRetryable
	}
	return KindOther
}

// Attempt records one try (or one skip) by the executor.
type Attempt struct {
	Choice Choice `json:"choice"`
	Level  Level  `json:"level"`
	Kind   Kind   `json:"kind"`
	Err    error  `json:"-"`
}

// ExhaustedError is returned when every level failed. Its message lists every attempt and why
// it failed, in order.
type ExhaustedError struct {
	Category string
	Attempts []Attempt
}

func (e *ExhaustedError) Error() string {
	msg := fmt.Sprintf("no local model could answer the %s request", e.Category)
	if len(e.Attempts) == 0 {
		return msg + ": no candidate to try; check that an LLM service is running (lsp-router models) and that task_routing names models it has"
	}
	msg += fmt.Sprintf(" after %d attempts:", len(e.Attempts))
	for i, a := range e.Attempts {
		msg += fmt.Sprintf("\n  %d. %s on %s [%s]: %s: %v", i+1, a.Choice.Model, a.Choice.Service, a.Level, a.Kind, a.Err)
	}
	return msg + "\ncheck the services (lsp-router models), pull a listed model, or change task_routing"
}

// Unwrap exposes the attempt errors to errors.Is/As.
func (e *ExhaustedError) Unwrap() []error {
	out := make([]error, 0, len(e.Attempts))
	for _, a := range e.Attempts {
		if a.Err != nil {
			out = append(out, a.Err)
		}
	}
	return out
}
