package serena

// Wire-level conformance: the exact answers a real Serena sends, written
// by hand from its source (not produced by serenatest), replayed over MCP
// to the client. Unless a fixture says otherwise the source is
// oraios/serena at 7fcbca7e62555ec2287ddb2f083caee805848ea6
// (v1.7.0-19-g7fcbca7e, 2026-08-20) with the Python MCP SDK 1.28.1 it pins.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/serena/serenatest"
)

// reply is one recorded tool result.
type reply struct {
	text    string
	isError bool
}

// replayServer answers tool calls with recorded results, keyed by tool and
// canonical arguments, and fails the test on any call it has no answer for.
type replayServer struct {
	t       *testing.T
	answers map[string]reply
	mu      sync.Mutex
	calls   []string
}

func canonical(tool string, args map[string]any) string {
	b, _ := json.Marshal(args) // encoding/json sorts map keys
	return tool + " " + string(b)
}

// schemas are the input schemas the client adapts to: the parameters of
// FindSymbolTool.apply and FindReferencingSymbolsTool.apply.
var replaySchemas = map[string][]string{
	ToolGetSymbolsOverview:     {"relative_path", "depth", "max_answer_chars"},
	ToolFindSymbol:             {"name_path_pattern", "depth", "relative_path", "include_body", "include_info", "include_kinds", "exclude_kinds", "substring_matching", "max_matches", "max_answer_chars"},
	ToolFindReferencingSymbols: {"name_path", "relative_path", "include_kinds", "exclude_kinds", "max_answer_chars"},
	ToolGetDiagnosticsForFile:  {"relative_path", "start_line", "end_line", "min_severity", "max_answer_chars"},
}

func (r *replayServer) transport() func() (mcp.Transport, error) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "Serena", Version: "1.28.1"}, nil)
	for tool, params := range replaySchemas {
		props := map[string]any{}
		for _, p := range params {
			props[p] = map[string]any{"title": p}
		}
		srv.AddTool(&mcp.Tool{Name: tool, InputSchema: map[string]any{"type": "object", "properties": props}},
			func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				var args map[string]any
				if len(req.Params.Arguments) > 0 {
					if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
						return nil, err
					}
				}
				key := canonical(tool, args)
				r.mu.Lock()
				r.calls = append(r.calls, key)
				a, ok := r.answers[key]
				r.mu.Unlock()
				if !ok {
					r.t.Errorf("unexpected call %s", key)
					return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "Error executing tool " + tool + ": no recording"}}}, nil
				}
				res := &mcp.CallToolResult{IsError: a.isError, Content: []mcp.Content{&mcp.TextContent{Text: a.text}}}
				if !a.isError {
					res.StructuredContent = map[string]any{"result": a.text}
				}
				return res, nil
			})
	}
	return func() (mcp.Transport, error) {
		ct, st := mcp.NewInMemoryTransports()
		if _, err := srv.Connect(context.Background(), st, nil); err != nil {
			return nil, err
		}
		return ct, nil
	}
}

func (r *replayServer) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func startReplay(t *testing.T, ws string, answers map[string]reply) (*Client, *replayServer) {
	t.Helper()
	r := &replayServer{t: t, answers: answers}
	c := New(Config{Workspace: ws, NewTransport: r.transport(), MinBackoff: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c.Start()
	t.Cleanup(func() { c.Close() })
	waitReady(t, c)
	return c, r
}

// GetSymbolsOverviewTool.apply: to_dict(name=True, kind=True, depth=0)
// grouped by kind with collapse_singleton, so each entry is a bare name;
// gopls's methods are top-level and Serena's gopls adapter names them
// after the last "." of "(*UserService).CreateUser".
const goOverview = `{"Struct": ["User", "UserService"], "Function": ["NewUserService"], "Method": ["CreateUser", "Count"]}`

// FindSymbolTool.apply with include_info and no body: the info is appended
// after the other keys; a method has no children under gopls.
const goCreateUser = "[{\"name_path\": \"CreateUser\", \"kind\": \"Method\", \"relative_path\": \"users.go\", \"body_location\": {\"start_line\": 21, \"end_line\": 31}, \"info\": \"```go\\nfunc (s *UserService) CreateUser(name string) (*User, error)\\n```\\n\\nCreateUser stores a new user named name.\"}]"

// FindReferencingSymbolsTool.apply: grouped by relative_path then kind;
// each content_around_reference is MatchedConsecutiveLines.to_display_string
// with one line of context and 0-BASED line numbers (TextLine.format_line,
// src/serena/util/text_utils.py); json.dumps escapes the tabs.
const goReferences = `{"seed.go": {"Function": [{"name_path": "Seed", "body_location": {"start_line": 3, "end_line": 9}, "content_around_reference": "...   3:func Seed(s *UserService) error {\n  >   4:\tif _, err := s.CreateUser(\"admin\"); err != nil {\n...   5:\t\treturn err"}, {"name_path": "Seed", "body_location": {"start_line": 3, "end_line": 9}, "content_around_reference": "...   6:\t}\n  >   7:\t_, err := s.CreateUser(\"guest\")\n...   8:\treturn err"}]}}`

func goWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := serenatest.GoProject().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// goRecordings are the answers for the Go method, keyed by call.
var goRecordings = map[string]reply{
	canonical(ToolGetSymbolsOverview, map[string]any{"relative_path": "users.go", "depth": 0}): {text: goOverview},
	canonical(ToolFindSymbol, map[string]any{"name_path_pattern": "/CreateUser", "relative_path": "users.go", "depth": 3,
		"include_body": false, "include_info": true}): {text: goCreateUser},
	canonical(ToolFindReferencingSymbols, map[string]any{"name_path": "CreateUser", "relative_path": "users.go"}): {text: goReferences},
}

func TestConformanceGoMethodSymbolHoverReferences(t *testing.T) {
	ws := goWorkspace(t)
	c, r := startReplay(t, ws, goRecordings)
	ctx := context.Background()
	q := codectx.Query{Path: ws + "/users.go", Text: serenatest.UsersGo, LanguageID: "go", Position: codectx.Position{Line: 22, Character: 2}}
	sym, err := c.Symbol(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want := codectx.Range{Start: codectx.Position{Line: 21, Character: 0}, End: codectx.Position{Line: 31, Character: 1}}
	if sym.NamePath != "CreateUser" || sym.Kind != "Method" || sym.Range != want ||
		!strings.HasPrefix(sym.Body, "func (s *UserService) CreateUser(name string) (*User, error) {\n") || !strings.HasSuffix(sym.Body, "return u, nil\n}") {
		t.Errorf("symbol = %+v", sym)
	}
	if sym.SelectionRange.Start != (codectx.Position{Line: 21, Character: 22}) {
		t.Errorf("selection = %+v, want the name at 21:22", sym.SelectionRange)
	}
	hover, err := c.Hover(ctx, q, sym)
	if err != nil || !strings.Contains(hover, "func (s *UserService) CreateUser(name string) (*User, error)") {
		t.Errorf("hover = %q, %v", hover, err)
	}
	// One call for the names, one for the symbol with its info; the hover
	// costs nothing more.
	if n := r.callCount(); n != 2 {
		t.Errorf("%d calls (%v), want 2", n, r.calls)
	}
	refs, err := c.References(ctx, q, sym, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 {
		t.Fatalf("references = %+v", refs)
	}
	for i, w := range []codectx.Position{{Line: 4, Character: 16}, {Line: 7, Character: 13}} {
		got := refs[i].Location
		if got.Path != ws+"/seed.go" || got.Range.Start != w || got.Range.End.Character != w.Character+len("CreateUser") || refs[i].Container != "Seed" {
			t.Errorf("reference %d = %+v, want seed.go %v", i, refs[i], w)
		}
		// The reported line holds the call: the numbers are 0-based.
		if line := codectx.SplitLines(serenatest.SeedGo)[w.Line]; !strings.Contains(line, "s.CreateUser(") {
			t.Errorf("reference %d points at %q", i, line)
		}
	}
	if refs[0].Snippet != "func Seed(s *UserService) error {\n\tif _, err := s.CreateUser(\"admin\"); err != nil {\n\t\treturn err" {
		t.Errorf("snippet = %q", refs[0].Snippet)
	}
}

// FindSymbolTool.apply on a Python class at depth 3: the children grouped
// by kind with only name and body_location (children_name=True,
// children_name_path=False); pyright lists a function's locals among its
// children; the info is the class's only.
const pyClass = `[{"name_path": "UserService", "kind": "Class", "relative_path": "test_repo/services.py", "body_location": {"start_line": 5, "end_line": 21}, "children": {"Constructor": [{"name": "__init__", "body_location": {"start_line": 8, "end_line": 9}}], "Method": [{"name": "create_user", "body_location": {"start_line": 11, "end_line": 21}, "children": {"Function": [{"name": "validate", "body_location": {"start_line": 14, "end_line": 15}}], "Variable": [{"name": "user", "body_location": {"start_line": 19, "end_line": 19}}]}}]}, "info": "(class) UserService\n\nKeeps users in memory."}]`

const pyCreateUser = "[{\"name_path\": \"UserService/create_user\", \"kind\": \"Method\", \"relative_path\": \"test_repo/services.py\", \"body_location\": {\"start_line\": 11, \"end_line\": 21}, \"info\": \"(method) def create_user(self: Self@UserService, name: str) -> User\\n\\nCreate and store a user named `name`.\"}]"

// pyRecordings are the answers for the Python method, keyed by call.
var pyRecordings = map[string]reply{
	canonical(ToolGetSymbolsOverview, map[string]any{"relative_path": "test_repo/services.py", "depth": 0}): {text: `{"Class": ["UserService"], "Function": ["make_service"]}`},
	// find_symbol with include_body: depth and include_info are ignored
	// (the client does not send include_info with include_body at all).
	canonical(ToolFindSymbol, map[string]any{"name_path_pattern": "make_service", "relative_path": "test_repo/services.py", "depth": 2,
		"include_body": true}): {text: `[{"name_path": "make_service", "kind": "Function", "relative_path": "test_repo/services.py", "body_location": {"start_line": 24, "end_line": 25}, "body": "def make_service() -> UserService:\n    return UserService()"}]`},
	canonical(ToolFindSymbol, map[string]any{"name_path_pattern": "make_service", "relative_path": "test_repo/services.py", "depth": 2,
		"include_body": true, "include_info": true}): {text: `[{"name_path": "make_service", "kind": "Function", "relative_path": "test_repo/services.py", "body_location": {"start_line": 24, "end_line": 25}, "body": "def make_service() -> UserService:\n    return UserService()"}]`},
	canonical(ToolFindSymbol, map[string]any{"name_path_pattern": "/UserService", "relative_path": "test_repo/services.py", "depth": 3,
		"include_body": false, "include_info": true}): {text: pyClass},
	canonical(ToolFindSymbol, map[string]any{"name_path_pattern": "/UserService/create_user", "relative_path": "test_repo/services.py", "depth": 0,
		"include_body": false, "include_info": true}): {text: pyCreateUser},
	canonical(ToolFindSymbol, map[string]any{"name_path_pattern": "/UserService/create_user/validate", "relative_path": "test_repo/services.py", "depth": 0,
		"include_body": false, "include_info": true}): {text: `[{"name_path": "UserService/create_user/validate", "kind": "Function", "relative_path": "test_repo/services.py", "body_location": {"start_line": 14, "end_line": 15}, "info": "(function) def validate(n) -> bool"}]`},
}

func TestConformancePythonMethodInAClass(t *testing.T) {
	ws := workspace(t)
	c, r := startReplay(t, ws, pyRecordings)
	ctx := context.Background()
	// On the local variable's line: the symbol is the method around it.
	q := servicesQuery(ws, 19, 8)
	sym, err := c.Symbol(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if sym.NamePath != "UserService/create_user" || sym.Kind != "Method" || sym.Range.Start != (codectx.Position{Line: 11, Character: 4}) {
		t.Errorf("symbol = %+v", sym)
	}
	hover, err := c.Hover(ctx, q, sym)
	if err != nil || !strings.HasPrefix(hover, "(method) def create_user(") {
		t.Errorf("hover = %q, %v (the class's info must not stand in for the method's)", hover, err)
	}
	if n := r.callCount(); n != 3 {
		t.Errorf("%d calls (%v), want 3: overview, the class with children, the method's info", n, r.calls)
	}
	syms, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "make_service", RelativePath: "test_repo/services.py", Depth: 2, IncludeBody: true, IncludeInfo: true})
	if err != nil || len(syms) != 1 || syms[0].Body != "def make_service() -> UserService:\n    return UserService()" || syms[0].Info != "" {
		t.Errorf("with body = %+v, %v", syms, err)
	}
	// A nested function is reached through two levels of grouped children.
	sym, err = c.Symbol(ctx, servicesQuery(ws, 15, 12))
	if err != nil || sym.NamePath != "UserService/create_user/validate" || sym.Kind != "Function" {
		t.Errorf("nested = %+v, %v", sym, err)
	}
}

func TestChildrenForms(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string // name path (kind) start-end of every descendant
	}{{
		// Serena >= 1.0.0 (FindSymbolTool).
		"grouped", pyClass,
		[]string{"UserService/__init__ (Constructor) 8-9", "UserService/create_user (Method) 11-21",
			"UserService/create_user/validate (Function) 14-15", "UserService/create_user/user (Variable) 19-19"},
	}, {
		// _transform_item collapses a child left with one key to its value
		// and one left with name and children to {name: children}.
		"collapsed", `[{"name_path": "A", "kind": "Class", "relative_path": "a.py", "body_location": {"start_line": 0, "end_line": 9}, "children": {"Method": ["f", {"g": {"Function": ["inner"]}}]}}]`,
		[]string{"A/f (Method) -1--1", "A/g (Method) -1--1", "A/g/inner (Function) -1--1"},
	}, {
		// Same-named siblings get Serena's overload index in document order
		// (convert_symbols_with_common_parent in src/solidlsp/ls.py).
		"overloads", `[{"name_path": "C", "kind": "Class", "relative_path": "C.java", "body_location": {"start_line": 0, "end_line": 20}, "children": {"Method": [{"name": "run", "body_location": {"start_line": 9, "end_line": 12}}, {"name": "run", "body_location": {"start_line": 3, "end_line": 6}}], "Constructor": [{"name": "C", "body_location": {"start_line": 1, "end_line": 2}}]}}]`,
		[]string{"C/C (Constructor) 1-2", "C/run[0] (Method) 3-6", "C/run[1] (Method) 9-12"},
	}, {
		// Serena 0.1.x (v0.1.4 symbol_tools.py/symbol.py): a list of full
		// child dicts with name, name_path, kind, location and body_location.
		"pre-1.0 list", `[{"name_path": "UserService", "kind": "Class", "body_location": {"start_line": 5, "end_line": 21}, "children": [{"name": "create_user", "name_path": "UserService/create_user", "kind": "Method", "location": {"line": 11, "column": 8}, "body_location": {"start_line": 11, "end_line": 21}, "children": []}], "relative_path": "test_repo/services.py"}]`,
		[]string{"UserService/create_user (Method) 11-21"},
	}, {
		// A line Serena could not determine is null, not 0.
		"null lines", `[{"name_path": "M", "kind": "Module", "relative_path": "m.py", "body_location": {"start_line": null, "end_line": null}, "children": {"Class": [{"name": "K", "body_location": {"start_line": null, "end_line": 4}}]}}]`,
		[]string{"M/K (Class) -1-4"},
	}}
	for _, tc := range cases {
		syms, err := ParseSymbols(ToolFindSymbol, tc.text)
		if err != nil || len(syms) != 1 {
			t.Errorf("%s: %v %+v", tc.name, err, syms)
			continue
		}
		var got []string
		var walk func([]SymbolInfo)
		walk = func(ss []SymbolInfo) {
			for _, s := range ss {
				start, end := -1, -1
				if s.BodyLocation != nil {
					start, end = s.BodyLocation.StartLine, s.BodyLocation.EndLine
				}
				got = append(got, s.NamePath+" ("+s.Kind+") "+strconv.Itoa(start)+"-"+strconv.Itoa(end))
				if s.RelativePath != syms[0].RelativePath {
					t.Errorf("%s: child %s has path %q", tc.name, s.NamePath, s.RelativePath)
				}
				walk(s.Children)
			}
		}
		walk(syms[0].Children)
		if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
	if _, err := ParseSymbols(ToolFindSymbol, `[{"name_path": "A", "children": {"Method": [{"body_location": {}}, 3]}}]`); err == nil {
		t.Error("a child without a name was accepted")
	}
}

// TestConformanceErrors replays Serena's failure texts of both version
// ranges and checks that each becomes the typed error and a one-line
// message that says what to do.
func TestConformanceErrors(t *testing.T) {
	const projects = "Ask the user to provide the project path or to select a project from this list of known projects: []"
	cases := []struct {
		name  string
		reply reply
		check func(error) bool
		say   string // in the message shown to the user
	}{
		// >= 1.6.0: Tool.apply_ex raises ToolCallError; src/serena/mcp.py
		// re-raises the SDK's ToolError; the SDK's Tool.run wraps it as
		// "Error executing tool {name}: {e}" in an isError result.
		{"1.6 no project", reply{"Error executing tool find_symbol: No active project. " + projects, true},
			func(err error) bool { return errors.Is(err, ErrNoActiveProject) }, "start it with --project <workspace>"},
		{"1.6 timeout", reply{"Error executing tool find_symbol: Tool execution timed out after 240 seconds. ", true},
			func(err error) bool { var e *ToolTimeoutError; return errors.As(err, &e) && e.Seconds == 240 }, "raise --tool-timeout"},
		{"1.6 exception", reply{"Error executing tool find_symbol: ValueError: No symbol matching 'Nope' found", true},
			func(err error) bool {
				var e *ToolError
				return errors.As(err, &e) && e.Class == "ValueError" && e.Message == "No symbol matching 'Nope' found"
			}, "ValueError"},
		{"1.6 not active", reply{"Error executing tool find_symbol: Tool 'find_symbol' is not active. Active tools: ['read_file']", true},
			func(err error) bool { return errors.Is(err, ErrToolUnavailable) }, "not offered"},
		// 1.0.0-1.5.3 (tools_base.py at v1.5.3): plain answers, not flagged.
		{"1.5 no project", reply{"Error: No active project. " + projects, false},
			func(err error) bool { return errors.Is(err, ErrNoActiveProject) }, "set serena.command"},
		{"1.5 timeout", reply{"Error: TimeoutError - ", false},
			func(err error) bool { var e *ToolTimeoutError; return errors.As(err, &e) }, "may still be indexing"},
		{"1.5 exception", reply{"Error executing tool: ValueError - No symbol matching 'Nope' found", false},
			func(err error) bool {
				var e *ToolError
				return errors.As(err, &e) && e.Class == "ValueError" && e.Message == "No symbol matching 'Nope' found"
			}, "ValueError"},
		{"1.5 not active", reply{"Error: Tool 'find_symbol' is not active. Active tools: ['read_file']", false},
			func(err error) bool { return errors.Is(err, ErrToolUnavailable) }, "not offered"},
	}
	ws := workspace(t)
	args := map[string]any{"name_path_pattern": "/X", "relative_path": "a.py", "depth": 0, "include_body": false}
	for _, tc := range cases {
		c, _ := startReplay(t, ws, map[string]reply{canonical(ToolFindSymbol, args): tc.reply})
		_, err := c.FindSymbol(context.Background(), FindSymbolArgs{NamePath: "/X", RelativePath: "a.py"})
		if err == nil || !tc.check(err) {
			t.Errorf("%s: %v (%T)", tc.name, err, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tc.say) {
			t.Errorf("%s: message %q, want one line saying %q", tc.name, msg, tc.say)
		}
	}
}

// TestDoubleMatchesRecordings checks serenatest against the same
// hand-written upstream answers: the double must send them byte for byte.
func TestDoubleMatchesRecordings(t *testing.T) {
	for name, tc := range map[string]struct {
		project    *serenatest.Project
		recordings map[string]reply
	}{"go": {serenatest.GoProject(), goRecordings}, "python": {serenatest.DefaultProject(), pyRecordings}} {
		srv := serenatest.NewServer(tc.project, serenatest.Options{})
		for key, want := range tc.recordings {
			tool, argText, _ := strings.Cut(key, " ")
			got := callDouble(t, srv, tool, json.RawMessage(argText))
			if got != want {
				t.Errorf("%s: double answers %s with\n%+v\nwant\n%+v", name, key, got, want)
			}
		}
	}
	// The failure texts of both version ranges.
	for _, tc := range []struct {
		opts serenatest.Options
		want reply
	}{
		{serenatest.Options{NoProject: true}, reply{"Error executing tool find_symbol: No active project. Ask the user to provide the project path or to select a project from this list of known projects: []", true}},
		{serenatest.Options{NoProject: true, Version: "1.5.3"}, reply{"Error: No active project. Ask the user to provide the project path or to select a project from this list of known projects: []", false}},
		{serenatest.Options{TimeOut: []string{ToolFindSymbol}}, reply{"Error executing tool find_symbol: Tool execution timed out after 240 seconds. ", true}},
		{serenatest.Options{TimeOut: []string{ToolFindSymbol}, Version: "1.0.0"}, reply{"Error: TimeoutError - ", false}},
		{serenatest.Options{Errors: map[string]string{ToolFindSymbol: "ValueError: boom"}}, reply{"Error executing tool find_symbol: ValueError: boom", true}},
		{serenatest.Options{Errors: map[string]string{ToolFindSymbol: "ValueError: boom"}, Version: "1.5.3"}, reply{"Error executing tool: ValueError - boom", false}},
	} {
		srv := serenatest.NewServer(serenatest.DefaultProject(), tc.opts)
		if got := callDouble(t, srv, ToolFindSymbol, json.RawMessage(`{"name_path_pattern": "x"}`)); got != tc.want {
			t.Errorf("%+v: %+v, want %+v", tc.opts, got, tc.want)
		}
	}
}

func callDouble(t *testing.T, srv *serenatest.Server, tool string, args json.RawMessage) reply {
	t.Helper()
	tr, err := srv.NewTransportFunc()()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil).Connect(context.Background(), tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	return reply{text: resultText(res), isError: res.IsError}
}
