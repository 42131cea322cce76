package answertext

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

var stripCases = []struct {
	name, in, want string
	had            bool
}{
	{"no tags", "plain answer", "plain answer", false},
	{"empty", "", "", false},
	{"leading block", "<think>hmm</think>answer", "answer", true},
	{"thinking tag", "<thinking>hmm</thinking>answer", "answer", true},
	{"reasoning tag", "<reasoning>hmm</reasoning>answer", "answer", true},
	{"upper case", "<THINK>hmm</THINK>answer", "answer", true},
	{"mixed case", "<Thinking>hmm</tHiNkInG>answer", "answer", true},
	{"mismatched names close", "<think>hmm</thinking>answer", "answer", true},
	{"interleaved text kept", "a<think>x</think>b<think>y</think>c", "abc", true},
	{"nested", "<think>a<think>b</think>c</think>d", "d", true},
	{"unclosed", "answer<think>still thinking", "answer", true},
	{"unclosed nested", "<think>a<think>b</think>c", "", true},
	{"stray close", "reasoning without an opening tag</think>answer", "answer", true},
	{"stray close after a block", "<think>a</think>b</think>c", "c", true},
	{"only reasoning", "<think>just thoughts</think>", "", true},
	{"html kept", "use <b>bold</b> and a < b && c > d", "use <b>bold</b> and a < b && c > d", false},
	{"near misses kept", "<thinker> <think <think/> </ think> <thinkingx>", "<thinker> <think <think/> </ think> <thinkingx>", false},
	{"code kept", "if a<b {\n\treturn x<<2\n}", "if a<b {\n\treturn x<<2\n}", false},
	{"trailing partial tag is text", "answer <thin", "answer <thin", false},
	{"lone open bracket at end", "a <", "a <", false},
	{"multibyte", "<think>ü</think>héllo → wörld", "héllo → wörld", true},
}

func TestStrip(t *testing.T) {
	for _, c := range stripCases {
		t.Run(c.name, func(t *testing.T) {
			got, had := Strip(c.in)
			if got != c.want || had != c.had {
				t.Fatalf("Strip(%q) = %q, %v; want %q, %v", c.in, got, had, c.want, c.had)
			}
		})
	}
	if got := StripTrim("<think>x</think>\n\n  answer \n"); got != "answer" {
		t.Fatalf("StripTrim = %q", got)
	}
}

// filterAll streams in through a Filter cut into the given pieces and
// returns what a display would show at the end.
func filterAll(pieces []string) (string, bool) {
	var f Filter
	var shown strings.Builder
	thinkingSeen := false
	for _, p := range pieces {
		text, reset := f.Write(p)
		if reset {
			shown.Reset()
		}
		shown.WriteString(text)
		thinkingSeen = thinkingSeen || f.Thinking()
	}
	shown.WriteString(f.Flush())
	return shown.String(), thinkingSeen
}

func TestFilterMatchesStripAtEverySplit(t *testing.T) {
	for _, c := range stripCases {
		t.Run(c.name, func(t *testing.T) {
			// Every single split point, and every byte its own delta.
			for i := 0; i <= len(c.in); i++ {
				if got, _ := filterAll([]string{c.in[:i], c.in[i:]}); got != c.want {
					t.Fatalf("split at %d (%q | %q): shown %q, want %q", i, c.in[:i], c.in[i:], got, c.want)
				}
			}
			var bytes []string
			for i := 0; i < len(c.in); i++ {
				bytes = append(bytes, c.in[i:i+1])
			}
			if got, _ := filterAll(bytes); got != c.want {
				t.Fatalf("byte by byte: shown %q, want %q", got, c.want)
			}
		})
	}
}

func TestFilterRandomChunks(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	atoms := []string{"<think>", "</think>", "<THINKING>", "</Thinking>", "<reasoning>", "</reasoning>",
		"<", ">", "</", "<thin", "k>", "text ", "a<b ", "ü", "\n"}
	for n := 0; n < 2000; n++ {
		var in strings.Builder
		for k := rng.Intn(20); k > 0; k-- {
			in.WriteString(atoms[rng.Intn(len(atoms))])
		}
		s := in.String()
		var pieces []string
		for rest := s; rest != ""; {
			k := 1 + rng.Intn(min(len(rest), 9))
			pieces = append(pieces, rest[:k])
			rest = rest[k:]
		}
		want, _ := Strip(s)
		if got, _ := filterAll(pieces); got != want {
			t.Fatalf("%q in %q: filter shows %q, Strip gives %q", s, pieces, got, want)
		}
	}
}

func TestFilterThinkingState(t *testing.T) {
	var f Filter
	if text, _ := f.Write("Sure. <thi"); text != "Sure. " || f.Thinking() {
		t.Fatalf("text %q thinking %v", text, f.Thinking())
	}
	if text, _ := f.Write("nk>plan"); text != "" || !f.Thinking() {
		t.Fatalf("inside: text %q thinking %v", text, f.Thinking())
	}
	if text, _ := f.Write("</THINK>done"); text != "done" || f.Thinking() || !f.Reasoned() {
		t.Fatalf("after: text %q thinking %v", text, f.Thinking())
	}
	var g Filter
	g.Write("reasoning first ")
	if text, reset := g.Write("</think>answer"); !reset || text != "answer" {
		t.Fatalf("stray close: text %q reset %v", text, reset)
	}
}

// adversarial inputs of about n bytes: the shapes that made the old
// strippers quadratic (every block re-copied the rest of the answer).
func adversarial(n int) map[string]string {
	rep := func(unit string) string { return strings.Repeat(unit, n/len(unit)) }
	return map[string]string{
		"many blocks":   rep("<think>x</think>answer "),
		"many opens":    rep("<think>"),
		"many closes":   rep("</think>"),
		"near misses":   rep("<thinkin<thin</thi<"),
		"brackets":      rep("<<<<"),
		"mixed case":    rep("<THINKING>a</thinking>b"),
		"long unclosed": "<think>" + rep("abc "),
	}
}

func TestStripIsLinear(t *testing.T) {
	const n = 1 << 16
	small, large := adversarial(n), adversarial(4*n)
	for name := range small {
		_, _, s1 := strip(small[name])
		_, _, s4 := strip(large[name])
		// Linear: the steps per byte do not grow with the input (within
		// 10%), and stay a small constant. A quadratic stripper's would
		// grow fourfold here.
		per1 := float64(s1) / float64(len(small[name]))
		per4 := float64(s4) / float64(len(large[name]))
		if per4 > 1.1*per1 || per4 > 16 {
			t.Errorf("%s: %d steps for %d bytes, %d for %d bytes: not linear", name, s1, len(small[name]), s4, len(large[name]))
		}
	}
}

func TestStripMegabyteIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	in := adversarial(1 << 20)["many blocks"]
	start := time.Now()
	out, had := Strip(in)
	// A sanity bound only (the benchmark has the real figure): the old
	// code took 20 to 31 s here.
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("1 MB took %s", d)
	}
	if !had || strings.Contains(out, "think") || !strings.HasPrefix(out, "answer answer") {
		t.Fatalf("wrong result: %.60q", out)
	}
}

func BenchmarkStripMegabyte(b *testing.B) {
	in := adversarial(1 << 20)["many blocks"]
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Strip(in)
	}
}

func BenchmarkFilterMegabyte(b *testing.B) {
	in := adversarial(1 << 20)["many blocks"]
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var f Filter
		for rest := in; rest != ""; {
			k := min(len(rest), 7) // token-sized deltas
			f.Write(rest[:k])
			rest = rest[k:]
		}
	}
}
