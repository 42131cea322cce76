package router

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/prompt"
	"github.com/lsp-router/lsp-router/security/redact"
)

// redactingClient is the single place text leaves the engine for a model:
// New wraps Deps.NewClient with it, so the main attempt, fallbacks, the
// verification retry, conversation summaries, classification and
// server-side token counts all send redacted text.
type redactingClient struct {
	next llm.Client
	r    *redact.Redactor
}

// Chat sends req with every message redacted.
func (c redactingClient) Chat(ctx context.Context, req llm.ChatRequest, onDelta func(string) error) (llm.Usage, error) {
	msgs := make([]llm.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = llm.Message{Role: m.Role, Content: redactText(ctx, c.r, m.Content)}
	}
	req.Messages = msgs
	return c.next.Chat(ctx, req, onDelta)
}

// CountTokens sends text to the server's tokenizer: it leaves the process
// too.
func (c redactingClient) CountTokens(ctx context.Context, model, text string) (int, bool, error) {
	return c.next.CountTokens(ctx, model, redactText(ctx, c.r, text))
}

// redactText redacts s and adds what it found to the run's tally. A run
// redacts the same large prompt twice (its audit copy, then the request):
// the tally remembers the last result, so the second costs a comparison.
func redactText(ctx context.Context, r *redact.Redactor, s string) string {
	t, ok := ctx.Value(tallyKey{}).(*tally)
	if ok {
		if out, hit := t.recall(r, s); hit {
			return out
		}
	}
	out, found := r.Redact(s)
	if ok {
		t.add(found)
		t.remember(r, s, out)
	}
	return out
}

// tally counts the distinct secrets redacted during one run: the same key
// sent to two models, or in the prompt and its audit copy, counts once. It
// keeps SHA-256 sums, never the secrets.
type tally struct {
	mu   sync.Mutex
	seen map[[sha256.Size]byte]struct{}
	// last is the latest large text redacted in this run and its result.
	last struct {
		r       *redact.Redactor
		in, out string
	}
}

// memoMin is the smallest text worth remembering: short messages redact
// faster than a comparison would save.
const memoMin = 4096

func (t *tally) recall(r *redact.Redactor, s string) (string, bool) {
	if len(s) < memoMin {
		return "", false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last.r == r && t.last.in == s {
		return t.last.out, true
	}
	return "", false
}

func (t *tally) remember(r *redact.Redactor, in, out string) {
	if len(in) < memoMin {
		return
	}
	t.mu.Lock()
	t.last.r, t.last.in, t.last.out = r, in, out
	t.mu.Unlock()
}

type tallyKey struct{}

func withTally(ctx context.Context) (context.Context, *tally) {
	t := &tally{seen: map[[sha256.Size]byte]struct{}{}}
	return context.WithValue(ctx, tallyKey{}, t), t
}

func (t *tally) add(fs []redact.Finding) {
	if len(fs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range fs {
		t.seen[f.Sum] = struct{}{}
	}
}

func (t *tally) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen)
}

// redactMessages returns a redacted copy of msgs (what the dry run shows
// and the audit log may keep) and counts into the run's tally.
func (p *Pipeline) redactMessages(ctx context.Context, msgs []prompt.Message) []prompt.Message {
	if p.d.Redactor == nil {
		return msgs
	}
	out := make([]prompt.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		out[i].Content = redactText(ctx, p.d.Redactor, m.Content)
	}
	return out
}

// restoreSecrets puts the secrets the prompt hid back into edits whose new
// text kept their placeholders, so an edit never overwrites a key with
// "[REDACTED:...]". An edit whose placeholders cannot be matched to the
// secrets of the code it replaces is refused.
func (p *Pipeline) restoreSecrets(original string, tes []TextEdit) error {
	if p.d.Redactor == nil {
		return nil
	}
	for i, te := range tes {
		if !strings.Contains(te.NewText, "[REDACTED:") {
			continue
		}
		restored, ok := p.d.Redactor.Restore(codectx.TextInRange(original, te.Range), te.NewText)
		if !ok {
			return fmt.Errorf("the answer contains a redaction placeholder (a secret hidden from the model) that cannot be matched to the code it replaces; the edit was not made so the secret is kept: make the change by hand, or move the secret out of the code")
		}
		tes[i].NewText = restored
	}
	return nil
}
