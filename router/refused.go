package router

import (
	"fmt"
	"strings"

	"github.com/lsp-router/lsp-router/router/selection"
)

// RefusedError says that the services are up but the model policy refused
// every model they offer (security.model_pins with verify_checksums): it
// names the refused models and how to update the pins, where "no service
// running" would send the user looking for a server that is there.
type RefusedError struct {
	Refused []selection.Skip
}

// maxRefusedShown bounds the models named in the message.
const maxRefusedShown = 5

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString(e.Summary())
	for i, r := range e.Refused {
		if i == maxRefusedShown {
			break
		}
		fmt.Fprintf(&b, "; %s: %s", r.Model, r.Reason)
	}
	return b.String() + "; " + RefusedFix
}

// RefusedFix says how to use refused models.
const RefusedFix = "check they are the models you expect, then update [security.model_pins] " +
	"(`lsp-router models --pin` prints the pins of the models installed now) or set security.verify_checksums = false"

// Summary names the refused models in one sentence, without the reasons.
func (e *RefusedError) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the local LLM services are running, but security.model_pins refused all %d of their models (", len(e.Refused))
	for i, r := range e.Refused {
		if i == maxRefusedShown {
			fmt.Fprintf(&b, ", and %d more", len(e.Refused)-maxRefusedShown)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s on %s", r.Model, r.Service)
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap makes the refusal a "no model can answer" failure.
func (e *RefusedError) Unwrap() error { return selection.ErrNoCandidate }

// noModels is the error when no model is available: the policy's refusal
// when it refused some, else ErrNoServices.
func noModels(refused []selection.Skip) error {
	if len(refused) > 0 {
		return &RefusedError{Refused: refused}
	}
	return ErrNoServices
}
