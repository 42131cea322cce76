package fakeeditor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Wire is a raw LSP client for robustness tests: it writes whatever bytes
// it is given, frames nothing it is not asked to, and reads the server's
// frames without any JSON-RPC library in the way, so a test sees exactly
// what the server answered (or that it did not).
type Wire struct {
	w  io.Writer
	wm sync.Mutex

	responses chan WireMessage
	closed    chan struct{}

	mu            sync.Mutex
	notifications []WireMessage
	readErr       error
}

// WireMessage is one message from the server.
type WireMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// NewWire starts reading the server's output from r; requests go to w.
// Server-to-client requests (workDoneProgress/create, applyEdit,
// showDocument) are answered with a null result so the server never waits.
func NewWire(r io.Reader, w io.Writer) *Wire {
	c := &Wire{w: w, responses: make(chan WireMessage, 64), closed: make(chan struct{})}
	go c.read(bufio.NewReader(r))
	return c
}

func (c *Wire) read(r *bufio.Reader) {
	defer close(c.closed)
	for {
		body, err := readWireFrame(r)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		var m WireMessage
		if err := json.Unmarshal(body, &m); err != nil {
			c.mu.Lock()
			c.readErr = fmt.Errorf("server sent a frame that is not JSON: %v: %q", err, body)
			c.mu.Unlock()
			return
		}
		switch {
		case m.Method != "" && len(m.ID) > 0:
			_ = c.SendBody(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":null}`, m.ID))
		case m.Method != "":
			c.mu.Lock()
			c.notifications = append(c.notifications, m)
			c.mu.Unlock()
		default:
			c.responses <- m
		}
	}
}

func readWireFrame(r *bufio.Reader) ([]byte, error) {
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			if length, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if length < 0 {
		return nil, fmt.Errorf("frame without Content-Length")
	}
	body := make([]byte, length)
	_, err := io.ReadFull(r, body)
	return body, err
}

// SendRaw writes bytes as they are: framing is the caller's.
func (c *Wire) SendRaw(b []byte) error {
	c.wm.Lock()
	defer c.wm.Unlock()
	_, err := c.w.Write(b)
	return err
}

// SendBody frames body with a correct Content-Length and writes it.
func (c *Wire) SendBody(body string) error {
	return c.SendRaw([]byte(Frame(body)))
}

// Frame is body with its LSP header.
func Frame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

// Call sends a request with params marshalled as JSON.
func (c *Wire) Call(id int, method string, params any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return c.SendBody(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, b))
}

// Notify sends a notification.
func (c *Wire) Notify(method string, params any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return c.SendBody(fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"params":%s}`, method, b))
}

// Next returns the next response, or an error when none comes in time or
// the server closed its output.
func (c *Wire) Next(timeout time.Duration) (WireMessage, error) {
	select {
	case m := <-c.responses:
		return m, nil
	case <-c.closed:
		select {
		case m := <-c.responses:
			return m, nil
		default:
		}
		return WireMessage{}, fmt.Errorf("the server closed the connection: %v", c.Err())
	case <-time.After(timeout):
		return WireMessage{}, fmt.Errorf("no response within %v", timeout)
	}
}

// Closed is closed when the server's output ends.
func (c *Wire) Closed() <-chan struct{} { return c.closed }

// Err is why reading stopped.
func (c *Wire) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Notifications returns the notifications received so far.
func (c *Wire) Notifications() []WireMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]WireMessage(nil), c.notifications...)
}

// BadInput is one malformed message a real editor or a hostile peer may
// send, and what the server must do with it.
type BadInput struct {
	Name string
	// Body is framed with a correct Content-Length.
	Body string
	// Code is the JSON-RPC error code of the reply; 0 means the message
	// must not be answered at all (a notification).
	Code int64
	// ID is the reply's id as JSON.
	ID string
}

// BadInputs are the messages that used to kill the server (issue 13), and
// their neighbours. The server must survive each and answer the next
// valid request.
var BadInputs = []BadInput{
	{"invalid JSON", `{"jsonrpc":"2.0","id":1,"method":`, -32700, "null"},
	{"empty body", ``, -32700, "null"},
	{"not an object", `null`, -32600, "null"},
	{"batch", `[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]`, -32600, "null"},
	{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":2,"method":"workspace/executeCommand"}`, -32600, "2"},
	{"jsonrpc missing", `{"id":"s3","method":"workspace/executeCommand"}`, -32600, `"s3"`},
	{"object id", `{"jsonrpc":"2.0","id":{"x":1},"method":"workspace/executeCommand"}`, -32600, "null"},
	{"fractional id", `{"jsonrpc":"2.0","id":1.5,"method":"workspace/executeCommand"}`, -32600, "null"},
	{"numeric method", `{"jsonrpc":"2.0","id":4,"method":5}`, -32600, "4"},
	{"method with result", `{"jsonrpc":"2.0","id":5,"method":"shutdown","result":1}`, -32600, "5"},
	{"unknown request", `{"jsonrpc":"2.0","id":6,"method":"foo/bar","params":{}}`, -32601, "6"},
	{"unknown notification", `{"jsonrpc":"2.0","method":"foo/bar","params":{"a":1}}`, 0, ""},
	{"telemetry notification", `{"jsonrpc":"2.0","method":"telemetry/event","params":{"a":1}}`, 0, ""},
	{"optional $/ notification", `{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"verbose"}}`, 0, ""},
	{"didClose without params", `{"jsonrpc":"2.0","method":"textDocument/didClose"}`, 0, ""},
	{"didChange with a string version", `{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///tmp/robust/x.go","version":"7"},"contentChanges":[{"text":"x"}]}}`, 0, ""},
	{"didOpen with a numeric text", `{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///tmp/robust/y.go","languageId":"go","version":1,"text":5}}}`, 0, ""},
	{"cancelRequest with an object id", `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":{"x":1}}}`, 0, ""},
	{"params not an object", `{"jsonrpc":"2.0","id":7,"method":"textDocument/codeAction","params":"x"}`, -32602, "7"},
	{"executeCommand arguments not an array", `{"jsonrpc":"2.0","id":8,"method":"workspace/executeCommand","params":{"command":"lsp-router.explain","arguments":{}}}`, -32602, "8"},
	{"malformed response", `{"jsonrpc":"2.0","id":9999,"result":1,"error":{"code":1,"message":"x"}}`, 0, ""},
}

// FatalFrames are framings the server cannot resynchronise after: it must
// end the connection with a log line, never hang or answer garbage.
var FatalFrames = []struct {
	Name string
	Raw  []byte
}{
	{"header without colon", []byte("garbage\r\n\r\n{}")},
	{"no Content-Length", []byte("Content-Type: application/vscode-jsonrpc\r\n\r\n{}")},
	{"negative Content-Length", []byte("Content-Length: -5\r\n\r\n{}")},
	{"non-numeric Content-Length", []byte("Content-Length: ten\r\n\r\n{}")},
	{"oversized Content-Length", []byte("Content-Length: 99999999999\r\n\r\n{}")},
	{"endless header line", append([]byte("Content-Length: 1"), bytes.Repeat([]byte("0"), 64<<10)...)},
}
