package lsp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"

	"go.lsp.dev/jsonrpc2"
)

// Default bounds of one LSP message. A 10 MB document sent whole in didOpen
// fits with room to spare; a header line is a few dozen bytes in practice.
const (
	DefaultMaxMessageBytes = 64 << 20
	DefaultMaxHeaderLine   = 8 << 10
	// maxHeaderLines bounds the fields of one header block (LSP defines two).
	maxHeaderLines = 32
)

// FramingOptions bound what one message may cost the server.
type FramingOptions struct {
	// MaxMessageBytes caps a message body (Content-Length); zero means
	// DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxHeaderLine caps one header line; zero means DefaultMaxHeaderLine.
	MaxHeaderLine int
	Logger        *slog.Logger
}

// FramingError is a framing fault the stream cannot recover from: without a
// trustworthy Content-Length the next message boundary is unknown, so the
// connection ends.
type FramingError struct {
	Reason string
	// Oversized is set when the frame was well formed but over a limit.
	Oversized bool
}

func (e *FramingError) Error() string {
	hint := "the editor's output is not LSP framing: restart the language server, and report it with this log if it happens again"
	if e.Oversized {
		hint = "raise the limit if the editor really sends messages this large"
	}
	return "lsp-router: ending the connection: " + e.Reason + "; " + hint
}

// NewStream returns the server's LSP stream over conn. Unlike
// jsonrpc2.NewHeaderStream it never ends the connection over a message it
// can frame but not decode: a malformed request is answered with ParseError
// or InvalidRequest, a malformed notification is logged and dropped.
// Header lines and bodies are bounded; a frame over a bound, or a header
// without a usable Content-Length, ends the connection with one log line.
func NewStream(conn io.ReadWriteCloser, opts FramingOptions) jsonrpc2.Stream {
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.MaxHeaderLine <= 0 {
		opts.MaxHeaderLine = DefaultMaxHeaderLine
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &stream{conn: conn, in: bufio.NewReaderSize(conn, 64<<10), opts: opts, broken: make(chan struct{})}
}

type stream struct {
	conn io.ReadWriteCloser
	in   *bufio.Reader
	opts FramingOptions

	writeMu sync.Mutex
	wbuf    []byte

	brokenOnce sync.Once
	broken     chan struct{} // closed on a framing error
}

// Broken is closed when the stream met a framing error: Serve stops then
// even if a command is still running, so a broken editor never leaves the
// process behind.
func (s *stream) Broken() <-chan struct{} { return s.broken }

// Read returns the next well-formed message, answering or dropping the
// malformed ones in between.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		body, n, err := s.readFrame()
		if err != nil {
			var fe *FramingError
			if errors.As(err, &fe) {
				s.opts.Logger.Error(fe.Error())
				s.brokenOnce.Do(func() { close(s.broken) })
			}
			return nil, 0, err
		}
		msg, err := jsonrpc2.DecodeMessage(body)
		if err == nil {
			return msg, n, nil
		}
		if resp := s.reject(ctx, body); resp != nil {
			return resp, n, nil
		}
	}
}

// readFrame reads one header block and its body. The body is a fresh slice:
// decoded requests borrow it, and a fresh one per frame needs no reasoning
// about when the read loop may reuse it.
func (s *stream) readFrame() ([]byte, int64, error) {
	length := int64(-1)
	var consumed int64
	for lines := 0; ; lines++ {
		line, err := s.readHeaderLine()
		if err != nil {
			if err == io.EOF && consumed > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, 0, err
		}
		consumed += int64(len(line))
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if lines == 0 {
				// Blank lines between frames are harmless: skip them.
				lines--
				continue
			}
			break
		}
		if lines >= maxHeaderLines {
			return nil, 0, &FramingError{Reason: fmt.Sprintf("a message header has more than %d lines", maxHeaderLines)}
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return nil, 0, &FramingError{Reason: fmt.Sprintf("header line %q has no colon (want \"Content-Length: <bytes>\")", clip(line, 60))}
		}
		if !bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
			continue // Content-Type and unknown fields are ignored
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
		if err != nil || n < 0 {
			return nil, 0, &FramingError{Reason: fmt.Sprintf("Content-Length %q is not a byte count", clip(value, 40))}
		}
		if n > s.opts.MaxMessageBytes {
			return nil, 0, &FramingError{Oversized: true, Reason: fmt.Sprintf("a message of %d bytes exceeds the limit of %d bytes (serve --max-message-bytes)", n, s.opts.MaxMessageBytes)}
		}
		length = n
	}
	if length < 0 {
		return nil, 0, &FramingError{Reason: "a message header has no Content-Length"}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(s.in, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	return body, consumed + length, nil
}

// readHeaderLine reads one line, refusing to buffer more than the limit.
func (s *stream) readHeaderLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.in.ReadSlice('\n')
		if len(line)+len(chunk) > s.opts.MaxHeaderLine {
			return nil, &FramingError{Oversized: true, Reason: fmt.Sprintf("a message header line is longer than %d bytes (serve --max-header-bytes)", s.opts.MaxHeaderLine)}
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// envelope is a lenient view of a message that jsonrpc2 refused, enough to
// know whom to answer.
type envelope struct {
	JSONRPC json.RawMessage `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

// reject handles a frame that is not a valid JSON-RPC message. A request
// with a usable id gets an error response; a notification is dropped; a
// malformed response with a usable id is turned into an error response for
// the call it answers (returned, for the connection to deliver), so the
// caller does not wait forever.
func (s *stream) reject(ctx context.Context, body []byte) jsonrpc2.Message {
	log := s.opts.Logger
	if !json.Valid(body) {
		log.Warn("message is not valid JSON; answered with ParseError", "bytes", len(body), "start", string(clip(body, 80)))
		s.replyError(ctx, jsonrpc2.ID{}, jsonrpc2.Errorf(jsonrpc2.ParseError, "the message is not valid JSON; it was ignored"))
		return nil
	}
	var env envelope
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' || json.Unmarshal(body, &env) != nil {
		log.Warn("message is not a JSON object; answered with InvalidRequest", "start", string(clip(body, 80)))
		s.replyError(ctx, jsonrpc2.ID{}, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "a message must be one JSON object (batches are not part of LSP); it was ignored"))
		return nil
	}
	id, idState := parseID(env.ID)
	reason := env.problem()
	if isPresent(env.Method) {
		method := string(clip(env.Method, 80))
		switch idState {
		case idAbsent:
			log.Warn("malformed notification dropped", "method", method, "problem", reason)
		case idValid:
			log.Warn("malformed request answered with InvalidRequest", "method", method, "problem", reason)
			s.replyError(ctx, id, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "invalid request: %s", reason))
		default:
			log.Warn("request with an unusable id answered with InvalidRequest", "method", method, "id", string(clip(env.ID, 40)))
			s.replyError(ctx, jsonrpc2.ID{}, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "invalid request: \"id\" must be an integer or a string"))
		}
		return nil
	}
	if idState == idValid {
		log.Warn("malformed response from the editor; the call fails", "problem", reason)
		return jsonrpc2.NewResponse(id, nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "the editor's response was malformed: %s", reason))
	}
	log.Warn("malformed message without method or usable id dropped", "problem", reason)
	return nil
}

// problem names what is wrong with a message in words a user can act on.
func (e *envelope) problem() string {
	switch {
	case string(e.JSONRPC) != `"2.0"`:
		return `"jsonrpc" must be "2.0"`
	case isPresent(e.Method) && e.Method[0] != '"':
		return `"method" must be a string`
	case isPresent(e.Method) && (e.Result != nil || e.Error != nil):
		return `a request cannot carry "result" or "error"`
	case !isPresent(e.Method) && e.Result == nil && e.Error == nil:
		return `a message needs "method" (request) or "result"/"error" (response)`
	case e.Error != nil && !bytes.HasPrefix(bytes.TrimSpace(e.Error), []byte("{")):
		return `"error" must be an object with "code" and "message"`
	}
	return "the message does not follow JSON-RPC 2.0"
}

type idKind int

const (
	idAbsent idKind = iota
	idValid
	idInvalid
)

// parseID accepts what jsonrpc2 accepts: an integer or a string; absent and
// null mean a notification.
func parseID(raw json.RawMessage) (jsonrpc2.ID, idKind) {
	if !isPresent(raw) {
		return jsonrpc2.ID{}, idAbsent
	}
	var sv string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &sv) == nil {
			return jsonrpc2.NewStringID(sv), idValid
		}
		return jsonrpc2.ID{}, idInvalid
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return jsonrpc2.NewNumberID(n), idValid
	}
	return jsonrpc2.ID{}, idInvalid
}

func isPresent(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

func (s *stream) replyError(ctx context.Context, id jsonrpc2.ID, err *jsonrpc2.Error) {
	if _, werr := s.Write(ctx, jsonrpc2.NewResponse(id, nil, err)); werr != nil {
		s.opts.Logger.Debug("error reply not written", "err", werr)
	}
}

// Write frames msg with one write to the connection.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	const reserve = len("Content-Length: ") + 20 + len("\r\n\r\n")
	buf := append(s.wbuf[:0], make([]byte, reserve)...)
	buf = jsonrpc2.AppendMessage(buf, msg)
	bodyLen := len(buf) - reserve
	header := fmt.Appendf(nil, "Content-Length: %d\r\n\r\n", bodyLen)
	start := reserve - len(header)
	copy(buf[start:], header)
	n, err := s.conn.Write(buf[start:])
	// Keep the buffer for the next message unless one large answer would
	// pin its memory for the rest of the session.
	if cap(buf) <= 1<<20 {
		s.wbuf = buf
	} else {
		s.wbuf = nil
	}
	return int64(n), err
}

// Close closes the connection.
func (s *stream) Close() error { return s.conn.Close() }

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
