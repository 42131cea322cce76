package router_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/classify"
)

// An agent's tool rounds resend the same user turns: the category is
// decided once (here by the LLM hook, so each decision is visible as a
// call), and a new user turn or the tools flag decides again.
func TestChatCategoryIsDecidedOncePerUserTurns(t *testing.T) {
	var calls atomic.Int32
	p := newPipeline(t, &fixedServices{}, func(d *router.Deps) {
		d.Classifier = &classify.Classifier{LLM: func(context.Context, string) (string, error) {
			calls.Add(1)
			return "reasoning", nil
		}}
	})
	ctx := context.Background()
	first := []router.Message{{Role: "system", Content: "You are a coding agent."}, {Role: "user", Content: "hmm"}}
	round := append(append([]router.Message{}, first...),
		router.Message{Role: "assistant", Content: "Reading the file."}, router.Message{Role: "tool", Content: "package main"})
	for i, msgs := range [][]router.Message{first, round, round} {
		r := p.ChatCategory(ctx, msgs, false)
		if r.Category != "reasoning" || calls.Load() != 1 {
			t.Fatalf("round %d: category %q after %d LLM calls; want reasoning after 1", i, r.Category, calls.Load())
		}
		r.Signals[0] = "changed by the caller"
	}
	if r := p.ChatCategory(ctx, first, false); r.Signals[0] != "llm:reasoning" {
		t.Fatalf("signals %q: a caller's change leaked into the remembered result", r.Signals)
	}
	next := append(append([]router.Message{}, round...), router.Message{Role: "user", Content: "well, hmm"})
	p.ChatCategory(ctx, next, false)
	if calls.Load() != 2 {
		t.Fatalf("%d LLM calls after a new user turn; want 2", calls.Load())
	}
	p.ChatCategory(ctx, first, true)
	if calls.Load() != 3 {
		t.Fatalf("%d LLM calls after the tools flag changed; want 3", calls.Load())
	}
}

// A failed LLM decision is not remembered: the next request asks again.
func TestChatCategoryAsksAgainAfterAnLLMError(t *testing.T) {
	var calls atomic.Int32
	p := newPipeline(t, &fixedServices{}, func(d *router.Deps) {
		d.Classifier = &classify.Classifier{LLM: func(context.Context, string) (string, error) {
			if calls.Add(1) == 1 {
				return "", errors.New("model loading")
			}
			return "analysis", nil
		}}
	})
	msgs := []router.Message{{Role: "user", Content: "hmm"}}
	if r := p.ChatCategory(context.Background(), msgs, false); r.Category == "analysis" {
		t.Fatalf("first answer %q came from a failed LLM call", r.Category)
	}
	if r := p.ChatCategory(context.Background(), msgs, false); r.Category != "analysis" || calls.Load() != 2 {
		t.Fatalf("category %q after %d LLM calls; want analysis after 2", r.Category, calls.Load())
	}
}
