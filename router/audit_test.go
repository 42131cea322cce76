package router_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/security/audit"
)

// failingAudit fails the writes whose number is in fail (1-based) the way
// an audit.Recorder does, under the given policy.
type failingAudit struct {
	mu     sync.Mutex
	n      int
	fail   map[int]bool
	warn   bool
	events []audit.Event
}

func (f *failingAudit) Write(e audit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.fail[f.n] {
		return &audit.FailureError{Path: "/var/log/audit.jsonl", Err: errors.New("no space left on device"), Warn: f.warn}
	}
	f.events = append(f.events, e)
	return nil
}

func TestRunRefusedBeforeSendingWhenAuditFails(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: goAnswer})
	defer srv.Close()
	aud := &failingAudit{fail: map[int]bool{1: true}}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Audit = aud })
	_, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil)
	if err == nil || !strings.Contains(err.Error(), "query refused, nothing was sent") || !strings.Contains(err.Error(), "/var/log/audit.jsonl") {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Requests(); n != 0 {
		t.Fatalf("%d request(s) reached the model", n)
	}
}

func TestRunWarnsAndGoesOnWhenAuditMayFail(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: goAnswer})
	defer srv.Close()
	aud := &failingAudit{fail: map[int]bool{1: true, 2: true}, warn: true}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Audit = aud })
	res, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil)
	if err != nil || len(res.Edits) != 1 {
		t.Fatalf("warn policy: %v %+v", err, res)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "warning: audit log /var/log/audit.jsonl cannot be written") {
		t.Errorf("no visible warning: %q", res.Notes)
	}
}

func TestRunWithholdsAnswerWhenFinalRecordFails(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: goAnswer})
	defer srv.Close()
	aud := &failingAudit{fail: map[int]bool{2: true}}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Audit = aud })
	res, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil)
	if err == nil || res != nil || !strings.Contains(err.Error(), "withheld") {
		t.Fatalf("final record failed: %v %+v", err, res)
	}
	if len(aud.events) != 1 || aud.events[0].Type != audit.EventQueryStart {
		t.Errorf("records: %+v", aud.events)
	}
}

func TestRunRefusalErrorKeepsNoAnswerText(t *testing.T) {
	// The answer has no code block: the refusal quotes nothing of it in
	// the summary a log without responses keeps.
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "I would use slices.Reverse here."})
	defer srv.Close()
	aud := &failingAudit{}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Audit = aud })
	if _, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil); err == nil {
		t.Fatal("no error")
	}
	last := aud.events[len(aud.events)-1]
	if last.Error == "" || !strings.HasPrefix(last.ErrorSummary, "the answer was not turned into an edit (") || strings.Contains(last.ErrorSummary, "slices") {
		t.Errorf("record %+v", last)
	}
}

func TestRouteWithLLMClassifierIsAuditedFirst(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "reasoning"})
	defer srv.Close()
	aud := &failingAudit{fail: map[int]bool{1: true}}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) {
		d.Audit = aud
		d.ClassifyWithLLM = true
	})
	_, err := p.Route(context.Background(), router.Request{Action: router.ActionAsk, Instruction: "hmm"}, 100)
	if err == nil || !strings.Contains(err.Error(), "query refused, nothing was sent") {
		t.Fatalf("route with an unwritable audit log: %v", err)
	}
	if n := srv.Requests(); n != 0 {
		t.Fatalf("%d request(s) reached the classifier model", n)
	}
	aud.fail = nil
	if _, err := p.Route(context.Background(), router.Request{Action: router.ActionAsk, Instruction: "hmm"}, 100); err != nil && !errors.Is(err, router.ErrNoServices) {
		t.Logf("route: %v", err)
	}
	if len(aud.events) != 1 || aud.events[0].Type != audit.EventQueryStart {
		t.Errorf("records: %+v", aud.events)
	}
}
