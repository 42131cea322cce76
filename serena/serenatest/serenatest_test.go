package serenatest

import (
	"context"
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
