package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/prompt"
)

func words(s string) int { return len(strings.Fields(s)) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestStoreKeysLRUAndExpiry(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	s := NewStore(Options{MaxSessions: 2, IdleTTL: time.Minute, Now: c.now})
	a := Key{Path: "/p/user.go", Symbol: "UserService/CreateUser"}
	b := Key{Path: "/p/user.go"} // buffer-level
	d := Key{Path: "/p/other.go"}

	sa, created := s.GetOrCreate(a)
	if !created {
		t.Fatal("first request must create a conversation")
	}
	if again, created := s.GetOrCreate(a); created || again != sa {
		t.Fatal("a follow-up on the same symbol must continue the conversation")
	}
	sb, _ := s.GetOrCreate(b)
	if sb == sa {
		t.Fatal("buffer-level and symbol conversations must differ")
	}
	// Touch a so that b is the least recently used, then add a third.
	c.advance(time.Second)
	s.Get(a)
	s.GetOrCreate(d)
	if _, ok := s.Get(b); ok {
		t.Fatal("the least recently used conversation must be evicted")
	}
	if _, ok := s.Get(a); !ok || s.Len() != 2 {
		t.Fatalf("a must survive; len %d", s.Len())
	}
	// Idle expiry.
	c.advance(59 * time.Second)
	if _, ok := s.Get(d); !ok {
		t.Fatal("d is not idle yet")
	}
	c.advance(61 * time.Second)
	if s.Len() != 0 {
		t.Fatalf("idle conversations must expire, %d left", s.Len())
	}
	if _, created := s.GetOrCreate(a); !created {
		t.Fatal("an expired conversation starts anew")
	}
	s.Delete(a)
	if _, ok := s.Get(a); ok {
		t.Fatal("Delete must end the conversation")
	}
}

// conversation builds: system, user with large context, assistant, then
// turns follow-up/answer pairs, and a final user request.
func conversation(se *Session, turns int) {
	se.Append(prompt.Message{Role: "system", Content: "You are a helpful assistant."})
	var ctxText []string
	for i := 0; i < 200; i++ {
		ctxText = append(ctxText, fmt.Sprintf("line %d of the gathered code context", i))
	}
	se.AppendContext(prompt.Message{Role: "user", Content: "Refactor CreateUser.\n" + strings.Join(ctxText, "\n")})
	se.Append(prompt.Message{Role: "assistant", Content: "Here is the refactored function.\n```go\nfunc CreateUser() {}\n```"})
	for i := 0; i < turns; i++ {
		se.Append(prompt.Message{Role: "user", Content: fmt.Sprintf("Follow-up %d: now also handle case %d please.", i, i)})
		se.Append(prompt.Message{Role: "assistant", Content: fmt.Sprintf("Answer %d. I changed the handling of case %d as asked.", i, i)})
	}
	se.Append(prompt.Message{Role: "user", Content: "Last question: is it thread-safe?"})
}

func count(msgs []prompt.Message) int { return prompt.CountMessages(msgs, words) }

func TestFitWithinBudgetDoesNothing(t *testing.T) {
	se, _ := NewStore(Options{}).GetOrCreate(Key{Path: "a"})
	conversation(se, 2)
	before := se.Messages()
	rep, err := se.Fit(context.Background(), Budget{Model: "m", Limit: 100000, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Truncated+rep.Summarized+rep.Dropped != 0 || len(se.Messages()) != len(before) {
		t.Fatalf("nothing must change: %+v", rep)
	}
	if rep.Tokens != count(before) {
		t.Fatalf("Tokens %d, want %d", rep.Tokens, count(before))
	}
}

func TestFitTruncatesContextFirst(t *testing.T) {
	se, _ := NewStore(Options{KeepLast: 4, MaxContextTokens: 200}).GetOrCreate(Key{Path: "a"})
	conversation(se, 3)
	full := count(se.Messages())
	rep, err := se.Fit(context.Background(), Budget{Model: "m", Limit: full - 500, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Truncated != 1 || rep.Summarized != 0 || rep.Dropped != 0 {
		t.Fatalf("want only the context truncated: %+v", rep)
	}
	msgs := se.Messages()
	if !strings.Contains(msgs[1].Content, "lines truncated to keep the conversation") ||
		!strings.HasPrefix(msgs[1].Content, "Refactor CreateUser.") || !strings.Contains(msgs[1].Content, "line 199 of") {
		t.Fatalf("truncation must keep head and tail with a marker:\n%s", msgs[1].Content)
	}
	if rep.Tokens != count(msgs) || rep.Tokens > full-500 {
		t.Fatalf("Tokens %d, recount %d, limit %d", rep.Tokens, count(msgs), full-500)
	}
}

func TestFitSummarisesOlderTurnsKeepingLastN(t *testing.T) {
	var got []prompt.Message
	sum := func(ctx context.Context, msgs []prompt.Message) (string, error) {
		got = msgs
		return "The user asked to refactor CreateUser and handle cases 0-2.", nil
	}
	se, _ := NewStore(Options{KeepLast: 3, MaxContextTokens: 100, Summarize: sum}).GetOrCreate(Key{Path: "a"})
	conversation(se, 4)
	all := se.Messages()
	rep, err := se.Fit(context.Background(), Budget{Model: "m", Limit: 150, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	msgs := se.Messages()
	if rep.Summarized == 0 || rep.SummaryFallback != "" {
		t.Fatalf("want a model summary: %+v", rep)
	}
	if len(got) != rep.Summarized || got[0].Role != "user" {
		t.Fatalf("summariser got %d messages, report says %d", len(got), rep.Summarized)
	}
	if msgs[0].Role != "system" || !strings.Contains(msgs[0].Content, "Summary of the earlier conversation:\nThe user asked") {
		t.Fatalf("summary must join the system message: %+v", msgs[0])
	}
	if msgs[1].Role != "user" {
		t.Fatalf("the kept part must start with a user message: %+v", msgs[1])
	}
	// The last messages are verbatim.
	for i := 1; i <= 3; i++ {
		if msgs[len(msgs)-i] != all[len(all)-i] {
			t.Fatalf("message -%d changed: %+v", i, msgs[len(msgs)-i])
		}
	}
	if rep.Tokens > 150 || rep.Tokens != count(msgs) {
		t.Fatalf("Tokens %d (recount %d) over 150", rep.Tokens, count(msgs))
	}
}

func TestFitExtractiveFallback(t *testing.T) {
	failing := func(ctx context.Context, msgs []prompt.Message) (string, error) {
		return "", errors.New("model unavailable")
	}
	for name, sum := range map[string]Summarizer{"none": nil, "failing": failing} {
		se, _ := NewStore(Options{KeepLast: 2, MaxContextTokens: 50, Summarize: sum}).GetOrCreate(Key{Path: "a"})
		conversation(se, 3)
		rep, err := se.Fit(context.Background(), Budget{Model: "m", Limit: 120, Count: words})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rep.SummaryFallback == "" || (name == "failing" && !strings.Contains(rep.SummaryFallback, "model unavailable")) {
			t.Fatalf("%s: fallback reason %q", name, rep.SummaryFallback)
		}
		s := se.Summary()
		// Deterministic, one line per message, newest points kept.
		if !strings.Contains(s, "- assistant: Answer 1.") || strings.Contains(s, "func CreateUser") {
			t.Fatalf("%s: extractive summary:\n%s", name, s)
		}
		if rep.Tokens > 120 {
			t.Fatalf("%s: over budget: %d", name, rep.Tokens)
		}
	}
}

func TestFitRecountsOnModelSwitch(t *testing.T) {
	se, _ := NewStore(Options{KeepLast: 2}).GetOrCreate(Key{Path: "a"})
	conversation(se, 1)
	limit := count(se.Messages()) + 10
	rep, err := se.Fit(context.Background(), Budget{Model: "small-vocab", Limit: limit, Count: words})
	if err != nil || rep.Recounted || rep.Summarized != 0 {
		t.Fatalf("first fit: %+v %v", rep, err)
	}
	// The new model's tokenizer needs twice as many tokens: the same
	// conversation no longer fits and must be compacted.
	double := func(s string) int { return 2 * words(s) }
	rep, err = se.Fit(context.Background(), Budget{Model: "other", Limit: limit, Count: double})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Recounted || rep.Truncated+rep.Summarized == 0 {
		t.Fatalf("switching model must recount and compact: %+v", rep)
	}
	if rep.Tokens != prompt.CountMessages(se.Messages(), double) {
		t.Fatalf("Tokens %d, recount with the new counter %d", rep.Tokens, prompt.CountMessages(se.Messages(), double))
	}
}

func TestFitLatestRequestTooLarge(t *testing.T) {
	se, _ := NewStore(Options{}).GetOrCreate(Key{Path: "a"})
	se.Append(prompt.Message{Role: "system", Content: "sys"})
	se.Append(prompt.Message{Role: "user", Content: strings.Repeat("word ", 500)})
	_, err := se.Fit(context.Background(), Budget{Model: "m", Limit: 100, Count: words})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "start a new conversation") {
		t.Fatalf("got %v", err)
	}
	if msgs := se.Messages(); msgs[len(msgs)-1].Role != "user" {
		t.Fatal("the latest request must never be removed")
	}
	if _, err := se.Fit(context.Background(), Budget{Limit: 0}); err == nil {
		t.Fatal("a non-positive limit must be refused")
	}
}

func TestMaxMessagesBound(t *testing.T) {
	se, _ := NewStore(Options{MaxMessages: 10}).GetOrCreate(Key{Path: "a"})
	se.Append(prompt.Message{Role: "system", Content: "sys"})
	for i := 0; i < 30; i++ {
		se.Append(prompt.Message{Role: "user", Content: fmt.Sprintf("question %d?", i)},
			prompt.Message{Role: "assistant", Content: fmt.Sprintf("answer %d.", i)})
	}
	msgs := se.Messages()
	if len(msgs) > 11 || msgs[0].Role != "system" || msgs[1].Role != "user" {
		t.Fatalf("conversation not bounded: %d messages, first %+v %+v", len(msgs), msgs[0], msgs[1])
	}
	if !strings.Contains(se.Summary(), "- user: question 20?") {
		t.Fatalf("folded turns must be summarised:\n%s", se.Summary())
	}
}

func TestConcurrentUse(t *testing.T) {
	s := NewStore(Options{MaxSessions: 4})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				se, _ := s.GetOrCreate(Key{Path: fmt.Sprintf("f%d", (g+i)%6)})
				se.Append(prompt.Message{Role: "user", Content: "hello there friend"})
				if _, err := se.Fit(context.Background(), Budget{Model: "m", Limit: 60, Count: words}); err != nil {
					t.Error(err)
					return
				}
				_ = se.Messages()
			}
		}(g)
	}
	wg.Wait()
	if s.Len() > 4 {
		t.Fatalf("store exceeds its bound: %d", s.Len())
	}
}

func BenchmarkFitCompaction(b *testing.B) {
	for i := 0; i < b.N; i++ {
		se, _ := NewStore(Options{KeepLast: 4}).GetOrCreate(Key{Path: "a"})
		conversation(se, 20)
		if _, err := se.Fit(context.Background(), Budget{Model: "m", Limit: 300, Count: words}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConversationFromBuilder runs the flow the LSP server uses: the first
// request's prompt opens the conversation (its user message marked as
// context), follow-ups add short messages, and switching to a model with
// a smaller window compacts it.
func TestConversationFromBuilder(t *testing.T) {
	b, err := prompt.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	sym := &codectx.Symbol{Name: "CreateUser", NamePath: "UserService/CreateUser", Kind: "Method",
		Body: "func (s *UserService) CreateUser(email string) error {\n\treturn nil\n}"}
	var file []string
	for i := 0; i < 300; i++ {
		file = append(file, fmt.Sprintf("var v%d = %d // filler", i, i))
	}
	in := prompt.Input{Action: prompt.Refactor, Instruction: "validate the email", Language: "go", Path: "/p/user.go",
		Context: codectx.Context{Symbol: sym}, FileText: strings.Join(file, "\n")}
	est := func(s string) int { return prompt.EstimateTokens("qwen", s) }
	p, err := b.Build(in, prompt.Budget{ContextLength: 8192, AnswerReserve: 1024, Count: est})
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore(Options{KeepLast: 4, MaxContextTokens: 300})
	se, created := store.GetOrCreate(Key{Path: in.Path, Symbol: sym.NamePath})
	if !created {
		t.Fatal("want a new conversation")
	}
	se.Append(p.Messages[0])
	se.AppendContext(p.Messages[1])
	se.Append(prompt.Message{Role: "assistant", Content: "```go\nfunc (s *UserService) CreateUser(email string) error {\n\tif email == \"\" {\n\t\treturn errEmpty\n\t}\n\treturn nil\n}\n```"})
	for i, text := range []string{"also trim spaces", "and lower-case it"} {
		in.Instruction = text
		m, err := b.FollowUp(in)
		if err != nil {
			t.Fatal(err)
		}
		se.Append(m, prompt.Message{Role: "assistant", Content: fmt.Sprintf("Done (%d).", i)})
	}
	in.Instruction = "now return a typed error"
	m, _ := b.FollowUp(in)
	se.Append(m)
	again, _ := store.GetOrCreate(Key{Path: in.Path, Symbol: sym.NamePath})
	if again != se {
		t.Fatal("follow-ups must continue the same conversation")
	}
	rep, err := se.Fit(context.Background(), Budget{Model: "qwen2.5-coder:7b", Limit: 8192 - 1024, Count: est})
	if err != nil || rep.Truncated+rep.Summarized != 0 {
		t.Fatalf("the conversation fits the large model: %+v %v", rep, err)
	}
	// A model with a 1k window: the gathered context is truncated first.
	rep, err = se.Fit(context.Background(), Budget{Model: "llama3.2:1b", Limit: 1000, Count: func(s string) int { return prompt.EstimateTokens("llama3", s) }})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Recounted || rep.Truncated == 0 || rep.Tokens > 1000 {
		t.Fatalf("switch to a small model: %+v", rep)
	}
	msgs := se.Messages()
	if last := msgs[len(msgs)-1]; !strings.Contains(last.Content, "now return a typed error") {
		t.Fatalf("the latest request must be last: %+v", last)
	}
}

func TestSummaryBounded(t *testing.T) {
	se, _ := NewStore(Options{MaxMessages: 4}).GetOrCreate(Key{Path: "a"})
	for i := 0; i < 500; i++ {
		se.Append(prompt.Message{Role: "user", Content: fmt.Sprintf("q%d?", i)}, prompt.Message{Role: "assistant", Content: "a."})
	}
	if n := strings.Count(se.Summary(), "\n") + 1; n > maxSummaryLines {
		t.Fatalf("summary has %d lines", n)
	}
	if !strings.Contains(se.Summary(), "q497?") {
		t.Fatalf("the newest folded points must stay:\n%s", se.Summary())
	}
}

// The code a conversation is about survives compaction: a follow-up asked
// after older turns were summarised still sees the function.
func TestCompactionKeepsTheCodeUnderDiscussion(t *testing.T) {
	const body = "func reverseWords(s string) string {\n\twords := strings.Fields(s)\n\tslices.Reverse(words)\n\treturn strings.Join(words, \" \")\n}"
	s := NewStore(Options{KeepLast: 2, MaxContextTokens: 50})
	se, _ := s.GetOrCreate(Key{Path: "/p/main.go", Symbol: "reverseWords"})
	se.Append(prompt.Message{Role: "system", Content: "You are a helpful assistant."})
	se.AppendContext(prompt.Message{Role: "user", Content: "Explain reverseWords.\n```go\n" + body + "\n```\n" + strings.Repeat("context line\n", 300)})
	se.SetSubject("main.go reverseWords:\n```go\n" + body + "\n```")
	se.Append(prompt.Message{Role: "assistant", Content: "It reverses the words."})

	// Whole conversation: the code is sent once, in the first user turn.
	if n := strings.Count(joined(se.Messages()), "slices.Reverse(words)"); n != 1 {
		t.Fatalf("before compaction the code appears %d times", n)
	}
	for i := 0; i < 6; i++ {
		se.Append(prompt.Message{Role: "user", Content: fmt.Sprintf("Follow-up %d: why %s?", i, strings.Repeat("really ", 30))})
		se.Append(prompt.Message{Role: "assistant", Content: fmt.Sprintf("Answer %d: %s.", i, strings.Repeat("because ", 30))})
	}
	se.Append(prompt.Message{Role: "user", Content: "And is it safe for empty input?"})
	rep, err := se.Fit(context.Background(), Budget{Model: "m", Limit: 400, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summarized == 0 {
		t.Fatalf("the test must force a summary: %+v", rep)
	}
	msgs := se.Messages()
	if strings.Contains(joined(msgs[1:]), "Explain reverseWords") {
		t.Fatal("the first turn was not compacted")
	}
	if !strings.Contains(msgs[0].Content, body) || !strings.Contains(msgs[0].Content, "The code under discussion") {
		t.Fatalf("the code under discussion was dropped by compaction; system message:\n%s", msgs[0].Content)
	}
	if last := msgs[len(msgs)-1]; last.Content != "And is it safe for empty input?" {
		t.Errorf("latest request changed: %q", last.Content)
	}
	if rep.Tokens > 400 {
		t.Errorf("over budget: %d", rep.Tokens)
	}
}

func joined(msgs []prompt.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}
