// Package answertext is the one place where a model's answer text is
// cleaned: reasoning blocks are removed (whole answers with Strip, streamed
// deltas with Filter, both with the same rules) and text bound for a
// terminal is made safe (Terminal).
//
// Every function runs in time linear in its input: answers come from a
// server we do not control and may be megabytes long.
package answertext

import "strings"

// Reasoning tags, matched in any letter case: <think>, <thinking> and
// <reasoning>, each with its closing tag. Text inside is the model's
// reasoning, not its answer.
//
// The rules, for whole answers and streams alike:
//   - text between an opening tag and its closing tag is reasoning; blocks may
//     nest ("<think>a<think>b</think>c</think>" is one block) and several
//     blocks may alternate with answer text, which is kept;
//   - an opening tag that is never closed makes everything after it
//     reasoning (the model was cut off while thinking);
//   - a closing tag without an opening tag makes everything before it
//     reasoning: models whose chat template opens the block in the prompt
//     (DeepSeek-R1, QwQ) only ever write the closing tag.
var tagNames = [...]string{"think", "thinking", "reasoning"}

// maxTag is the length of the longest tag, "</reasoning>": the most a
// streaming Filter holds back waiting for the rest of a tag.
const maxTag = len("</reasoning>")

// Strip removes the reasoning from a whole answer and reports whether the
// answer had any (a reasoning tag was found). It does not trim the result.
func Strip(s string) (answer string, hadReasoning bool) {
	out, had, _ := strip(s)
	return out, had
}

// StripTrim is Strip without the surrounding white space: what a user is
// shown or what is remembered of an answer.
func StripTrim(s string) string {
	out, _, _ := strip(s)
	return strings.TrimSpace(out)
}

// strip also returns the number of steps taken, for the test that proves
// linear time without measuring wall time.
func strip(s string) (string, bool, int) {
	if strings.IndexByte(s, '<') < 0 {
		return s, false, 1 // the common case: no tag at all, no copy
	}
	var f Filter
	var b strings.Builder
	f.run(s, false, func(t string) { b.WriteString(t) }, b.Reset)
	b.WriteString(f.Flush())
	return b.String(), f.seen, f.steps
}

// Filter removes reasoning from a stream of deltas with the same rules as
// Strip. A tag split across deltas is recognised: up to maxTag bytes that may
// start a tag are held back until the next delta (or Flush). The zero value
// is ready to use; a Filter is not safe for concurrent use.
type Filter struct {
	depth   int    // open reasoning blocks
	pending string // a possible tag prefix held back from the last delta
	seen    bool   // a reasoning tag was seen
	steps   int    // work done, in bytes inspected (for tests)
}

// Write takes the next delta and returns the answer text it adds. reset is
// true when a stray closing tag showed that everything before it, including
// text returned by earlier calls, was reasoning: a display should drop what
// it shows of the answer so far and keep only text.
func (f *Filter) Write(delta string) (text string, reset bool) {
	var b strings.Builder
	f.run(delta, true, func(t string) { b.WriteString(t) }, func() {
		b.Reset()
		reset = true
	})
	return b.String(), reset
}

// Flush ends the stream: a held-back partial tag that never completed is
// answer text (unless inside a reasoning block).
func (f *Filter) Flush() string {
	p := f.pending
	f.pending = ""
	if f.depth > 0 {
		return ""
	}
	return p
}

// Thinking reports whether the stream is inside a reasoning block: a
// progress display shows "thinking…" then.
func (f *Filter) Thinking() bool { return f.depth > 0 }

// Reasoned reports whether a reasoning tag was seen so far.
func (f *Filter) Reasoned() bool { return f.seen }

// run scans delta (after any held-back prefix), passing answer text to emit
// and calling reset at a stray closing tag. streaming holds back a possible
// tag prefix at the end instead of treating it as text.
func (f *Filter) run(delta string, streaming bool, emit func(string), reset func()) {
	s := delta
	if f.pending != "" {
		s = f.pending + delta
		f.pending = ""
	}
	start, i := 0, 0
	for {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			f.steps += len(s) - i
			break
		}
		j += i
		f.steps += j - i + 1
		n, closing, partial := matchTag(s[j:])
		f.steps += min(len(s)-j, maxTag)
		if partial && streaming {
			if f.depth == 0 && j > start {
				emit(s[start:j])
			}
			f.pending = s[j:]
			return
		}
		if n == 0 {
			i = j + 1
			continue
		}
		f.seen = true
		if f.depth == 0 && j > start {
			emit(s[start:j])
		}
		switch {
		case !closing:
			f.depth++
		case f.depth > 0:
			f.depth--
		default:
			reset()
		}
		i = j + n
		start = i
	}
	if f.depth == 0 && start < len(s) {
		emit(s[start:])
	}
}

// matchTag reports whether s starts with a reasoning tag: its length n (0 if
// not), whether it closes a block, and partial when s is a proper prefix of a
// tag (the rest may be in the next delta). It looks at no more than maxTag
// bytes.
func matchTag(s string) (n int, closing, partial bool) {
	// s[0] == '<'
	k := 1
	if len(s) > 1 && s[1] == '/' {
		closing = true
		k = 2
	}
	for _, name := range tagNames {
		full := k + len(name) + 1
		m := min(len(s), full)
		if !hasFoldPrefix(s[k:m], name) {
			continue
		}
		switch {
		case len(s) < full:
			if m == len(s) && (m-k <= len(name)) {
				partial = true
			}
		case s[full-1] == '>':
			return full, closing, false
		}
	}
	if len(s) == 1 || (len(s) == 2 && closing) {
		partial = true
	}
	return 0, closing, partial
}

// hasFoldPrefix reports whether the ASCII letters of t match the start of
// name (lower case) in any letter case; t may be longer than name by the
// closing '>', which is not compared here.
func hasFoldPrefix(t, name string) bool {
	if len(t) > len(name) {
		t = t[:len(name)]
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}
