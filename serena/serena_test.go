package serena

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/serena/serenatest"
)

// TestMain lets the test binary act as the fake Serena process, so the
// stdio launch path runs a real subprocess without building anything.
func TestMain(m *testing.M) {
	if os.Getenv("FAKESERENA_MAIN") == "1" {
		os.Exit(serenatest.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func workspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := serenatest.DefaultProject().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startInProcess starts a client on an in-process double.
func startInProcess(t *testing.T, opts serenatest.Options, cfg Config) (*Client, *serenatest.Server, string) {
	t.Helper()
	ws := workspace(t)
	srv := serenatest.NewServer(serenatest.DefaultProject(), opts)
	cfg.Workspace = ws
	cfg.NewTransport = srv.NewTransportFunc()
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 10 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := New(cfg)
	c.Start()
	t.Cleanup(func() { c.Close() })
	waitReady(t, c)
	return c, srv, ws
}

func waitReady(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

func servicesQuery(ws string, line, col int) codectx.Query {
	return codectx.Query{Path: filepath.Join(ws, "test_repo", "services.py"), Text: serenatest.ServicesPy,
		Position: codectx.Position{Line: line, Character: col}, LanguageID: "python", WorkspaceRoot: ws}
}

func subprocessConfig(ws string, logs *syncBuffer, env ...string) Config {
	exe, _ := os.Executable()
	return Config{
		Workspace:  ws,
		Command:    append([]string{exe}, DefaultArgs("{workspace}")...),
		Env:        append([]string{"FAKESERENA_MAIN=1"}, env...),
		MinBackoff: 10 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func TestStdioSubprocessStartToolsAndSymbol(t *testing.T) {
	ws := workspace(t)
	logs := &syncBuffer{}
	c := New(subprocessConfig(ws, logs))
	if st := c.Status().State; st != StateIdle {
		t.Fatalf("state before Start = %s", st)
	}
	if _, err := c.CallTool(context.Background(), ToolFindSymbol, nil); !errors.Is(err, ErrNotReady) {
		t.Fatalf("call before start: %v, want ErrNotReady", err)
	}
	c.Start()
	defer c.Close()
	waitReady(t, c)

	st := c.Status()
	// serverInfo carries the MCP SDK's version; Serena's own comes from
	// its start-up line on stderr.
	if st.ServerName != "Serena" || st.ServerVersion != "1.28.1" {
		t.Errorf("server info = %q %q", st.ServerName, st.ServerVersion)
	}
	if len(st.Tools) != len(serenatest.AllTools) || !c.HasTool(ToolFindReferencingSymbols) {
		t.Errorf("tools = %v", st.Tools)
	}
	sym, err := c.Symbol(context.Background(), servicesQuery(ws, 17, 8))
	if err != nil {
		t.Fatal(err)
	}
	want := codectx.Range{Start: codectx.Position{Line: 11, Character: 4}, End: codectx.Position{Line: 21, Character: 19}}
	if sym.NamePath != "UserService/create_user" || sym.Name != "create_user" || sym.Kind != "Method" || sym.Range != want {
		t.Errorf("symbol = %+v, want UserService/create_user at %v", sym, want)
	}
	if sym.SelectionRange.Start != (codectx.Position{Line: 11, Character: 8}) {
		t.Errorf("selection range = %+v", sym.SelectionRange)
	}
	if !strings.HasPrefix(sym.Body, "def create_user(self, name: str) -> User:\n") || !strings.HasSuffix(sym.Body, "return user") {
		t.Errorf("body = %q", sym.Body)
	}
	if sym.Path != filepath.Join(ws, "test_repo", "services.py") {
		t.Errorf("path = %s", sym.Path)
	}
	c.Close()
	if l := logs.String(); !strings.Contains(l, "usage_reporting=false") || !strings.Contains(l, "serena stderr") ||
		!strings.Contains(l, "project="+ws) {
		t.Errorf("Serena's stderr did not reach the log with SERENA_USAGE_REPORTING=false:\n%s", l)
	}
}

func TestSymbolInnermostClosureAndClass(t *testing.T) {
	c, _, ws := startInProcess(t, serenatest.Options{}, Config{})
	cases := []struct {
		line, col int
		namePath  string
		kind      string
	}{
		{15, 12, "UserService/create_user/validate", "Function"},
		{9, 8, "UserService/__init__", "Constructor"},
		{6, 4, "UserService", "Class"},
		{25, 4, "make_service", "Function"},
	}
	for _, tc := range cases {
		sym, err := c.Symbol(context.Background(), servicesQuery(ws, tc.line, tc.col))
		if err != nil {
			t.Fatalf("line %d: %v", tc.line, err)
		}
		if sym.NamePath != tc.namePath || sym.Kind != tc.kind {
			t.Errorf("line %d: got %s (%s), want %s (%s)", tc.line, sym.NamePath, sym.Kind, tc.namePath, tc.kind)
		}
	}
	if _, err := c.Symbol(context.Background(), servicesQuery(ws, 1, 0)); err == nil || !strings.Contains(err.Error(), "no symbol encloses") {
		t.Errorf("blank line outside symbols: %v", err)
	}
	q := servicesQuery(ws, 1, 0)
	q.Path = "/elsewhere/x.py"
	if _, err := c.Symbol(context.Background(), q); err == nil || !strings.Contains(err.Error(), "outside its project") {
		t.Errorf("file outside the project: %v", err)
	}
}

func TestHoverReferencesDiagnostics(t *testing.T) {
	c, srv, ws := startInProcess(t, serenatest.Options{}, Config{})
	ctx := context.Background()
	q := servicesQuery(ws, 19, 8)
	sym, err := c.Symbol(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkHover(t, ctx, c, srv, q, sym)
	checkReferences(t, ctx, c, ws, q, sym)
	checkDiagnostics(t, ctx, c, q, sym)
}

// checkHover: the hover text comes from the info fetched with the symbol,
// without another find_symbol call.
func checkHover(t *testing.T, ctx context.Context, c *Client, srv *serenatest.Server, q codectx.Query, sym *codectx.Symbol) {
	t.Helper()
	calls := srv.Calls(ToolFindSymbol)
	hover, err := c.Hover(ctx, q, sym)
	if err != nil || !strings.HasPrefix(hover, "(method) def create_user(") {
		t.Errorf("hover = %q, %v", hover, err)
	}
	if srv.Calls(ToolFindSymbol) != calls {
		t.Errorf("Hover called find_symbol again instead of using the info fetched with the symbol")
	}
}

// checkReferences: references in position order, with their container
// and a snippet, capped by the limit.
func checkReferences(t *testing.T, ctx context.Context, c *Client, ws string, q codectx.Query, sym *codectx.Symbol) {
	t.Helper()
	refs, err := c.References(ctx, q, sym, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 3 {
		t.Fatalf("references = %+v, want 3", refs)
	}
	app := filepath.Join(ws, "test_repo", "app.py")
	r := refs[0]
	wantRange := codectx.Range{Start: codectx.Position{Line: 5, Character: 20}, End: codectx.Position{Line: 5, Character: 31}}
	if r.Location.Path != app || r.Location.Range != wantRange || r.Container != "main" {
		t.Errorf("first reference = %+v, want app.py %v in main", r, wantRange)
	}
	if want := "    service = make_service()\n    admin = service.create_user(\"admin\")\n    guest = service.create_user(\"guest\")"; r.Snippet != want {
		t.Errorf("snippet = %q, want %q", r.Snippet, want)
	}
	if refs[2].Container != "Seeder/seed" || refs[2].Location.Range.Start.Line != 12 {
		t.Errorf("third reference = %+v", refs[2])
	}
	if capped, _ := c.References(ctx, q, sym, 2); len(capped) != 2 {
		t.Errorf("limit 2 gave %d references", len(capped))
	}
}

// checkDiagnostics: the file's diagnostics in position order, with
// severity, code and source.
func checkDiagnostics(t *testing.T, ctx context.Context, c *Client, q codectx.Query, sym *codectx.Symbol) {
	t.Helper()
	diags, err := c.Diagnostics(ctx, q, sym)
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 2 {
		t.Fatalf("diagnostics = %+v", diags)
	}
	d := diags[0] // sorted by position: the import error on line 2 first
	if d.Severity != codectx.SeverityError || d.Code != "2001" || d.Range.Start != (codectx.Position{Line: 2, Character: 5}) || d.Source != "Pyright" {
		t.Errorf("first diagnostic = %+v", d)
	}
	if diags[1].Severity != codectx.SeverityWarning || diags[1].Code != "reportRedeclaration" || diags[1].Path != q.Path {
		t.Errorf("second diagnostic = %+v", diags[1])
	}
}

func TestToolAdaptation(t *testing.T) {
	tools := []string{ToolGetSymbolsOverview, ToolFindSymbol, ToolFindReferencingSymbols}
	c, _, ws := startInProcess(t, serenatest.Options{Tools: tools, NoInfoArg: true}, Config{})
	ctx := context.Background()
	q := servicesQuery(ws, 19, 8)
	sym, err := c.Symbol(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Hover(ctx, q, sym); !errors.Is(err, codectx.ErrUnsupported) {
		t.Errorf("hover without include_info: %v, want ErrUnsupported", err)
	}
	if _, err := c.Diagnostics(ctx, q, sym); !errors.Is(err, codectx.ErrUnsupported) {
		t.Errorf("diagnostics without the tool: %v, want ErrUnsupported", err)
	}
	if err := c.ReplaceSymbolBody(ctx, "x", "y", "z"); !errors.Is(err, ErrToolUnavailable) {
		t.Errorf("edit without the tool: %v", err)
	}
}

func TestNonJSONAnswersAndErrors(t *testing.T) {
	opts := serenatest.Options{
		TimeOut: []string{ToolGetSymbolsOverview},
		// Serena 1.0-1.5's plain answer (tools_base.py at v1.5.3).
		Results: map[string]string{
			ToolGetDiagnosticsForFile: "Error: No active project. Ask the user to provide the project path or to select a project from this list of known projects: []",
		},
		Errors: map[string]string{ToolFindDeclaration: "SolidLSPException: language server terminated"},
	}
	c, _, ws := startInProcess(t, opts, Config{})
	ctx := context.Background()
	q := servicesQuery(ws, 19, 8)

	var tt *ToolTimeoutError
	if _, err := c.Symbol(ctx, q); !errors.As(err, &tt) || tt.Seconds != 240 {
		t.Errorf("timeout text: %v", err)
	}
	if _, err := c.Diagnostics(ctx, q, nil); !errors.Is(err, ErrNoActiveProject) {
		t.Errorf("no project text: %v", err)
	}
	var te *ToolError
	if _, err := c.FindDeclaration(ctx, "test_repo/app.py", `(make_service)\(`, false, false); !errors.As(err, &te) ||
		te.Class != "SolidLSPException" || te.Message != "language server terminated" {
		t.Errorf("isError result: %#v", err)
	}
	if _, err := c.FindReferencingSymbols(ctx, "Nope", "test_repo/services.py"); !errors.As(err, &te) ||
		te.Class != "ValueError" || !strings.Contains(te.Message, "No symbol matching 'Nope' found") {
		t.Errorf("unknown symbol: %v", err)
	}
	checkFindSymbolLimits(t, ctx, c)
}

// checkFindSymbolLimits: max_matches and max_answer_chars refusals
// become typed errors, answers within the limits pass, and the
// find_declaration configured to fail still fails with other arguments.
func checkFindSymbolLimits(t *testing.T, ctx context.Context, c *Client) {
	t.Helper()
	var tm *TooManyMatchesError
	if _, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "create_user", MaxMatches: 1, Depth: 0}); err != nil {
		t.Errorf("one match within max_matches=1: %v", err)
	}
	if _, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "User", MaxMatches: 1}); err != nil {
		t.Errorf("no match: %v", err)
	}
	syms, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "/UserService", Depth: 1})
	if err != nil || len(syms) != 1 || len(syms[0].Children) != 2 {
		t.Errorf("anchored find with children: %+v %v", syms, err)
	}
	if _, err := c.CallTool(ctx, ToolFindSymbol, map[string]any{"name_path_pattern": "e", "substring_matching": true, "max_matches": 2}); !errors.As(err, &tm) || tm.Allowed != 2 || tm.Matched < 3 {
		t.Errorf("too many matches: %v", err)
	}
	var tl *AnswerTooLongError
	if _, err := c.CallTool(ctx, ToolFindSymbol, map[string]any{"name_path_pattern": "UserService", "include_body": true, "max_answer_chars": 50}); !errors.As(err, &tl) || tl.Chars <= 50 {
		t.Errorf("answer too long: %v", err)
	}
	decl, err := c.FindDeclaration(ctx, "test_repo/services.py", `def (make_service)`, true, true)
	if err == nil {
		t.Errorf("find_declaration configured to fail returned %+v", decl)
	}
}

func TestEdits(t *testing.T) {
	c, srv, _ := startInProcess(t, serenatest.Options{}, Config{})
	ctx := context.Background()
	body := "def make_service() -> UserService:\n    service = UserService()\n    return service"
	if err := c.ReplaceSymbolBody(ctx, "make_service", "test_repo/services.py", body); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(srv.Project.FileText("test_repo/services.py"), body+"\n") {
		t.Errorf("file after replace:\n%s", srv.Project.FileText("test_repo/services.py"))
	}
	syms, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "make_service", RelativePath: "test_repo/services.py", IncludeBody: true})
	if err != nil || len(syms) != 1 || syms[0].Body != body || syms[0].BodyLocation.EndLine != 26 {
		t.Errorf("symbol after replace = %+v, %v", syms, err)
	}
	if err := c.InsertBeforeSymbol(ctx, "make_service", "test_repo/services.py", "# Factory.\n"); err != nil {
		t.Fatal(err)
	}
	n, err := c.RenameSymbol(ctx, "UserService/create_user", "test_repo/services.py", "add_user")
	if err != nil || n != 4 {
		t.Errorf("rename: %d changes, %v; want 4", n, err)
	}
	if err := c.ReplaceSymbolBody(ctx, "Missing", "test_repo/services.py", "x"); err == nil || !strings.Contains(err.Error(), "No symbol matching") {
		t.Errorf("edit of a missing symbol: %v", err)
	}
}

func TestCallTimeoutThenNextCallWorks(t *testing.T) {
	opts := serenatest.Options{Slow: map[string]time.Duration{ToolFindReferencingSymbols: 500 * time.Millisecond}}
	c, _, ws := startInProcess(t, opts, Config{CallTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	_, err := c.FindReferencingSymbols(ctx, "UserService/create_user", "test_repo/services.py")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("slow tool: %v", err)
	}
	if c.Status().State != StateReady {
		t.Errorf("a timed-out call must not take Serena down: %s", c.Status().State)
	}
	// The slow call still runs inside Serena and delays the next one: give
	// the next call enough time.
	c.cfg.CallTimeout = 30 * time.Second
	if _, err := c.Symbol(ctx, servicesQuery(ws, 19, 8)); err != nil {
		t.Errorf("call after a timeout: %v", err)
	}
}

func TestCrashMidCallRestartsInProcess(t *testing.T) {
	opts := serenatest.Options{CrashTool: ToolFindReferencingSymbols, CrashOnce: true}
	c, _, _ := startInProcess(t, opts, Config{})
	testCrashRestart(t, c)
}

func TestCrashMidCallRestartsSubprocess(t *testing.T) {
	ws := workspace(t)
	logs := &syncBuffer{}
	marker := filepath.Join(t.TempDir(), "crashed")
	c := New(subprocessConfig(ws, logs, serenatest.EnvCrash+"="+ToolFindReferencingSymbols, serenatest.EnvCrashMarker+"="+marker))
	c.Start()
	defer c.Close()
	waitReady(t, c)
	testCrashRestart(t, c)
	if !strings.Contains(logs.String(), "simulated crash") {
		t.Errorf("the crash message on stderr was not logged")
	}
}

func testCrashRestart(t *testing.T, c *Client) {
	t.Helper()
	ctx := context.Background()
	_, err := c.FindReferencingSymbols(ctx, "UserService/create_user", "test_repo/services.py")
	if err == nil || !strings.Contains(err.Error(), "serena stopped during the call") {
		t.Fatalf("call during a crash: %v", err)
	}
	waitReady(t, c)
	refs, err := c.FindReferencingSymbols(ctx, "UserService/create_user", "test_repo/services.py")
	if err != nil || len(refs) != 3 {
		t.Fatalf("after restart: %d refs, %v", len(refs), err)
	}
	if st := c.Status(); st.Restarts < 1 || st.LastError != nil && st.State != StateReady {
		t.Errorf("status after restart = %+v", st)
	}
}

func TestStreamableHTTP(t *testing.T) {
	srv := serenatest.NewServer(serenatest.DefaultProject(), serenatest.Options{}).MCPServer()
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	defer hs.Close()
	ws := workspace(t)
	c := New(Config{Workspace: ws, URL: hs.URL, HTTPClient: hs.Client(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c.Start()
	defer c.Close()
	waitReady(t, c)
	sym, err := c.Symbol(context.Background(), servicesQuery(ws, 19, 8))
	if err != nil || sym.NamePath != "UserService/create_user" {
		t.Fatalf("symbol over HTTP = %+v, %v", sym, err)
	}
}

func TestProbe(t *testing.T) {
	ws := workspace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := Probe(ctx, subprocessConfig(ws, &syncBuffer{}, serenatest.EnvVersion+"=1.5.3"))
	if !res.Found || res.Err != nil || res.Version != "1.5.3" || res.MCPVersion != "1.28.1" || len(res.Tools) != len(serenatest.AllTools) || res.StartTime <= 0 {
		t.Errorf("probe = %+v, want Serena's own version 1.5.3 apart from the MCP SDK's 1.28.1", res)
	}
	res = Probe(ctx, Config{Workspace: ws, Command: []string{"serena-does-not-exist-here"}})
	if res.Found || res.Err == nil {
		t.Errorf("probe of a missing command = %+v", res)
	}
}

func TestGatherWithSerenaFirst(t *testing.T) {
	c, _, ws := startInProcess(t, serenatest.Options{}, Config{})
	q := servicesQuery(ws, 19, 8)
	got := codectx.Gather(context.Background(), []codectx.Source{c, codectx.BufferSource{}}, q, codectx.GatherOptions{})
	if got.Symbol == nil || got.Symbol.NamePath != "UserService/create_user" || got.Hover == "" || len(got.References) != 3 {
		t.Fatalf("gathered = %+v", got)
	}
	if len(got.Diagnostics) != 1 || got.Diagnostics[0].Code != "reportRedeclaration" {
		t.Errorf("diagnostics near the symbol = %+v", got.Diagnostics)
	}
}

// gatedTransport connects only once gate is closed, like a Serena whose
// start (language servers, indexing) takes a while.
type gatedTransport struct {
	mcp.Transport
	gate <-chan struct{}
}

func (g gatedTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	select {
	case <-g.gate:
		return g.Transport.Connect(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func gatedClient(t *testing.T, gate <-chan struct{}, budget time.Duration) *Client {
	t.Helper()
	srv := serenatest.NewServer(serenatest.DefaultProject(), serenatest.Options{})
	next := srv.NewTransportFunc()
	c := New(Config{Workspace: workspace(t), StartBudget: budget, Logger: slog.New(slog.DiscardHandler),
		NewTransport: func() (mcp.Transport, error) {
			tr, err := next()
			return gatedTransport{tr, gate}, err
		}})
	c.Start()
	t.Cleanup(func() { c.Close() })
	return c
}

func TestWaitStartedWaitsForAStartingSerena(t *testing.T) {
	gate := make(chan struct{})
	c := gatedClient(t, gate, time.Minute)
	if _, err := c.CallTool(context.Background(), ToolGetSymbolsOverview, map[string]any{"relative_path": "test_repo/app.py"}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("a tool call does not wait: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.WaitStarted(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("WaitStarted returned %v before Serena was up", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatalf("WaitStarted after the start: %v", err)
	}
	if _, err := c.CallTool(context.Background(), ToolGetSymbolsOverview, map[string]any{"relative_path": "test_repo/app.py"}); err != nil {
		t.Errorf("call after WaitStarted: %v", err)
	}
}

func TestWaitStartedKeepsToTheStartBudget(t *testing.T) {
	c := gatedClient(t, make(chan struct{}), 20*time.Millisecond) // never starts
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 2 { // the second call finds the budget spent
		err := c.WaitStarted(ctx)
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "serena.start_timeout (20ms)") || strings.Contains(err.Error(), "\n") {
			t.Errorf("call %d: %v, want a one-line ErrNotReady naming serena.start_timeout", i, err)
		}
	}
	if ctx.Err() != nil {
		t.Error("WaitStarted waited for the caller's deadline instead of the start budget")
	}
	idle := New(Config{Workspace: t.TempDir()})
	if err := idle.WaitStarted(ctx); !errors.Is(err, ErrNotReady) {
		t.Errorf("never started: %v", err)
	}
}

func TestSymbolWithPre10ChildrenAndOldErrors(t *testing.T) {
	c, _, ws := startInProcess(t, serenatest.Options{LegacyChildren: true, Version: "1.5.3",
		TimeOut: []string{ToolFindReferencingSymbols}}, Config{})
	ctx := context.Background()
	sym, err := c.Symbol(ctx, servicesQuery(ws, 15, 12))
	if err != nil || sym.NamePath != "UserService/create_user/validate" {
		t.Fatalf("symbol from a list of full children = %+v, %v", sym, err)
	}
	var tt *ToolTimeoutError
	if _, err := c.References(ctx, servicesQuery(ws, 15, 12), sym, 5); !errors.As(err, &tt) {
		t.Errorf("1.5 timeout text: %v", err)
	}
}
