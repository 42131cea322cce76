package llm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLine bounds one streamed line so a misbehaving server cannot make us
// buffer without limit. A token chunk is tiny; 8 MiB leaves room for
// servers that put a whole non-streamed answer on one line.
const maxLine = 8 << 20

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
}

// NewSSEReader wraps r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// Next returns the next event, or io.EOF at the end of the stream.
func (s *SSEReader) Next() (SSEEvent, error) {
	s.data.Reset()
	s.event = ""
	hasData := false
	for {
		line, err := readLine(s.r)
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
}

// NewNDJSONReader wraps r.
func NewNDJSONReader(r io.Reader) *NDJSONReader {
	return &NDJSONReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// Next returns the next non-blank line, or io.EOF. The slice is valid until
// the next call.
func (n *NDJSONReader) Next() ([]byte, error) {
	for {
		line, err := readLine(n.r)
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readLine returns one line without its CR/LF. At the end of the stream it
// returns the last partial line together with io.EOF.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(buf) > maxLine {
				return nil, fmt.Errorf("stream line longer than %d bytes", maxLine)
			}
			line, err = r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	line = bytes.TrimRight(line, "\r\n")
	return line, err
}
