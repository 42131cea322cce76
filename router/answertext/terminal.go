package answertext

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Terminal makes text from a model or a server safe to print on a terminal:
// it removes escape sequences (CSI such as "\x1b[2J", OSC such as
// "\x1b]0;title\x07", and the other ESC sequences), C0 control characters
// except newline and tab (a lone carriage return could overwrite a line;
// CRLF becomes LF), DEL, C1 control characters (including the 8-bit CSI and
// OSC introducers, whose parameters are removed too) and the bidirectional
// overrides and isolates that reorder what is shown (U+202A..U+202E,
// U+2066..U+2069). Invalid UTF-8 becomes U+FFFD. Everything else, including
// all printable Unicode, is kept.
//
// Use it for text output only: JSON output keeps the data as is (the
// encoder escapes control characters).
func Terminal(s string) string {
	if isPlain(s) {
		return s
	}
	var t TerminalFilter
	return t.Write(s) + t.Flush()
}

// isPlain reports whether s has nothing Terminal would change (printable
// ASCII, newlines and tabs), so the common case allocates nothing.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || (c < 0x20 && c != '\n' && c != '\t') {
			return false
		}
	}
	return true
}

// maxSeq bounds the bytes an unterminated escape sequence may swallow: past
// it, the filter gives up on the sequence and shows text again.
const maxSeq = 4096

type termState uint8

const (
	stText   termState = iota
	stEsc              // after ESC
	stEscInt           // ESC followed by intermediate bytes (0x20-0x2f)
	stCSI              // inside a control sequence, until a final byte 0x40-0x7e
	stString           // OSC, DCS, SOS, PM, APC: until BEL or ST
	stStrEsc           // ESC inside a string: "\x1b\\" ends it
	stCR               // after a carriage return: LF follows in CRLF
)

// TerminalFilter is Terminal for streamed text: a sequence or a UTF-8
// character split across deltas is handled. The zero value is ready to use.
type TerminalFilter struct {
	st      termState
	seqLen  int
	pending string // an incomplete UTF-8 sequence from the last delta
}

// Write returns the safe text for the next delta.
func (t *TerminalFilter) Write(delta string) string {
	s := delta
	if t.pending != "" {
		s = t.pending + delta
		t.pending = ""
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			if !utf8.FullRuneInString(s[i:]) {
				t.pending = s[i:]
				break
			}
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		if t.st != stText && t.st != stCR {
			t.seqLen += size
			if t.seqLen > maxSeq {
				t.st = stText
			}
		}
		switch t.st {
		case stCR:
			t.st = stText
			if r == '\n' {
				b.WriteByte('\n')
				continue
			}
			t.text(&b, r)
		case stText:
			t.text(&b, r)
		case stEsc:
			switch {
			case r == '[':
				t.st = stCSI
			case r == ']' || r == 'P' || r == 'X' || r == '^' || r == '_':
				t.st = stString
			case r >= 0x20 && r <= 0x2f:
				t.st = stEscInt
			default:
				t.st = stText // a two-byte sequence such as ESC c or ESC 7
			}
		case stEscInt:
			if r < 0x20 || r > 0x2f {
				t.st = stText
			}
		case stCSI:
			if r >= 0x40 && r <= 0x7e {
				t.st = stText
			}
		case stString:
			switch r {
			case 0x07, 0x9c:
				t.st = stText
			case 0x1b:
				t.st = stStrEsc
			}
		case stStrEsc:
			if r == '\\' {
				t.st = stText
			} else {
				t.st = stString
			}
		}
	}
	return b.String()
}

// text handles one rune outside any sequence.
func (t *TerminalFilter) text(b *strings.Builder, r rune) {
	t.seqLen = 0
	switch {
	case r == '\n' || r == '\t':
		b.WriteRune(r)
	case r == '\r':
		t.st = stCR
	case r == 0x1b:
		t.st = stEsc
	case r == 0x9b:
		t.st = stCSI
	case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f:
		t.st = stString
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		// other C0 and C1 controls: dropped
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		// bidi embeddings, overrides and isolates: dropped
	case r == utf8.RuneError:
		b.WriteRune(utf8.RuneError)
	default:
		b.WriteRune(r)
	}
}

// Flush ends the stream: an incomplete UTF-8 sequence left over becomes
// U+FFFD.
func (t *TerminalFilter) Flush() string {
	p := t.pending
	t.pending = ""
	t.st = stText
	if p != "" {
		return string(utf8.RuneError)
	}
	return ""
}

// TerminalWriter wraps w so that everything written to it goes through a
// TerminalFilter: for printers that write server-provided strings piece by
// piece (tables of model names, error lines).
type TerminalWriter struct {
	w io.Writer
	f TerminalFilter
}

// NewTerminalWriter returns a TerminalWriter writing to w.
func NewTerminalWriter(w io.Writer) *TerminalWriter { return &TerminalWriter{w: w} }

// Write filters p and writes the result. It reports len(p) on success, as
// io.Writer requires, although fewer bytes may reach w.
func (tw *TerminalWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(tw.w, tw.f.Write(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
