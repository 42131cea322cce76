package lsp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
)

type fuzzConn struct {
	io.Reader
	io.Writer
}

func (fuzzConn) Close() error { return nil }

// FuzzFraming feeds arbitrary bytes to the server's stream: reading must end
// (every Read consumes input or fails), never panic, allocate no more than
// the limits allow, and everything written back must be well-formed frames
// of JSON-RPC error responses.
func FuzzFraming(f *testing.F) {
	for _, b := range fakeeditor.BadInputs {
		f.Add([]byte(fakeeditor.Frame(b.Body)))
	}
	for _, ff := range fakeeditor.FatalFrames {
		f.Add(ff.Raw)
	}
	f.Add([]byte(fakeeditor.Frame(`{"jsonrpc":"2.0","id":1,"method":"shutdown"}`) + "\r\n" + fakeeditor.Frame(`{"jsonrpc":"2.0","method":"exit"}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		st := lsp.NewStream(fuzzConn{bytes.NewReader(data), &out}, lsp.FramingOptions{MaxMessageBytes: 1 << 20, MaxHeaderLine: 1024})
		ctx := context.Background()
		reads := 0
		for {
			if _, _, err := st.Read(ctx); err != nil {
				break
			}
			if reads++; reads > len(data)+1 {
				t.Fatal("Read keeps returning messages from finite input")
			}
		}
		r := bufio.NewReader(&out)
		for {
			line, err := r.ReadString('\n')
			if err == io.EOF && line == "" {
				return
			}
			n, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Content-Length:")))
			blank, _ := r.ReadString('\n')
			if err != nil || perr != nil || blank != "\r\n" {
				t.Fatalf("bad frame header written: %q %q", line, blank)
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(r, body); err != nil {
				t.Fatal(err)
			}
			var m struct {
				Error *struct{ Code int } `json:"error"`
			}
			if err := json.Unmarshal(body, &m); err != nil || m.Error == nil || m.Error.Code > -32600 || m.Error.Code < -32700 {
				t.Fatalf("written frame is not a JSON-RPC error: %s", body)
			}
		}
	})
}

// handlerMethods are the methods the server dispatches; exit and shutdown
// are left out because they end the session the fuzzer shares.
var handlerMethods = []string{
	"initialize", "initialized", "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
	"textDocument/didSave", "workspace/didChangeConfiguration", "textDocument/codeAction", "workspace/executeCommand",
	"window/workDoneProgress/cancel", "$/cancelRequest", "$/setTrace", "foo/bar", "textDocument/hover",
}

// FuzzHandlers sends every handler arbitrary params, as a request and as a
// notification: each request must be answered, and the server must answer
// the next valid request.
func FuzzHandlers(f *testing.F) {
	for i := range handlerMethods {
		f.Add(uint8(i), true, []byte(`{}`))
		f.Add(uint8(i), false, []byte(`null`))
		f.Add(uint8(i), true, []byte(`"x"`))
		f.Add(uint8(i), false, []byte(`{"textDocument":{"uri":"file:///tmp/fuzz/a.go","version":"7"},"contentChanges":[{"range":{"start":{"line":9}},"text":1}]}`))
	}
	f.Add(uint8(3), false, []byte(`{"textDocument":{"uri":"file:///tmp/fuzz/a.go","version":2},"contentChanges":[{"range":{"start":{"line":9,"character":0},"end":{"line":9,"character":0}},"text":"x"}]}`))
	f.Add(uint8(8), true, []byte(`{"command":"lsp-router.explain","arguments":[{"uri":"file:///tmp/fuzz/a.go","range":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"version":"x"}]}`))
	f.Add(uint8(10), false, []byte(`{"id":{"x":1}}`))
	// One session for all inputs (per fuzzing process): what one input
	// leaves behind (open documents, running commands) is state the next
	// one meets, as in a real session.
	ws := startWire(f, lsp.FramingOptions{}, &stubEngine{run: echoText})
	ws.initialize(f)
	var mu sync.Mutex
	nextID := 10
	f.Fuzz(func(t *testing.T, method uint8, call bool, params []byte) {
		mu.Lock()
		defer mu.Unlock()
		name := handlerMethods[int(method)%len(handlerMethods)]
		raw := params
		if !json.Valid(raw) {
			raw, _ = json.Marshal(string(params))
		}
		nextID++
		id := nextID
		body := fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"params":%s}`, name, raw)
		if call {
			body = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, name, raw)
		}
		if err := ws.w.SendBody(body); err != nil {
			t.Fatalf("server gone: %v\n%s", err, tail(ws.log.String()))
		}
		if call {
			r, err := ws.w.Next(20 * time.Second)
			if err != nil || string(r.ID) != strconv.Itoa(id) {
				t.Fatalf("%s request not answered: %v (got id %s)\n%s", name, err, r.ID, tail(ws.log.String()))
			}
		}
		nextID++
		ws.alive(t, nextID)
	})
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
