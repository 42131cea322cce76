package answertext

import (
	"bytes"
	"strings"
	"testing"
)

var terminalCases = []struct{ name, in, want string }{
	{"plain", "hello\n\tworld", "hello\n\tworld"},
	{"title OSC with BEL", "a\x1b]0;pwned\x07b", "ab"},
	{"OSC with ST", "a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
	{"clear screen CSI", "x\x1b[2Jy", "xy"},
	{"colour CSI", "\x1b[1;31mred\x1b[0m", "red"},
	{"private CSI", "\x1b[?1049hz", "z"},
	{"two-byte ESC", "\x1bcreset\x1b7", "reset"},
	{"ESC with intermediate", "\x1b(Bascii", "ascii"},
	{"C0 controls", "bell\x07 bs\x08 nul\x00 vt\x0b ff\x0c", "bell bs nul vt ff"},
	{"CRLF becomes LF", "a\r\nb", "a\nb"},
	{"lone CR dropped", "safe\rEVIL", "safeEVIL"},
	{"DEL", "a\x7fb", "ab"},
	{"C1 CSI", "a\u009b2Jb", "ab"},
	{"C1 OSC", "a\u009d0;t\u009cb", "ab"},
	{"other C1", "a\u0085b", "ab"},
	{"bidi override", "if x \u202e} {\u202c ok", "if x } { ok"},
	{"bidi isolate", "a\u2066b\u2069c", "abc"},
	{"unicode kept", "héllo → 世界 ✓", "héllo → 世界 ✓"},
	{"invalid utf-8", "a\xffb", "a\ufffdb"},
	// "]0;" and 4093 x make maxSeq bytes of sequence; the 13 x after it are text again.
	{"unterminated OSC swallows at most maxSeq", "\x1b]0;" + strings.Repeat("x", maxSeq+10), strings.Repeat("x", 13)},
}

func TestTerminal(t *testing.T) {
	for _, c := range terminalCases {
		t.Run(c.name, func(t *testing.T) {
			if got := Terminal(c.in); got != c.want {
				t.Fatalf("Terminal(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestTerminalFilterAtEverySplit(t *testing.T) {
	for _, c := range terminalCases {
		for i := 0; i <= len(c.in); i++ {
			var f TerminalFilter
			got := f.Write(c.in[:i]) + f.Write(c.in[i:]) + f.Flush()
			if got != c.want {
				t.Fatalf("%s split at %d: %q, want %q", c.name, i, got, c.want)
			}
		}
	}
}

func TestTerminalWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewTerminalWriter(&buf)
	for _, p := range []string{"model \x1b]0;pw", "ned\x07name\x1b[", "2J\n"} {
		if n, err := w.Write([]byte(p)); err != nil || n != len(p) {
			t.Fatalf("n=%d err=%v", n, err)
		}
	}
	if buf.String() != "model name\n" {
		t.Fatalf("got %q", buf.String())
	}
}
