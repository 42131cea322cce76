// Package session keeps follow-up requests on the same symbol or buffer in
// one conversation, and keeps that conversation within the model's
// budget: large context/tool outputs are truncated first, then older turns
// are summarised (by an injected model call, or extractively when there is
// none), while the last messages stay verbatim. Sessions live in a bounded
// LRU with idle expiry.
package session

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/answertext"
	"github.com/lsp-router/lsp-router/router/prompt"
)

// Key identifies a conversation: the file and the symbol's name path, or
// the file alone for buffer-level requests.
type Key struct {
	Path string
	// Symbol is the symbol's name path ("UserService/CreateUser"); empty
	// for requests about the buffer as a whole.
	Symbol string
}

// String renders the key for logs and errors: "path#Symbol" or "path".
func (k Key) String() string {
	if k.Symbol == "" {
		return k.Path
	}
	return k.Path + "#" + k.Symbol
}

// Summarizer condenses older messages into a short text. The lead wires it
// to a model; it must honour ctx.
type Summarizer func(ctx context.Context, msgs []prompt.Message) (string, error)

// Options configure a Store. Zero values take the defaults in brackets.
type Options struct {
	// MaxSessions bounds how many conversations are kept [64]; the least
	// recently used goes first.
	MaxSessions int
	// IdleTTL ends a conversation not used for this long [30m].
	IdleTTL time.Duration
	// KeepLast is how many of the latest messages are never summarised
	// [6].
	KeepLast int
	// MaxContextTokens is the size above which context/tool outputs are
	// truncated when the conversation is over budget [1024].
	MaxContextTokens int
	// MaxMessages bounds a conversation's length regardless of tokens
	// [200]; older messages are folded into the summary extractively.
	MaxMessages int
	// Summarize condenses older turns; nil uses the extractive fallback.
	Summarize Summarizer
	// Now is the clock [time.Now]; tests set it.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.MaxSessions <= 0 {
		o.MaxSessions = 64
	}
	if o.IdleTTL <= 0 {
		o.IdleTTL = 30 * time.Minute
	}
	if o.KeepLast <= 0 {
		o.KeepLast = 6
	}
	if o.MaxContextTokens <= 0 {
		o.MaxContextTokens = 1024
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = 200
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Store holds conversations. It is safe for concurrent use.
type Store struct {
	opts Options
	mu   sync.Mutex
	lru  *list.List // of *Session, most recent first
	byK  map[Key]*list.Element
}

// NewStore returns an empty store.
func NewStore(opts Options) *Store {
	opts.defaults()
	return &Store{opts: opts, lru: list.New(), byK: map[Key]*list.Element{}}
}

// Get returns the live conversation for key, if any, and marks it used.
func (s *Store) Get(key Key) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	el, ok := s.byK[key]
	if !ok {
		return nil, false
	}
	s.touch(el)
	return el.Value.(*Session), true
}

// GetOrCreate returns the conversation for key, starting a new one (and
// reporting created) when there is none or it expired.
func (s *Store) GetOrCreate(key Key) (se *Session, created bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	if el, ok := s.byK[key]; ok {
		s.touch(el)
		return el.Value.(*Session), false
	}
	se = &Session{key: key, opts: &s.opts}
	se.lastUsed.Store(s.opts.Now().UnixNano())
	s.byK[key] = s.lru.PushFront(se)
	for s.lru.Len() > s.opts.MaxSessions {
		s.remove(s.lru.Back())
	}
	return se, true
}

// Delete ends the conversation for key.
func (s *Store) Delete(key Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byK[key]; ok {
		s.remove(el)
	}
}

// Len returns the number of live conversations.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return s.lru.Len()
}

func (s *Store) touch(el *list.Element) {
	el.Value.(*Session).lastUsed.Store(s.opts.Now().UnixNano())
	s.lru.MoveToFront(el)
}

func (s *Store) remove(el *list.Element) {
	se := s.lru.Remove(el).(*Session)
	delete(s.byK, se.key)
}

// expire drops idle conversations from the least recently used end.
func (s *Store) expire() {
	cutoff := s.opts.Now().Add(-s.opts.IdleTTL).UnixNano()
	for el := s.lru.Back(); el != nil; el = s.lru.Back() {
		if el.Value.(*Session).lastUsed.Load() > cutoff {
			return
		}
		s.remove(el)
	}
}

// entry is a message with its token count under the session's model.
type entry struct {
	msg prompt.Message
	// context marks code context and tool output: truncated first.
	context bool
	tokens  int
}

// Session is one conversation. Its methods are safe for concurrent use;
// callers serialise a request's Append/Fit/Messages sequence themselves
// if several requests may run on the same conversation at once.
type Session struct {
	key      Key
	opts     *Options
	lastUsed atomicInt64

	mu      sync.Mutex
	msgs    []entry
	summary string // summary of the turns folded away so far
	// subject is the code under discussion; once the turns that carried
	// it are compacted (compacted), it is kept in the system message so a
	// follow-up still sees the code.
	subject   string
	compacted bool
	model     string // the model the token counts are for
	count     func(string) int
	// sumText and sumTokens cache the count of the system message with
	// the summary.
	sumText   string
	sumTokens int
}

// Key returns the conversation's key.
func (se *Session) Key() Key { return se.key }

// SetSubject records the code under discussion (the symbol's source, as
// the user sees it). It costs nothing while the conversation is whole;
// once older turns are truncated, summarised or dropped, it is sent in the
// system message, and it is the last thing compaction gives up.
func (se *Session) SetSubject(code string) {
	se.mu.Lock()
	defer se.mu.Unlock()
	se.subject = strings.TrimSpace(code)
}

// Append adds messages to the conversation.
func (se *Session) Append(msgs ...prompt.Message) {
	se.mu.Lock()
	defer se.mu.Unlock()
	for _, m := range msgs {
		se.add(entry{msg: m, context: m.Role == "tool"})
	}
}

// AppendContext adds a message that carries gathered code context or tool
// output (any role): when the conversation is over budget, such messages
// are truncated before anything is summarised.
func (se *Session) AppendContext(m prompt.Message) {
	se.mu.Lock()
	defer se.mu.Unlock()
	se.add(entry{msg: m, context: true})
}

func (se *Session) add(e entry) {
	e.tokens = -1
	if se.count != nil {
		e.tokens = se.count(e.msg.Content)
	}
	se.msgs = append(se.msgs, e)
	if len(se.msgs) > se.opts.MaxMessages {
		// Fold the oldest turns (after a system message) extractively.
		from := 0
		if se.msgs[0].msg.Role == "system" {
			from = 1
		}
		to := from + len(se.msgs) - se.opts.MaxMessages
		to = se.alignToUser(to)
		se.summary = extractive(se.summary, se.msgs[from:to])
		se.msgs = append(se.msgs[:from], se.msgs[to:]...)
		se.compacted = true
	}
}

// Messages returns the conversation as it should be sent: the summary of
// folded turns is appended to the system message (a summary in the middle
// of the conversation would break the user/assistant alternation some
// chat templates require).
func (se *Session) Messages() []prompt.Message {
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.messages()
}

func (se *Session) messages() []prompt.Message {
	out := make([]prompt.Message, 0, len(se.msgs)+1)
	for _, e := range se.msgs {
		out = append(out, e.msg)
	}
	text := se.systemExtra()
	if text == "" {
		return out
	}
	if len(out) > 0 && out[0].Role == "system" {
		out[0].Content += "\n\n" + text
	} else {
		out = append([]prompt.Message{{Role: "system", Content: text}}, out...)
	}
	return out
}

const summaryHeader = "Summary of the earlier conversation:\n"

const subjectHeader = "The code under discussion:\n"

// systemExtra is what compaction adds to the system message: the summary
// of folded turns and, once anything was compacted, the code under
// discussion.
func (se *Session) systemExtra() string {
	var parts []string
	if se.summary != "" {
		parts = append(parts, summaryHeader+se.summary)
	}
	if se.compacted && se.subject != "" {
		parts = append(parts, subjectHeader+se.subject)
	}
	return strings.Join(parts, "\n\n")
}

// Summary returns the summary of the turns folded away so far.
func (se *Session) Summary() string {
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.summary
}

// Budget is what Fit must keep the conversation within.
type Budget struct {
	// Model names the model the conversation goes to next; when it
	// differs from the last Fit's, every message is recounted.
	Model string
	// Limit is the model's context length minus the answer reserve.
	Limit int
	// Count counts tokens with the model's tokenizer (or an estimate).
	Count func(string) int
}

// Report says what Fit did.
type Report struct {
	Tokens     int  // size after compaction, as prompt.CountMessages counts
	Recounted  bool // the model changed, so every message was recounted
	Truncated  int  // context/tool messages truncated
	Summarized int  // messages folded into the summary
	Dropped    int  // messages dropped without a summary (last resort)
	// SummaryFallback is set when the injected summariser failed (or was
	// absent) and the extractive summary was used; it holds the reason.
	SummaryFallback string
}

// ErrTooLarge is wrapped by Fit's error when even the latest request alone
// does not fit the budget.
var ErrTooLarge = errors.New("conversation does not fit the model's context")

// Fit compacts the conversation in place until it fits b.Limit: first the
// largest context/tool outputs outside the last KeepLast messages are
// truncated, then the older turns are summarised (the session is locked
// meanwhile, so a model summariser should have its own deadline in ctx),
// then context outputs
// among the last messages are truncated, and as a last resort the oldest
// kept turns are dropped. The latest message is never removed.
func (se *Session) Fit(ctx context.Context, b Budget) (Report, error) {
	if b.Limit <= 0 {
		return Report{}, fmt.Errorf("fit conversation %s: the budget limit %d is not positive", se.key, b.Limit)
	}
	if b.Count == nil {
		b.Count = func(s string) int { return prompt.EstimateTokens(prompt.FamilyOf(b.Model), s) }
	}
	se.mu.Lock()
	defer se.mu.Unlock()
	var rep Report
	rep.Recounted = se.recount(b)
	total := se.total()
	if total <= b.Limit {
		rep.Tokens = total
		return rep, nil
	}
	sysEnd := 0
	if len(se.msgs) > 0 && se.msgs[0].msg.Role == "system" {
		sysEnd = 1
	}
	tail := se.keepFrom(max(sysEnd, len(se.msgs)-se.opts.KeepLast))

	// 1. Truncate large context outputs outside the kept tail, oldest first.
	total = se.truncateUntil(sysEnd, tail, b.Limit, total, &rep)
	// 2. Summarise the older turns.
	if total > b.Limit && tail > sysEnd {
		se.summariseOlder(ctx, sysEnd, tail, b, &rep)
		total = se.total()
	}
	// 3. Truncate context outputs among the kept messages.
	total = se.truncateUntil(sysEnd, -1, b.Limit, total, &rep)
	// 4. Drop the oldest kept turns, keeping the latest user message.
	total = se.dropOldest(sysEnd, b.Limit, total, &rep)
	// 5. The summary goes next, and last of all the code under
	// discussion.
	if total > b.Limit && se.summary != "" {
		se.summary = ""
		total = se.total()
	}
	if total > b.Limit && se.compacted && se.subject != "" {
		se.subject = ""
		total = se.total()
	}
	rep.Tokens = total
	if total > b.Limit {
		return rep, fmt.Errorf("fit conversation %s: %w: the latest request needs %d tokens and %d are available; start a new conversation or choose a model with a larger context",
			se.key, ErrTooLarge, total, b.Limit)
	}
	return rep, nil
}

// recount counts the messages with b.Count: all of them when the model
// changed (it reports whether an earlier count was dropped), else only the
// new ones.
func (se *Session) recount(b Budget) bool {
	if se.model != b.Model || se.count == nil {
		recounted := se.count != nil && se.model != b.Model
		se.model, se.count = b.Model, b.Count
		se.sumText = ""
		for i := range se.msgs {
			se.msgs[i].tokens = b.Count(se.msgs[i].msg.Content)
		}
		return recounted
	}
	se.count = b.Count
	for i := range se.msgs {
		if se.msgs[i].tokens < 0 {
			se.msgs[i].tokens = b.Count(se.msgs[i].msg.Content)
		}
	}
	return false
}

// truncateUntil truncates context outputs among messages [from, to) (to <
// 0: to the end), oldest first, until total fits limit; it returns the new
// total.
func (se *Session) truncateUntil(from, to, limit, total int, rep *Report) int {
	for i := from; (to < 0 && i < len(se.msgs) || i < to) && total > limit; i++ {
		if se.truncate(i, se.opts.MaxContextTokens) {
			rep.Truncated++
			se.compacted = true
			total = se.total()
		}
	}
	return total
}

// summariseOlder folds messages [from, to) into the summary.
func (se *Session) summariseOlder(ctx context.Context, from, to int, b Budget, rep *Report) {
	older := se.msgs[from:to]
	summary, fallback := se.summarise(ctx, older, b)
	rep.SummaryFallback = fallback
	rep.Summarized = len(older)
	se.summary = summary
	se.msgs = append(se.msgs[:from], se.msgs[to:]...)
	se.compacted = true
}

// dropOldest drops the oldest turns after the system message until total
// fits limit, never the latest user message; it returns the new total.
func (se *Session) dropOldest(sysEnd, limit, total int, rep *Report) int {
	for total > limit {
		last := se.lastUser()
		if last <= sysEnd {
			break
		}
		next := se.alignToUser(sysEnd + 1)
		if next > last || next == sysEnd {
			next = last
		}
		rep.Dropped += next - sysEnd
		se.msgs = append(se.msgs[:sysEnd], se.msgs[next:]...)
		se.compacted = true
		total = se.total()
	}
	return total
}

// total counts the messages as they will be sent. The system message
// carrying the summary is counted as one text (token counts do not add up
// exactly across a join), and cached until the summary changes.
func (se *Session) total() int {
	n := prompt.ReplyPriming
	extra := se.systemExtra()
	for i, e := range se.msgs {
		if i == 0 && extra != "" && e.msg.Role == "system" {
			continue
		}
		n += e.tokens + prompt.MessageOverhead
	}
	if extra != "" {
		text := extra
		if len(se.msgs) > 0 && se.msgs[0].msg.Role == "system" {
			text = se.msgs[0].msg.Content + "\n\n" + text
		}
		if se.sumText != text {
			se.sumText, se.sumTokens = text, se.count(text)
		}
		n += se.sumTokens + prompt.MessageOverhead
	}
	return n
}

// keepFrom moves a split point back so the kept part starts with a user
// message (chat templates expect user/assistant alternation) and holds at
// least the messages after i.
func (se *Session) keepFrom(i int) int {
	if len(se.msgs) == 0 {
		return 0
	}
	i = min(i, len(se.msgs)-1)
	for j := i; j >= 0; j-- {
		if se.msgs[j].msg.Role == "user" {
			return j
		}
	}
	return se.alignToUser(i)
}

// alignToUser moves a split point forward to the next user message (or
// back, when there is none after it).
func (se *Session) alignToUser(i int) int {
	for j := i; j < len(se.msgs); j++ {
		if se.msgs[j].msg.Role == "user" {
			return j
		}
	}
	for j := i - 1; j >= 0; j-- {
		if se.msgs[j].msg.Role == "user" {
			return j
		}
	}
	return i
}

func (se *Session) lastUser() int {
	for j := len(se.msgs) - 1; j >= 0; j-- {
		if se.msgs[j].msg.Role == "user" {
			return j
		}
	}
	return -1
}

// truncate cuts context message i to about max tokens, keeping its head
// and tail on line boundaries. It reports whether it changed anything.
func (se *Session) truncate(i, maxTokens int) bool {
	e := &se.msgs[i]
	if !e.context || e.tokens <= maxTokens {
		return false
	}
	lines := strings.Split(e.msg.Content, "\n")
	if len(lines) < 3 {
		return false
	}
	// Find the largest head+tail (split evenly) that fits maxTokens.
	cut := func(keep int) string {
		head := (keep + 1) / 2
		tailN := keep - head
		return strings.Join(lines[:head], "\n") + "\n" +
			fmt.Sprintf("[... %d lines truncated to keep the conversation within the model's context ...]", len(lines)-keep) +
			"\n" + strings.Join(lines[len(lines)-tailN:], "\n")
	}
	lo, hi := 0, len(lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if se.count(cut(mid)) <= maxTokens {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	e.msg.Content = cut(lo)
	e.tokens = se.count(e.msg.Content)
	e.context = false // truncated once; it is no longer large
	return true
}

// summarise folds older messages (and the previous summary) into a new
// summary no larger than a quarter of the budget. It returns the reason
// the extractive fallback was used, if it was.
func (se *Session) summarise(ctx context.Context, older []entry, b Budget) (string, string) {
	maxTokens := max(b.Limit/4, 1)
	fallback := "no summariser configured"
	if se.opts.Summarize != nil {
		in := make([]prompt.Message, 0, len(older)+1)
		if se.summary != "" {
			in = append(in, prompt.Message{Role: "system", Content: summaryHeader + se.summary})
		}
		for _, e := range older {
			in = append(in, e.msg)
		}
		s, err := se.opts.Summarize(ctx, in)
		s = strings.TrimSpace(s)
		switch {
		case err != nil:
			fallback = "summariser failed: " + err.Error()
		case s == "":
			fallback = "summariser returned nothing"
		case b.Count(s) > maxTokens:
			fallback = fmt.Sprintf("summary too long (%d tokens, at most %d)", b.Count(s), maxTokens)
		default:
			return s, ""
		}
	}
	s := extractive(se.summary, older)
	// Keep the most recent points when the summary is too long.
	for b.Count(s) > maxTokens {
		lines := strings.Split(s, "\n")
		if len(lines) <= 1 {
			s = ""
			break
		}
		s = strings.Join(lines[1:], "\n")
	}
	return s, fallback
}

// extractive summarises messages deterministically: one line per message
// with its role and first sentence of prose; code blocks are mentioned,
// not copied.
func extractive(prev string, msgs []entry) string {
	var lines []string
	if prev != "" {
		lines = append(lines, strings.Split(prev, "\n")...)
	}
	for _, e := range msgs {
		if e.msg.Role == "system" {
			continue
		}
		text, code := firstSentence(e.msg.Content)
		if text == "" && !code {
			continue
		}
		line := "- " + e.msg.Role + ": " + text
		if code {
			line += " [with code]"
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	// Bounded memory: a long conversation keeps its most recent points.
	if len(lines) > maxSummaryLines {
		lines = lines[len(lines)-maxSummaryLines:]
	}
	return strings.Join(lines, "\n")
}

// maxSummaryLines bounds the extractive summary.
const maxSummaryLines = 40

// firstSentence returns the first sentence of prose outside code blocks
// (at most 200 characters) and whether the text has a code block.
func firstSentence(s string) (string, bool) {
	inFence, code := false, false
	var prose []string
	s, _ = answertext.Strip(s)
	for _, l := range strings.Split(s, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			inFence = !inFence
			code = true
			continue
		}
		if inFence || t == "" {
			continue
		}
		prose = append(prose, t)
		if strings.ContainsAny(t, ".?!") || len(strings.Join(prose, " ")) > 200 {
			break
		}
	}
	text := strings.Join(prose, " ")
	if i := strings.IndexAny(text, ".?!"); i >= 0 {
		text = text[:i+1]
	}
	if r := []rune(text); len(r) > 200 {
		text = string(r[:199]) + "…"
	}
	return text, code
}
