package lsp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 4<<20 {
		// Long fuzzing runs log a lot: keep the recent end.
		rest := append([]byte(nil), b.buf.Bytes()[b.buf.Len()-(1<<20):]...)
		b.buf.Reset()
		b.buf.Write(rest)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type wireSession struct {
	w    *fakeeditor.Wire
	exit chan int
	log  *syncBuffer
	dir  string
}

// startWire runs the server on lsp.NewStream, as `serve` does, with a raw
// client on the other end.
func startWire(t testing.TB, framing lsp.FramingOptions, engine router.Engine) *wireSession {
	t.Helper()
	serverEnd, clientEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	ws := &wireSession{exit: make(chan int, 1), log: &syncBuffer{}, dir: t.TempDir()}
	logger := slog.New(slog.NewTextHandler(ws.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	framing.Logger = logger
	go func() {
		ws.exit <- lsp.Serve(ctx, lsp.NewStream(serverEnd, framing), lsp.Options{
			Config:    config.Default(),
			NewEngine: func(*config.Config, string, string) (router.Engine, error) { return engine, nil },
			Logger:    logger,
			Version:   "test",
			CacheDir:  filepath.Join(ws.dir, "answers"),
		})
	}()
	ws.w = fakeeditor.NewWire(clientEnd, clientEnd)
	t.Cleanup(func() {
		cancel()
		clientEnd.Close()
	})
	return ws
}

func (ws *wireSession) initialize(t testing.TB) {
	t.Helper()
	if err := ws.w.Call(1, "initialize", map[string]any{"capabilities": map[string]any{}, "rootUri": fakeeditor.URI(ws.dir)}); err != nil {
		t.Fatal(err)
	}
	if r, err := ws.w.Next(10 * time.Second); err != nil || r.Error != nil {
		t.Fatalf("initialize: %v %+v", err, r.Error)
	}
	if err := ws.w.Notify("initialized", map[string]any{}); err != nil {
		t.Fatal(err)
	}
}

// alive sends a valid request and checks it is answered.
func (ws *wireSession) alive(t testing.TB, id int) {
	t.Helper()
	if err := ws.w.Call(id, "workspace/executeCommand", map[string]any{"command": "lsp-router.cancel", "arguments": []any{}}); err != nil {
		t.Fatalf("write after bad input: %v\nlog:\n%s", err, ws.log)
	}
	r, err := ws.w.Next(10 * time.Second)
	if err != nil {
		t.Fatalf("valid request %d not answered: %v\nlog:\n%s", id, err, ws.log)
	}
	if string(r.ID) != fmt.Sprint(id) || r.Error != nil || !strings.Contains(string(r.Result), `"cancelled"`) {
		t.Fatalf("valid request %d: got id %s result %s error %+v", id, r.ID, r.Result, r.Error)
	}
}

func TestMalformedMessagesAreAnsweredOrDropped(t *testing.T) {
	ws := startWire(t, lsp.FramingOptions{}, &stubEngine{run: echoText})
	ws.initialize(t)
	for i, bad := range fakeeditor.BadInputs {
		if err := ws.w.SendBody(bad.Body); err != nil {
			t.Fatalf("%s: write: %v", bad.Name, err)
		}
		if bad.Code != 0 {
			r, err := ws.w.Next(10 * time.Second)
			if err != nil {
				t.Fatalf("%s: no reply: %v\nlog:\n%s", bad.Name, err, ws.log)
			}
			if r.Error == nil || r.Error.Code != bad.Code || string(r.ID) != bad.ID {
				t.Errorf("%s: reply id %s error %+v, want code %d id %s", bad.Name, r.ID, r.Error, bad.Code, bad.ID)
			} else if r.Error.Message == "" {
				t.Errorf("%s: error without a message", bad.Name)
			}
		}
		// Nothing else was answered, and the server still serves.
		ws.alive(t, 1000+i)
	}
	for _, want := range []string{"malformed notification", "not served by lsp-router", "not valid JSON"} {
		if !strings.Contains(ws.log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestFatalFramingEndsTheConnectionWithALogLine(t *testing.T) {
	for _, ff := range fakeeditor.FatalFrames {
		t.Run(ff.Name, func(t *testing.T) {
			ws := startWire(t, lsp.FramingOptions{}, &stubEngine{run: echoText})
			ws.initialize(t)
			ws.alive(t, 2)
			go ws.w.SendRaw(ff.Raw) // the server may stop reading mid-write
			select {
			case code := <-ws.exit:
				if code == 0 {
					t.Errorf("exit code 0 after a framing error")
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("server still running after %s\nlog:\n%s", ff.Name, ws.log)
			}
			if !strings.Contains(ws.log.String(), "ending the connection") {
				t.Errorf("no log line says why the connection ended:\n%s", ws.log)
			}
		})
	}
}

func TestMessageSizeLimitsAreConfigurable(t *testing.T) {
	ws := startWire(t, lsp.FramingOptions{MaxMessageBytes: 4096, MaxHeaderLine: 64}, &stubEngine{run: echoText})
	ws.initialize(t)
	// Under the limit: served.
	body := fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":%q,"languageId":"go","version":1,"text":%q}}}`,
		fakeeditor.URI(filepath.Join(ws.dir, "a.go")), strings.Repeat("x", 3000))
	ws.w.SendBody(body)
	ws.alive(t, 2)
	// Over it: the session ends.
	go ws.w.SendBody(strings.Replace(body, strings.Repeat("x", 3000), strings.Repeat("x", 5000), 1))
	select {
	case <-ws.exit:
	case <-time.After(10 * time.Second):
		t.Fatal("oversized message did not end the session")
	}
	if !strings.Contains(ws.log.String(), "exceeds the limit of 4096 bytes") {
		t.Errorf("log:\n%s", ws.log)
	}
}

func TestBackgroundCommandPanicIsReportedAndServerLives(t *testing.T) {
	engine := &stubEngine{run: func(context.Context, router.Request, router.ProgressFunc) (*router.Result, error) {
		panic("boom")
	}}
	caps := fakeeditor.FullCaps
	caps.NoExecuteWait = true
	s := start(t, caps, engine)
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	if _, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), "")); err != nil {
		t.Fatalf("execute: %v", err)
	}
	if !s.ed.WaitFor(10*time.Second, func() bool { return len(s.ed.MessagesContaining("internal error (boom)")) == 1 }) {
		t.Fatalf("messages: %+v", s.ed.Messages())
	}
	if _, err := s.ed.Execute(ctx, "lsp-router.cancel"); err != nil {
		t.Fatalf("server dead after a panic: %v", err)
	}
}

// TestExecuteCommandAnswersBeforeTheModel: the engine does not answer until
// the response has arrived, so the order is certain without timing.
func TestExecuteCommandAnswersBeforeTheModel(t *testing.T) {
	release := make(chan struct{})
	engine := &stubEngine{run: func(ctx context.Context, req router.Request, _ router.ProgressFunc) (*router.Result, error) {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &router.Result{Model: "m", Service: "svc", Answer: "the answer"}, nil
	}}
	caps := fakeeditor.FullCaps
	caps.NoExecuteWait = true
	caps.PluginAnswers = true
	s := start(t, caps, engine)
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	res, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		Started bool
		Action  string
		Token   string
	}
	if json.Unmarshal(res, &started); !started.Started || started.Action != "explain" || started.Token == "" {
		t.Fatalf("result %s", res)
	}
	if len(s.ed.Answers()) != 0 {
		t.Fatal("answer before the response")
	}
	close(release)
	if !s.ed.WaitFor(10*time.Second, func() bool { return len(s.ed.Answers()) == 1 }) {
		t.Fatal("no answer after the response")
	}
	if !strings.Contains(string(s.ed.Answers()[0]), "the answer") {
		t.Errorf("answer %s", s.ed.Answers()[0])
	}
	// The work was reported on the token the response named.
	if !s.ed.WaitFor(10*time.Second, func() bool {
		for _, p := range s.ed.Progress() {
			if p.Token == started.Token && p.Kind == "end" {
				return true
			}
		}
		return false
	}) {
		t.Errorf("progress: %+v", s.ed.Progress())
	}
}

func TestBackgroundCommandIsCancelledByItsProgressToken(t *testing.T) {
	stopped := make(chan error, 1)
	engine := &stubEngine{run: func(ctx context.Context, req router.Request, _ router.ProgressFunc) (*router.Result, error) {
		<-ctx.Done()
		stopped <- ctx.Err()
		return nil, ctx.Err()
	}}
	caps := fakeeditor.FullCaps
	caps.NoExecuteWait = true
	s := start(t, caps, engine)
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	res, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
	if err != nil {
		t.Fatal(err)
	}
	var started struct{ Token string }
	json.Unmarshal(res, &started)
	if err := s.ed.CancelProgress(ctx, started.Token); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the background command was not cancelled")
	}
}

func TestExecuteCommandWaitsWhenAskedInInitializationOptions(t *testing.T) {
	caps := fakeeditor.FullCaps
	caps.NoExecuteWait = true
	s := start(t, caps, &stubEngine{run: echoText})
	// The opt-in sits beside configuration keys and must not upset them.
	if _, err := s.ed.Initialize(context.Background(), s.dir, map[string]any{"executeCommandWaits": true}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	res, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
	if err != nil || !strings.Contains(string(res), `"answer":"package a\n"`) {
		t.Fatalf("%v %s", err, res)
	}
	if got := s.ed.MessagesContaining("ignored"); len(got) != 0 {
		t.Errorf("the opt-in was taken for a bad setting: %v", got)
	}
}

func TestLostDidOpenMarksTheDocumentOutOfSync(t *testing.T) {
	engine := &stubEngine{run: echoText}
	ws := startWire(t, lsp.FramingOptions{}, engine)
	ws.initialize(t)
	path := filepath.Join(ws.dir, "a.go")
	// text is a number: the editor has the file open, the server cannot know its text.
	ws.w.SendBody(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":%q,"languageId":"go","version":1,"text":5}}}`, fakeeditor.URI(path)))
	ws.w.Call(2, "workspace/executeCommand", map[string]any{"command": "lsp-router.explain", "arguments": []any{map[string]any{"uri": fakeeditor.URI(path), "range": rng(0, 0, 0, 0)}}})
	r, err := ws.w.Next(10 * time.Second)
	if err != nil || r.Error == nil || r.Error.Message != path+" is out of sync with the editor: save or reopen it, then try again" {
		t.Fatalf("%v %+v", err, r.Error)
	}
	if len(engine.requests()) != 0 {
		t.Fatal("the engine ran on a file it has not seen")
	}
}

// A response the editor garbled must still end the call it answers, or the
// server would wait on it forever.
func TestMalformedResponseFailsThePendingCall(t *testing.T) {
	in := fakeeditor.Frame(`{"jsonrpc":"2.0","id":7,"result":1,"error":"bad"}`)
	st := lsp.NewStream(fuzzConn{strings.NewReader(in), io.Discard}, lsp.FramingOptions{})
	msg, _, err := st.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := msg.(*jsonrpc2.Response)
	if !ok || resp.ID() != jsonrpc2.NewNumberID(7) {
		t.Fatalf("got %#v", msg)
	}
	var rpcErr *jsonrpc2.Error
	if !errors.As(resp.Err(), &rpcErr) || rpcErr.Code != jsonrpc2.InvalidRequest || !strings.Contains(rpcErr.Message, "malformed") {
		t.Fatalf("err %v", resp.Err())
	}
}

// An editor that answers workspace/applyEdit with null has not applied the
// edit; that must not crash the command.
func TestNullApplyEditResultIsNotApplied(t *testing.T) {
	ws := startWire(t, lsp.FramingOptions{}, editEngine("func G() {}"))
	ws.w.Call(1, "initialize", map[string]any{"rootUri": fakeeditor.URI(ws.dir), "capabilities": map[string]any{
		"workspace":    map[string]any{"workspaceEdit": map[string]any{"documentChanges": true}},
		"experimental": map[string]any{"lspRouterExecuteCommandWaits": true},
	}})
	if _, err := ws.w.Next(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	ws.w.Notify("initialized", map[string]any{})
	path := filepath.Join(ws.dir, "a.go")
	ws.w.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": fakeeditor.URI(path), "languageId": "go", "version": 1, "text": "package a\n\nfunc F() {}\n"}})
	ws.w.Call(2, "workspace/executeCommand", map[string]any{"command": "lsp-router.refactor", "arguments": []any{map[string]any{"uri": fakeeditor.URI(path), "range": rng(2, 5, 2, 5), "version": 1, "instruction": "rename"}}})
	r, err := ws.w.Next(10 * time.Second)
	if err != nil || r.Error != nil || !strings.Contains(string(r.Result), `"applied":false`) {
		t.Fatalf("%v %+v %s\n%s", err, r.Error, r.Result, ws.log)
	}
}
