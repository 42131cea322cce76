package serenatest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestPyJSONMatchesPythonDumps(t *testing.T) {
	// json.dumps(..., ensure_ascii=False), as Tool._to_json calls it.
	got := PyJSON(Obj{{"a", []any{1, "x"}}, {"b", "café \"q\"\n😀\x01\x7f"}, {"c", nil}, {"d", Obj{}}, {"e", true}})
	want := "{\"a\": [1, \"x\"], \"b\": \"café \\\"q\\\"\\n😀\\u0001\x7f\", \"c\": null, \"d\": {}, \"e\": true}"
	if got != want {
		t.Errorf("PyJSON =\n%s\nwant\n%s", got, want)
	}
}

func connect(t *testing.T, opts Options) (*mcp.ClientSession, *Server) {
	t.Helper()
	srv := NewServer(DefaultProject(), opts)
	tr, err := srv.NewTransportFunc()()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil).Connect(context.Background(), tr,
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, srv
}

func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func text(res *mcp.CallToolResult) string { return res.Content[0].(*mcp.TextContent).Text }

func TestWireShapes(t *testing.T) {
	cs, _ := connect(t, Options{})
	if v := cs.InitializeResult().ProtocolVersion; v != "2025-06-18" {
		t.Errorf("protocol version %q: Serena echoes the client's", v)
	}
	res := call(t, cs, "find_symbol", map[string]any{"name_path_pattern": "UserService/create_user", "relative_path": "test_repo/services.py"})
	want := `[{"name_path": "UserService/create_user", "kind": "Method", "relative_path": "test_repo/services.py", "body_location": {"start_line": 11, "end_line": 21}}]`
	if text(res) != want || len(res.Content) != 1 {
		t.Errorf("find_symbol =\n%s\nwant\n%s", text(res), want)
	}
	if sc, ok := res.StructuredContent.(map[string]any); !ok || sc["result"] != want {
		t.Errorf("structuredContent = %#v", res.StructuredContent)
	}
	res = call(t, cs, "get_symbols_overview", map[string]any{"relative_path": "test_repo/services.py"})
	if text(res) != `{"Class": ["UserService"], "Function": ["make_service"]}` {
		t.Errorf("overview = %s", text(res))
	}
	res = call(t, cs, "find_referencing_symbols", map[string]any{"name_path": "make_service", "relative_path": "test_repo/services.py"})
	want = `{"test_repo/app.py": {"Function": [{"name_path": "main", "body_location": {"start_line": 3, "end_line": 7}, "content_around_reference": "...   3:def main():\n  >   4:    service = make_service()\n...   5:    admin = service.create_user(\"admin\")"}]}}`
	if text(res) != want {
		t.Errorf("references =\n%s\nwant\n%s", text(res), want)
	}
	res = call(t, cs, "find_referencing_symbols", map[string]any{"name_path": "Nope", "relative_path": "test_repo/services.py"})
	if !res.IsError || text(res) != "Error executing tool find_referencing_symbols: ValueError: No symbol matching 'Nope' found" || res.StructuredContent != nil {
		t.Errorf("error result = %+v %q", res, text(res))
	}
	res = call(t, cs, "get_diagnostics_for_file", map[string]any{"relative_path": "test_repo/services.py", "min_severity": 1})
	if !strings.HasPrefix(text(res), `{"test_repo/services.py": {"Error": {"<file>": [{"message": "Import \"test_repo.models\" could not be resolved", "range": {"start": {"line": 2, "character": 5}`) || strings.Contains(text(res), "Warning") {
		t.Errorf("diagnostics = %s", text(res))
	}
	var tools []string
	for tool, err := range cs.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		tools = append(tools, tool.Name)
		if tool.Name == "find_symbol" {
			schema := tool.InputSchema.(map[string]any)
			if req := schema["required"].([]any); len(req) != 1 || req[0] != "name_path_pattern" {
				t.Errorf("find_symbol required = %v", req)
			}
		}
	}
	if len(tools) != len(AllTools) {
		t.Errorf("tools = %v", tools)
	}
}

func TestMissingRequiredArgument(t *testing.T) {
	cs, _ := connect(t, Options{})
	res := call(t, cs, "find_referencing_symbols", map[string]any{"name_path": "x"})
	if !res.IsError || !strings.HasPrefix(text(res), "Error executing tool find_referencing_symbols: 1 validation error for find_referencing_symbolsArguments\nrelative_path\n") {
		t.Errorf("missing argument = %q", text(res))
	}
}

// TestExactUpstreamTexts checks answers whose format comes from code paths
// the client tests do not replay: each expected text was derived by hand
// from oraios/serena at 7fcbca7e (file named per case).
func TestExactUpstreamTexts(t *testing.T) {
	cs, _ := connect(t, Options{})
	cases := []struct {
		name string
		tool string
		args map[string]any
		want string
	}{
		// GetSymbolsOverviewTool (symbol_tools.py) at depth 1: children
		// grouped by kind and collapsed; the local variable is low-level
		// and left out; {"name": n, "children": c} collapses to {n: c}.
		{"overview depth 1", "get_symbols_overview", map[string]any{"relative_path": "test_repo/services.py", "depth": 1},
			`{"Class": [{"UserService": {"Constructor": ["__init__"], "Method": ["create_user"]}}], "Function": ["make_service"]}`},
		// FindSymbolTool: "Matched {n}>{max_matches=} symbols.\n" plus the
		// shortened result, relative path -> name paths.
		{"too many matches", "find_symbol", map[string]any{"name_path_pattern": "e", "substring_matching": true, "max_matches": 2},
			"Matched 7>max_matches=2 symbols.\nShortened result:\n{\"test_repo/app.py\": [\"Seeder\", \"Seeder/seed\"], \"test_repo/services.py\": [\"UserService\", \"UserService/create_user\", \"UserService/create_user/validate\", \"UserService/create_user/user\", \"make_service\"]}"},
		// Tool._limit_length (tools_base.py): the message, then the first
		// shortened form that fits. The lengths were computed with Python's
		// json.dumps(..., ensure_ascii=False) and len() over the same dicts.
		{"too long", "find_symbol", map[string]any{"name_path_pattern": "UserService", "include_body": true, "max_answer_chars": 200},
			"The answer is too long (602 characters). You can adjust your query or raise the max_answer_chars parameter.\nShortened result:\n{\"test_repo/services.py\": [\"UserService\"]}"},
		// FindReferencingSymbolsTool's second shortened form, per-file counts
		// (the first, references without context, is 334 characters).
		{"references too long", "find_referencing_symbols", map[string]any{"name_path": "UserService/create_user", "relative_path": "test_repo/services.py", "max_answer_chars": 160},
			"The answer is too long (740 characters). You can adjust your query or raise the max_answer_chars parameter.\nReference counts per file:\n{\"test_repo/app.py\": 3}"},
		// find_symbol with include_body ignores depth and include_info.
		{"info ignored with body", "find_symbol", map[string]any{"name_path_pattern": "Seeder/seed", "include_body": true, "include_info": true, "depth": 1},
			`[{"name_path": "Seeder/seed", "kind": "Method", "relative_path": "test_repo/app.py", "body_location": {"start_line": 11, "end_line": 12}, "body": "def seed(self, service):\n        return service.create_user(\"seed\")"}]`},
		// Children of the depth-2 class: grouped, nested grouping, info
		// only for the matched symbol.
		{"grouped children", "find_symbol", map[string]any{"name_path_pattern": "Seeder", "depth": 1, "include_info": true},
			`[{"name_path": "Seeder", "kind": "Class", "relative_path": "test_repo/app.py", "body_location": {"start_line": 10, "end_line": 12}, "children": {"Method": [{"name": "seed", "body_location": {"start_line": 11, "end_line": 12}}]}, "info": "(class) Seeder"}]`},
	}
	for _, tc := range cases {
		res := call(t, cs, tc.tool, tc.args)
		if text(res) != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, text(res), tc.want)
		}
	}
	// LanguageServerSymbolRetriever.find_unique (symbol.py): several
	// candidates are listed with json.dumps(indent=2).
	p := DefaultProject()
	p.Files["test_repo/services.py"].Symbols = append(p.Files["test_repo/services.py"].Symbols,
		&Symbol{NamePath: "Other/create_user", Kind: "Method", StartLine: 24, EndLine: 25})
	srv := NewServer(p, Options{})
	tr, _ := srv.NewTransportFunc()()
	cs2, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil).Connect(context.Background(), tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs2.Close()
	res := call(t, cs2, "find_referencing_symbols", map[string]any{"name_path": "create_user", "relative_path": "test_repo/services.py"})
	want := "Error executing tool find_referencing_symbols: ValueError: Found multiple 2 symbols matching 'create_user'. They are: \n[\n  {\n    \"name_path\": \"UserService/create_user\",\n    \"kind\": \"Method\",\n    \"relative_path\": \"test_repo/services.py\"\n  },\n  {\n    \"name_path\": \"Other/create_user\",\n    \"kind\": \"Method\",\n    \"relative_path\": \"test_repo/services.py\"\n  }\n]"
	if !res.IsError || text(res) != want {
		t.Errorf("ambiguous:\n got %q\nwant %q", text(res), want)
	}
}

func TestLegacyChildrenAndStartLine(t *testing.T) {
	cs, _ := connect(t, Options{LegacyChildren: true})
	res := call(t, cs, "find_symbol", map[string]any{"name_path_pattern": "Seeder", "depth": 1})
	want := `[{"name_path": "Seeder", "kind": "Class", "relative_path": "test_repo/app.py", "body_location": {"start_line": 10, "end_line": 12}, "children": [{"name_path": "Seeder/seed", "name": "seed", "kind": "Method", "body_location": {"start_line": 11, "end_line": 12}}]}]`
	if text(res) != want {
		t.Errorf("legacy children:\n got %s\nwant %s", text(res), want)
	}
	var stderr strings.Builder
	code := Main([]string{"start-mcp-server", "--transport", "nope"}, strings.NewReader(""), io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "- Starting Serena server (version="+DefaultVersion+", process id=") {
		t.Errorf("Main: %d\n%s", code, stderr.String())
	}
}
