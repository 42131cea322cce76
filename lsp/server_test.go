package lsp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
)

// stubEngine is a controllable engine: run decides what a request does.
type stubEngine struct {
	mu   sync.Mutex
	reqs []router.Request
	run  func(ctx context.Context, req router.Request, progress router.ProgressFunc) (*router.Result, error)
}

func (e *stubEngine) Run(ctx context.Context, req router.Request, progress router.ProgressFunc) (*router.Result, error) {
	e.mu.Lock()
	e.reqs = append(e.reqs, req)
	e.mu.Unlock()
	return e.run(ctx, req, progress)
}

func (e *stubEngine) Models(context.Context) ([]router.ModelInfo, error) {
	return []router.ModelInfo{{ID: "qwen2.5-coder:7b", Service: "Ollama", Chat: true}}, nil
}

func (e *stubEngine) requests() []router.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]router.Request(nil), e.reqs...)
}

type session struct {
	ed     *fakeeditor.Editor
	engine *stubEngine
	exit   chan int
	dir    string
}

func start(t *testing.T, caps fakeeditor.Caps, engine *stubEngine) *session {
	t.Helper()
	serverEnd, clientEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{engine: engine, exit: make(chan int, 1), dir: t.TempDir()}
	go func() {
		s.exit <- lsp.Serve(ctx, jsonrpc2.NewHeaderStream(serverEnd), lsp.Options{
			Config:    config.Default(),
			NewEngine: func(*config.Config, string, string) (router.Engine, error) { return engine, nil },
			Version:   "test",
			CacheDir:  filepath.Join(s.dir, "answers"),
		})
	}()
	s.ed = fakeeditor.Connect(ctx, clientEnd, caps)
	t.Cleanup(func() {
		cancel()
		s.ed.Close()
	})
	return s
}

func (s *session) init(t *testing.T) {
	t.Helper()
	if _, err := s.ed.Initialize(context.Background(), s.dir, nil); err != nil {
		t.Fatalf("initialize: %v", err)
	}
}

func rng(l1, c1, l2, c2 int) codectx.Range {
	return codectx.Range{Start: codectx.Position{Line: l1, Character: c1}, End: codectx.Position{Line: l2, Character: c2}}
}

func echoText(ctx context.Context, req router.Request, _ router.ProgressFunc) (*router.Result, error) {
	return &router.Result{Model: "m", Service: "svc", Answer: req.Query.Text}, nil
}

func TestInitializeAdvertisesCapabilities(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	res, err := s.ed.Initialize(context.Background(), s.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := protocol.Marshal(res)
	got := string(b)
	for _, want := range []string{`"positionEncoding":"utf-16"`, `"change":2`, `"openClose":true`, `"lsp-router.explain"`, `"lsp-router.refactor"`, `"lsp-router.cancel"`, `"quickfix"`, `"name":"lsp-router"`} {
		if !strings.Contains(got, want) {
			t.Errorf("initialize result lacks %s:\n%s", want, got)
		}
	}
}

func TestRequestsBeforeInitializeAreRejected(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	_, err := s.ed.Server.CodeAction(context.Background(), &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File("/x.go")}})
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.ServerNotInitialized {
		t.Fatalf("err = %v, want ServerNotInitialized", err)
	}
	s.init(t)
	if _, err := s.ed.Server.CodeAction(context.Background(), &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File("/x.go")}}); err != nil {
		t.Fatalf("after initialize: %v", err)
	}
}

func TestTextSyncFullAndIncrementalWithNonASCII(t *testing.T) {
	engine := &stubEngine{run: echoText}
	s := start(t, fakeeditor.FullCaps, engine)
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	// 😀 is two UTF-16 code units, é and ö one each but two bytes in UTF-8.
	if err := s.ed.Open(ctx, path, "go", "héllo 😀 wörld\r\nsecond line\n"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		rng  codectx.Range
		text string
	}{
		{rng(0, 9, 0, 14), "world"},  // after the emoji: "wörld" -> "world"
		{rng(0, 6, 0, 8), "🙂"},       // replace the emoji itself
		{rng(1, 0, 1, 6), "2nd"},     // second line
		{rng(2, 0, 2, 0), "third\n"}, // insert at the end
		{rng(0, 1, 0, 2), "e"},       // é -> e
	}
	for _, st := range steps {
		if err := s.ed.Edit(ctx, path, st.rng, st.text); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := s.ed.Text(path)
	if want != "hello 🙂 world\r\n2nd line\nthird\n" {
		t.Fatalf("editor text = %q", want)
	}
	res, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Answer string }
	json.Unmarshal(res, &out)
	if out.Answer != want {
		t.Fatalf("server text = %q, want %q", out.Answer, want)
	}
	// A full replacement.
	if err := s.ed.Replace(ctx, path, "ünïcode\n"); err != nil {
		t.Fatal(err)
	}
	res, _ = s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
	json.Unmarshal(res, &out)
	if out.Answer != "ünïcode\n" {
		t.Fatalf("after full change: %q", out.Answer)
	}
}

func TestBadIncrementalChangeMarksDocumentOutOfSync(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "one\n")
	// A change on line 10 of a 1-line document: a client bug.
	s.ed.Server.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri.File(path)}, Version: 2},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: protocol.Range{Start: protocol.Position{Line: 10}, End: protocol.Position{Line: 10}}, Text: "x"}},
	})
	want := path + " is out of sync with the editor: save or reopen it, then try again"
	if !s.ed.WaitFor(5*time.Second, func() bool { return len(s.ed.MessagesContaining(want)) == 1 }) {
		t.Fatalf("no warning; messages: %+v", s.ed.Messages())
	}
	args := map[string]any{"uri": fakeeditor.URI(path), "range": rng(0, 0, 0, 0)}
	_, err := s.ed.Execute(ctx, "lsp-router.explain", args)
	if err == nil || err.Error() != want {
		t.Fatalf("command on an out-of-sync document: err = %v, want %q", err, want)
	}
	if len(s.engine.requests()) != 0 {
		t.Fatal("a command on an out-of-sync document reached the engine")
	}
	// The whole text heals it.
	if err := s.ed.Replace(ctx, path, "two\n"); err != nil {
		t.Fatal(err)
	}
	res, err := s.ed.Execute(ctx, "lsp-router.explain", args)
	var out struct{ Answer string }
	json.Unmarshal(res, &out)
	if err != nil || out.Answer != "two\n" {
		t.Fatalf("after a full change: %v %s", err, res)
	}
}

func TestVersionGoingBackwardsMarksDocumentOutOfSyncUntilSaved(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "one\n")
	s.ed.Edit(ctx, path, rng(0, 0, 0, 0), "x") // version 2
	s.ed.Server.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri.File(path)}, Version: 1},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: protocol.Range{}, Text: "y"}},
	})
	args := map[string]any{"uri": fakeeditor.URI(path), "range": rng(0, 0, 0, 0)}
	if _, err := s.ed.Execute(ctx, "lsp-router.explain", args); err == nil || !strings.Contains(err.Error(), "out of sync with the editor") {
		t.Fatalf("err = %v", err)
	}
	// Saving sends the text (the server asks for includeText): in sync again.
	text := "saved\n"
	s.ed.Server.DidSave(ctx, &protocol.DidSaveTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}, Text: &text})
	res, err := s.ed.Execute(ctx, "lsp-router.explain", args)
	if err != nil || !strings.Contains(string(res), `"answer":"saved\n"`) {
		t.Fatalf("after save: %v %s", err, res)
	}
}

func TestCodeActionsAtCursor(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n\nfunc F() {}\n")
	params := &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}, Range: protocol.Range{Start: protocol.Position{Line: 2, Character: 5}, End: protocol.Position{Line: 2, Character: 5}}}
	titles := func(actions []protocol.CommandOrCodeAction) []string {
		var out []string
		for _, a := range actions {
			ca := a.(*protocol.CodeAction)
			out = append(out, ca.Title+"|"+ca.Command.Command)
		}
		return out
	}
	actions, err := s.ed.Server.CodeAction(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(titles(actions), "\n")
	for _, want := range []string{"Explain|lsp-router.explain", "Refactor…|lsp-router.refactor", "Document|lsp-router.document", "Write tests|lsp-router.tests", "Ask…|lsp-router.ask"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	if strings.Contains(got, "lsp-router.fix") {
		t.Errorf("fix offered without diagnostics:\n%s", got)
	}
	params.Context.Diagnostics = []protocol.Diagnostic{{Range: params.Range, Severity: protocol.DiagnosticSeverityError, Message: protocol.String("undefined: x")}}
	actions, _ = s.ed.Server.CodeAction(ctx, params)
	got = strings.Join(titles(actions), "\n")
	if !strings.Contains(got, `lsp-router: Fix "undefined: x"|lsp-router.fix`) {
		t.Errorf("no fix action:\n%s", got)
	}
	// The fix carries the diagnostic to the engine.
	for _, a := range actions {
		ca := a.(*protocol.CodeAction)
		if ca.Command.Command != "lsp-router.fix" {
			continue
		}
		var args map[string]any
		json.Unmarshal(ca.Command.Arguments[0], &args)
		if _, err := s.ed.Execute(ctx, ca.Command.Command, args); err != nil {
			t.Fatal(err)
		}
	}
	reqs := s.engine.requests()
	if len(reqs) != 1 || len(reqs[0].Query.Diagnostics) != 1 || reqs[0].Query.Diagnostics[0].Message != "undefined: x" {
		t.Fatalf("engine got %+v", reqs)
	}
	// only=quickfix filters.
	params.Context.Only = []protocol.CodeActionKind{protocol.CodeActionKindQuickFix}
	actions, _ = s.ed.Server.CodeAction(ctx, params)
	if len(actions) != 1 {
		t.Errorf("only quickfix: %v", titles(actions))
	}
}

func TestCodeActionsAsBareCommandsForOldClients(t *testing.T) {
	s := start(t, fakeeditor.Caps{}, &stubEngine{run: echoText})
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	actions, err := s.ed.Server.CodeAction(ctx, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}})
	if err != nil || len(actions) == 0 {
		t.Fatalf("actions %v err %v", actions, err)
	}
	if _, ok := actions[0].(*protocol.Command); !ok {
		t.Fatalf("want bare Commands, got %T", actions[0])
	}
}

func editEngine(newText string) *stubEngine {
	return &stubEngine{run: func(ctx context.Context, req router.Request, progress router.ProgressFunc) (*router.Result, error) {
		progress(router.Progress{Stage: router.StageSelecting, Message: "selecting model"})
		progress(router.Progress{Stage: router.StageGenerating, Message: "generating (12 tokens)", Model: "qwen2.5-coder:7b", Service: "Ollama"})
		return &router.Result{Model: "qwen2.5-coder:7b", Service: "Ollama", Category: "coding", FallbackLevel: "primary",
			Label: "lsp-router: refactor F",
			Edits: []router.FileEdit{{Path: req.Query.Path, Version: req.Query.Version, Edits: []router.TextEdit{{Range: rng(2, 0, 2, 11), NewText: newText}}}}}, nil
	}}
}

func TestExecuteCommandReportsProgressAndAppliesEdit(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, editEngine("func F() int { return 1 }"))
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n\nfunc F() {}\n")
	res, err := s.ed.Execute(ctx, "lsp-router.refactor", s.ed.Args(path, rng(2, 5, 2, 5), "return 1"))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Model   string
		Applied bool
	}
	json.Unmarshal(res, &out)
	if !out.Applied || out.Model != "qwen2.5-coder:7b" {
		t.Fatalf("result %s", res)
	}
	if text, v := s.ed.Text(path); text != "package a\n\nfunc F() int { return 1 }\n" || v != 2 {
		t.Fatalf("buffer %q v%d", text, v)
	}
	if reqs := s.engine.requests(); reqs[0].Instruction != "return 1" || reqs[0].Action != router.ActionRefactor {
		t.Errorf("request %+v", reqs[0])
	}
	// Notifications may be handled after the response: wait for the end.
	s.ed.WaitFor(5*time.Second, func() bool {
		ev := s.ed.Progress()
		return len(ev) > 0 && ev[len(ev)-1].Kind == "end"
	})
	ev := s.ed.Progress()
	if len(s.ed.CreatedTokens()) != 1 {
		t.Fatalf("created tokens %v", s.ed.CreatedTokens())
	}
	var kinds []string
	for _, e := range ev {
		if e.Token != s.ed.CreatedTokens()[0] {
			t.Errorf("progress on unknown token %q", e.Token)
		}
		kinds = append(kinds, e.Kind+":"+e.Message)
	}
	got := strings.Join(kinds, ",")
	// Reports made before the editor created the token collapse into the
	// latest one; this engine answers at once, so either may remain.
	reported := strings.Contains(got, "report:generating (12 tokens)") || strings.Contains(got, "report:waiting for the editor to apply the edit")
	if !strings.HasPrefix(got, "begin:gathering context") || !reported || !strings.HasSuffix(got, "end:edit applied (qwen2.5-coder:7b)") {
		t.Fatalf("progress = %s", got)
	}
}

func TestEditsWithoutDocumentChangesUseChanges(t *testing.T) {
	s := start(t, fakeeditor.Caps{}, editEngine("func G() {}"))
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n\nfunc F() {}\n")
	if _, err := s.ed.Execute(ctx, "lsp-router.document", s.ed.Args(path, rng(2, 5, 2, 5), "")); err != nil {
		t.Fatal(err)
	}
	if text, _ := s.ed.Text(path); text != "package a\n\nfunc G() {}\n" {
		t.Fatalf("buffer %q", text)
	}
	// Without workDoneProgress the user still hears about start and end.
	s.ed.WaitFor(5*time.Second, func() bool { return len(s.ed.MessagesContaining("lsp-router: document")) >= 2 })
	if len(s.ed.MessagesContaining("lsp-router: document")) < 2 {
		t.Errorf("messages %+v", s.ed.Messages())
	}
}

func blockingEngine(started chan<- struct{}, stopped chan<- error) *stubEngine {
	return &stubEngine{run: func(ctx context.Context, req router.Request, progress router.ProgressFunc) (*router.Result, error) {
		progress(router.Progress{Stage: router.StageWaiting, Message: "waiting for model"})
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return nil, ctx.Err()
	}}
}

func TestCancelRequestStopsCommand(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan error, 1)
	s := start(t, fakeeditor.FullCaps, blockingEngine(started, stopped))
	s.init(t)
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(context.Background(), path, "go", "package a\n")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
		errc <- err
	}()
	<-started
	// The connection is not blocked while the command runs.
	if _, err := s.ed.Server.CodeAction(context.Background(), &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}}); err != nil {
		t.Fatalf("codeAction during command: %v", err)
	}
	cancel() // sends $/cancelRequest
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("engine saw %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("engine not cancelled")
	}
	if err := <-errc; err == nil {
		t.Fatal("cancelled command returned no error")
	}
	if !s.ed.WaitFor(5*time.Second, func() bool {
		ev := s.ed.Progress()
		return len(ev) > 0 && ev[len(ev)-1].Kind == "end" && ev[len(ev)-1].Message == "cancelled"
	}) {
		t.Fatalf("progress %+v", s.ed.Progress())
	}
}

func TestWorkDoneProgressCancelStopsCommand(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan error, 1)
	s := start(t, fakeeditor.FullCaps, blockingEngine(started, stopped))
	s.init(t)
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(context.Background(), path, "go", "package a\n")
	errc := make(chan error, 1)
	go func() {
		_, err := s.ed.Execute(context.Background(), "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
		errc <- err
	}()
	<-started
	if !s.ed.WaitFor(5*time.Second, func() bool { return len(s.ed.CreatedTokens()) == 1 }) {
		t.Fatal("no progress token created")
	}
	if err := s.ed.CancelProgress(context.Background(), s.ed.CreatedTokens()[0]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("engine not cancelled by workDoneProgress/cancel")
	}
	var rpcErr *jsonrpc2.Error
	if err := <-errc; !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeRequestCancelled {
		t.Fatalf("err = %v, want RequestCancelled", err)
	}
}

func TestStaleDocumentEditIsRefused(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	var once sync.Once
	engine := &stubEngine{run: func(ctx context.Context, req router.Request, progress router.ProgressFunc) (*router.Result, error) {
		once.Do(func() { close(started); <-release })
		return &router.Result{Model: "m", Edits: []router.FileEdit{{Path: req.Query.Path, Version: req.Query.Version, Edits: []router.TextEdit{{Range: rng(0, 0, 0, 7), NewText: "package b"}}}}}, nil
	}}
	s := start(t, fakeeditor.FullCaps, engine)
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	errc := make(chan error, 1)
	args := s.ed.Args(path, rng(0, 0, 0, 0), "rename")
	go func() {
		_, err := s.ed.Execute(ctx, "lsp-router.refactor", args)
		errc <- err
	}()
	// The user types while the model is answering.
	<-started
	s.ed.Edit(ctx, path, rng(1, 0, 1, 0), "// typed\n")
	// A request after the notification: once answered, the server has the change.
	s.ed.Server.CodeAction(ctx, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}})
	close(release)
	err := <-errc
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeContentModified || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v", err)
	}
	if text, _ := s.ed.Text(path); text != "package a\n// typed\n" {
		t.Fatalf("buffer changed: %q", text)
	}
	if len(s.ed.AppliedEdits()) != 0 {
		t.Fatal("a stale edit was sent to the editor")
	}
}

func TestPanicInCommandDoesNotKillServer(t *testing.T) {
	engine := &stubEngine{run: func(context.Context, router.Request, router.ProgressFunc) (*router.Result, error) {
		panic("boom")
	}}
	s := start(t, fakeeditor.FullCaps, engine)
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	_, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), ""))
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.InternalError || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.ed.Server.CodeAction(ctx, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}}); err != nil {
		t.Fatalf("server dead after panic: %v", err)
	}
}

func TestBadCommandsGetJSONRPCErrors(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(ctx, path, "go", "package a\n")
	cases := []struct {
		cmd  string
		args []any
		want string
	}{
		{"lsp-router.nope", []any{map[string]any{}}, "unknown command"},
		{"other.cmd", nil, "unknown command"},
		{"lsp-router.explain", nil, "want one argument object"},
		{"lsp-router.explain", []any{"a string"}, "malformed argument"},
		{"lsp-router.explain", []any{map[string]any{"uri": fakeeditor.URI(path), "rnge": 1}}, "malformed argument"},
		{"lsp-router.explain", []any{map[string]any{"uri": fakeeditor.URI(path), "range": rng(40, 0, 40, 0)}}, "past the end"},
		{"lsp-router.explain", []any{map[string]any{"uri": fakeeditor.URI(path), "range": rng(0, 0, 0, 0), "version": 9}}, "document changed"},
		{"lsp-router.explain", []any{map[string]any{"uri": fakeeditor.URI(filepath.Join(s.dir, "missing.go"))}}, "cannot be read"},
	}
	for _, c := range cases {
		_, err := s.ed.Execute(ctx, c.cmd, c.args...)
		var rpcErr *jsonrpc2.Error
		if !errors.As(err, &rpcErr) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: err = %v, want %q", c.cmd, c.args, err, c.want)
		}
	}
	if len(s.engine.requests()) != 0 {
		t.Errorf("bad commands reached the engine")
	}
}

func TestAnswersReachTheEditor(t *testing.T) {
	engine := &stubEngine{run: func(context.Context, router.Request, router.ProgressFunc) (*router.Result, error) {
		return &router.Result{Model: "m", Service: "svc", Answer: "## F\nreturns nothing"}, nil
	}}
	t.Run("showDocument", func(t *testing.T) {
		s := start(t, fakeeditor.FullCaps, engine)
		s.init(t)
		path := filepath.Join(s.dir, "a.go")
		s.ed.Open(context.Background(), path, "go", "package a\n")
		if _, err := s.ed.Execute(context.Background(), "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), "")); err != nil {
			t.Fatal(err)
		}
		if !s.ed.WaitFor(5*time.Second, func() bool { return len(s.ed.Shown()) == 1 && len(s.ed.Answers()) == 1 }) {
			t.Fatalf("shown %v answers %d", s.ed.Shown(), len(s.ed.Answers()))
		}
		if !strings.HasSuffix(s.ed.Shown()[0], ".md") {
			t.Errorf("shown %v", s.ed.Shown())
		}
	})
	t.Run("plugin", func(t *testing.T) {
		caps := fakeeditor.FullCaps
		caps.PluginAnswers = true
		s := start(t, caps, engine)
		s.init(t)
		if _, err := s.ed.Execute(context.Background(), "lsp-router.ask", map[string]any{"instruction": "why?"}); err != nil {
			t.Fatal(err)
		}
		s.ed.WaitFor(5*time.Second, func() bool { return len(s.ed.Answers()) == 1 })
		var a struct{ Markdown string }
		json.Unmarshal(s.ed.Answers()[0], &a)
		if a.Markdown != "## F\nreturns nothing" || len(s.ed.Shown()) != 0 {
			t.Errorf("answer %+v shown %v", a, s.ed.Shown())
		}
	})
}

func TestExitCodes(t *testing.T) {
	t.Run("exit without shutdown", func(t *testing.T) {
		s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
		s.init(t)
		s.ed.Server.Exit(context.Background())
		if code := <-s.exit; code != 1 {
			t.Fatalf("code %d", code)
		}
	})
	t.Run("shutdown then exit", func(t *testing.T) {
		s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
		s.init(t)
		if err := s.ed.Server.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ed.Server.CodeAction(context.Background(), &protocol.CodeActionParams{}); err == nil {
			t.Error("request after shutdown accepted")
		}
		s.ed.Server.Exit(context.Background())
		if code := <-s.exit; code != 0 {
			t.Fatalf("code %d", code)
		}
	})
	t.Run("stream closed", func(t *testing.T) {
		s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
		s.init(t)
		s.ed.Close()
		select {
		case code := <-s.exit:
			if code != 1 {
				t.Fatalf("code %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("server did not stop when the stream closed")
		}
	})
}

func TestModelsAndCancelCommands(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	s.init(t)
	res, err := s.ed.Execute(context.Background(), "lsp-router.models")
	if err != nil || !strings.Contains(string(res), `"qwen2.5-coder:7b"`) {
		t.Fatalf("models %s %v", res, err)
	}
	res, err = s.ed.Execute(context.Background(), "lsp-router.cancel")
	if err != nil || string(res) != `{"cancelled":0}` {
		t.Fatalf("cancel %s %v", res, err)
	}
}
