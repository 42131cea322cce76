package classify

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestExamplesFromTheIssue(t *testing.T) {
	cases := map[string]string{
		"is it safe to pass user input into this SQL string?": Analysis,
		"should I use channels or a mutex here?":              Reasoning,
		"write godoc for the exported types":                  Documentation,
		"write tests for the exported types":                  Coding,
	}
	for text, want := range cases {
		r := Classify(text)
		if r.Category != want {
			t.Errorf("Classify(%q) = %s %v, want %s", text, r.Category, r.Signals, want)
		}
		if r.Confidence <= 0 || r.Confidence > 1 || len(r.Signals) == 0 {
			t.Errorf("Classify(%q): confidence %v, signals %v", text, r.Confidence, r.Signals)
		}
	}
}

func TestSignalsExplainTheDecision(t *testing.T) {
	r := Classify("write godoc for the exported types")
	if !strings.HasPrefix(r.Signals[0], "documentation:") {
		t.Errorf("strongest signal should be documentation's: %v", r.Signals)
	}
	empty := Classify("   ")
	if empty.Category != Coding || empty.Confidence >= DefaultThreshold || empty.Signals[0] != "default:no-signal" {
		t.Errorf("no evidence: %+v", empty)
	}
	clear := Classify("review this handler for security vulnerabilities and race conditions")
	vague := Classify("the parser")
	if clear.Confidence <= vague.Confidence {
		t.Errorf("strong evidence %.2f should be more confident than none %.2f", clear.Confidence, vague.Confidence)
	}
}

func TestForAction(t *testing.T) {
	cases := map[string]string{
		"refactor": Coding, "fix": Coding, "tests": Coding, "write-tests": Coding,
		"document": Documentation, "explain": Documentation, "Explain ": Documentation,
		"review": Analysis,
	}
	for action, want := range cases {
		if got, ok := ForAction(action); !ok || got != want {
			t.Errorf("ForAction(%q) = %q, %v; want %q", action, got, ok, want)
		}
	}
	for _, free := range []string{"ask", "", "dance"} {
		if _, ok := ForAction(free); ok {
			t.Errorf("ForAction(%q) should leave classification to the text", free)
		}
	}
}

func TestLLMHook(t *testing.T) {
	ctx := context.Background()
	calls := 0
	llm := func(ctx context.Context, text string) (string, error) {
		calls++
		return " Reasoning.\n", nil
	}
	// High confidence: the LLM is not consulted.
	c := Classifier{LLM: llm}
	if r := c.Classify(ctx, "write godoc for the exported types"); r.Category != Documentation || calls != 0 {
		t.Fatalf("confident text went to the LLM: %+v, %d calls", r, calls)
	}
	// Low confidence: the LLM decides.
	r := c.Classify(ctx, "the parser")
	if calls != 1 || r.Category != Reasoning || r.Signals[0] != "llm:reasoning" {
		t.Fatalf("low confidence: %+v after %d calls", r, calls)
	}
	// LLM failure or nonsense keeps the pattern answer.
	failing := Classifier{LLM: func(context.Context, string) (string, error) { return "", errors.New("model not loaded") }}
	if r := failing.Classify(ctx, "the parser"); r.Category != Coding || !strings.Contains(strings.Join(r.Signals, " "), "llm:error") {
		t.Errorf("LLM error: %+v", r)
	}
	nonsense := Classifier{LLM: func(context.Context, string) (string, error) { return "I think it's about coding!", nil }}
	if r := nonsense.Classify(ctx, "the parser"); !strings.Contains(strings.Join(r.Signals, " "), "llm:ignored") {
		t.Errorf("LLM nonsense: %+v", r)
	}
	// Off by default.
	if r := (Classifier{}).Classify(ctx, "the parser"); r.Category != Coding {
		t.Errorf("zero Classifier: %+v", r)
	}
	if p := LLMPrompt("fix it"); !strings.Contains(p, "fix it") || !strings.Contains(p, "documentation") {
		t.Errorf("prompt %q", p)
	}
}

func BenchmarkClassify(b *testing.B) {
	texts := []string{"is it safe to pass user input into this SQL string?", "should I use channels or a mutex here?",
		"write godoc for the exported types", "refactor this handler so the validation logic lives in its own function"}
	for i := 0; b.Loop(); i++ {
		Classify(texts[i%len(texts)])
	}
}

func BenchmarkBaseline(b *testing.B) {
	for b.Loop() {
		Baseline("is it safe to pass user input into this SQL string?")
	}
}

// TestPrefilterNeverChangesAResult runs every rule with and without its
// literal prefilter on the labelled set's texts: a rule the prefilter
// skips must not match.
func TestPrefilterNeverChangesAResult(t *testing.T) {
	skipped := 0
	for _, l := range loadLabelled(t) {
		text := l.Text
		if l.Agent {
			texts := userTexts(l.Messages)
			text = texts[len(texts)-1]
		}
		n := normalize(text)
		for _, r := range rules() {
			if r.lits != nil && !containsAny(n, r.lits) {
				skipped++
				if r.re.MatchString(n) {
					t.Errorf("rule %s:%s matches %q but its literals %q are absent", r.cat, r.name, n, r.lits)
				}
			}
		}
	}
	if skipped == 0 {
		t.Error("the prefilter skipped nothing")
	}
}

// The phrasings added with agent-tune2 and agent-tune3, on sentences of
// their own (not rows of the labelled set).
func TestGeneralPhrasings(t *testing.T) {
	cases := map[string]string{
		// A design, an optimum or a quantity to decide is reasoning.
		"Propose a layout for the plugin registry so versions can coexist.":                    Reasoning,
		"What's the cheapest order to run these jobs in?":                                      Reasoning,
		"How many workers should the pool have for 3k jobs a minute?":                          Reasoning,
		"Sketch the idea first, no code: how would undo work across devices?":                  Reasoning,
		"Lay out the phases for retiring the old billing endpoints.":                           Reasoning,
		"What should we consider before deciding on a vendor for feature flags?":               Reasoning,
		"Figure out a sane way to share fixtures between the two test suites.":                 Reasoning,
		"Design the rate limiting for the public endpoints.":                                   Reasoning,
		"If two replicas disagree, how should the reconciler pick a winner? Just the concept.": Reasoning,
		// Evidence handed over, a stated symptom, a definite artefact's property: analysis.
		"The goroutine dump is in the last tool result. Which lock is contended?": Analysis,
		"The trace shows 900 ms in one span; where does that go?":                 Analysis,
		"Latency keeps climbing after each deploy. Look into the pool settings.":  Analysis,
		"Does the uploader retry on a 409?":                                       Analysis,
		"Find every endpoint that fails to check the tenant id.":                  Analysis,
		"Was the slowdown introduced by the new serializer?":                      Analysis,
		"Read through the session code and tell me where tokens are logged.":      Analysis,
		// "document" the noun is not a request for documentation.
		"Should we lock a shared document per section or as a whole?": Reasoning,
		// How named code does something: documentation.
		"How does the scheduler detect a stuck worker?": Documentation,
		// Short imperatives are requests of their own, not follow-ups.
		"Drop the legacy flags.":               Coding,
		"Backfill the new column from events.": Coding,
		// What the system does now, asked in the progressive: analysis, not a decision.
		"Are we still retrying after the context is cancelled?":                  Analysis,
		"Is the importer actually closing the file handles, or do they pile up?": Analysis,
		// A yes/no question naming a source file asks about that file.
		"Is the salt in crypto/kdf.py long enough?":                  Analysis,
		"Is internal/auth/token.go the only place that parses JWTs?": Analysis,
		// Whether something is exploitable.
		"Can an attacker replay the signed URL after it expires?": Analysis,
		// The meaning of a named setting; an answer destined for a document.
		"What does the max_idle setting in the pool config control?":  Documentation,
		"What do the flags on the export command affect?":             Documentation,
		"Note how the cache keys are built, in the architecture doc.": Documentation,
		// A capability for someone to use is code to write.
		"Allow admins to reset another user's password from the console.": Coding,
		"Let callers pass their own HTTP client.":                         Coding,
		"Accept --verbose and --quiet on every subcommand.":               Coding,
	}
	for text, want := range cases {
		if got := Classify(text); got.Category != want {
			t.Errorf("Classify(%q) = %s %v, want %s", text, got.Category, got.Signals, want)
		}
	}
	// A short imperative after another task is a new task, not "go on".
	turns := []Turn{{Role: "user", Content: "Review the auth middleware for security problems."},
		{Role: "assistant", Content: "Two issues found."}, {Role: "user", Content: "Drop the legacy flags."}}
	if got := Conversation(turns, true); got.Category != Coding {
		t.Errorf("short imperative after a review: %s %v, want coding", got.Category, got.Signals)
	}
}
