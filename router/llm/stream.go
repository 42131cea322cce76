package llm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultMaxLine bounds one streamed line (and one SSE event, whose data
// lines are joined) so a misbehaving server cannot make us buffer without
// limit: an SSE "data:" stream that never sends the blank line ending the
// event, or an NDJSON line that never ends. A token chunk is a few hundred
// bytes; the chat client raises the bound to twice the answer cap when a
// large max_answer_tokens allows a proxy's whole answer on one line.
const DefaultMaxLine = 1 << 20

// maxDocument bounds whole (non-streamed) JSON documents outside chat, such
// as a tokenizer's list of token ids for a long prompt.
const maxDocument = 8 << 20

// ErrLineTooLong is wrapped by the stream readers when a line or an SSE
// event exceeds their MaxLine: reading stops there.
var ErrLineTooLong = errors.New("stream line too long")

// SSEEvent is one server-sent event.
type SSEEvent struct {
	// Event is the "event:" field, empty for plain data events. llama.cpp
	// reports mid-stream errors with an "error:" field, which is surfaced as
	// Event "error".
	Event string
	Data  []byte
}

// SSEReader reads server-sent events. It tolerates ":" comment lines (pings),
// "event:" and "id:"/"retry:" lines, CRLF line ends and a missing final newline.
type SSEReader struct {
	r     *bufio.Reader
	data  bytes.Buffer
	event string
	// Pings counts comment lines seen, for observability and tests.
	Pings int
	// MaxLine bounds one line and the joined data of one event; beyond it
	// Next returns an error wrapping ErrLineTooLong. NewSSEReader sets
	// DefaultMaxLine.
	MaxLine int
}

// NewSSEReader wraps r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: getReader(r), MaxLine: DefaultMaxLine}
}

// Release hands the read buffer back for the next stream. The reader and
// the events' data stay valid (emit copies it); Next must not be called
// after Release.
func (s *SSEReader) Release() {
	putReader(s.r)
	s.r = nil
}

// readers recycles the 16 KiB read buffers: a gateway at 200 requests a
// second would otherwise allocate (and collect) 3 MiB a second for them.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putReader(br *bufio.Reader) {
	if br == nil {
		return
	}
	br.Reset(nil) // drop the body: the pool must not keep connections alive
	readers.Put(br)
}

// Next returns the next event, or io.EOF at the end of the stream.
func (s *SSEReader) Next() (SSEEvent, error) {
	s.data.Reset()
	s.event = ""
	hasData := false
	for {
		line, err := readLine(s.r, s.MaxLine)
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			if errors.Is(err, io.EOF) && hasData {
				return s.emit(), nil
			}
			return SSEEvent{}, err
		}
		atEOF := err != nil
		if len(line) == 0 {
			if hasData {
				return s.emit(), nil
			}
			s.event = ""
			continue
		}
		if line[0] == ':' {
			s.Pings++
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		if s.data.Len()+len(value) > s.MaxLine {
			// data: lines without the blank line that ends an event would
			// otherwise join into one buffer without end.
			return SSEEvent{}, fmt.Errorf("%w: one event's data exceeds %d bytes without the blank line that ends it", ErrLineTooLong, s.MaxLine)
		}
		switch string(field) {
		case "data":
			if hasData {
				s.data.WriteByte('\n')
			}
			s.data.Write(value)
			hasData = true
		case "error":
			s.event = "error"
			if hasData {
				s.data.WriteByte('\n')
			}
			s.data.Write(value)
			hasData = true
		case "event":
			s.event = string(value)
		default:
			// id, retry and unknown fields carry nothing we use.
		}
		if atEOF {
			if hasData {
				return s.emit(), nil
			}
			return SSEEvent{}, io.EOF
		}
	}
}

func (s *SSEReader) emit() SSEEvent {
	return SSEEvent{Event: s.event, Data: bytes.Clone(s.data.Bytes())}
}

// NDJSONReader reads newline-delimited JSON values, skipping blank lines and
// accepting a last line without a newline.
type NDJSONReader struct {
	r *bufio.Reader
	// MaxLine bounds one line; beyond it Next returns an error wrapping
	// ErrLineTooLong. NewNDJSONReader sets DefaultMaxLine.
	MaxLine int
}

// NewNDJSONReader wraps r.
func NewNDJSONReader(r io.Reader) *NDJSONReader {
	return &NDJSONReader{r: getReader(r), MaxLine: DefaultMaxLine}
}

// Release hands the read buffer back for the next stream: the lines Next
// returned are invalid after it, and Next must not be called again.
func (n *NDJSONReader) Release() {
	putReader(n.r)
	n.r = nil
}

// Next returns the next non-blank line, or io.EOF. The slice is valid until
// the next call.
func (n *NDJSONReader) Next() ([]byte, error) {
	for {
		line, err := readLine(n.r, n.MaxLine)
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readLine returns one line without its CR/LF. At the end of the stream it
// returns the last partial line together with io.EOF. A line longer than max
// bytes is an error wrapping ErrLineTooLong; at most max plus one buffer is
// held.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxLine
	}
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(buf) > max {
				return nil, fmt.Errorf("%w: a line exceeds %d bytes without a line break", ErrLineTooLong, max)
			}
			line, err = r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		if len(buf) > max+2 { // +2: the CR/LF that ends it
			return nil, fmt.Errorf("%w: a line exceeds %d bytes without a line break", ErrLineTooLong, max)
		}
		line = buf
	}
	line = bytes.TrimRight(line, "\r\n")
	return line, err
}
