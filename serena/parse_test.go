package serena

import (
	"errors"
	"strings"
	"testing"
)

func TestClassifyNonJSONAnswers(t *testing.T) {
	var tl *AnswerTooLongError
	if err := classifyText("find_symbol", "The answer is too long (183420 characters). Please try a more specific tool query.\nSummary: ..."); !errors.As(err, &tl) || tl.Chars != 183420 {
		t.Errorf("too long: %v", err)
	}
	var tm *TooManyMatchesError
	if err := classifyText("find_symbol", "Matched 120>max_matches=50 symbols. Refine the pattern."); !errors.As(err, &tm) || tm.Matched != 120 || tm.Allowed != 50 {
		t.Errorf("too many: %v", err)
	}
	var tt *ToolTimeoutError
	if err := classifyText("find_symbol", "Tool execution timed out after 240.5 seconds."); !errors.As(err, &tt) || tt.Seconds != 240.5 {
		t.Errorf("timeout: %v", err)
	}
	if err := classifyText("find_symbol", "No active project. Ask the user..."); !errors.Is(err, ErrNoActiveProject) {
		t.Errorf("no project: %v", err)
	}
	for _, ok := range []string{"OK", "[]", "{}", "Successfully renamed 'a' to 'b' (2 changes applied)"} {
		if err := classifyText("x", ok); err != nil {
			t.Errorf("%q classified as %v", ok, err)
		}
	}
}

func TestOldPlainFailures(t *testing.T) {
	var te *ToolError
	// tools_base.py at v1.5.3: the task executor's own failures.
	if err := classifyText("find_symbol", "Error: RuntimeError - event loop closed"); !errors.As(err, &te) || te.Class != "RuntimeError" || te.Message != "event loop closed" {
		t.Errorf("executor failure: %#v", err)
	}
	var tt *ToolTimeoutError
	if err := classifyText("find_symbol", "Error: TimeoutError - "); !errors.As(err, &tt) || tt.Seconds != 0 || !strings.Contains(err.Error(), "raise --tool-timeout") {
		t.Errorf("timeout: %v", err)
	}
}

func TestParseToolError(t *testing.T) {
	var te *ToolError
	err := parseToolError("rename_symbol", "Error executing tool rename_symbol: KeyError: 'x'")
	if !errors.As(err, &te) || te.Tool != "rename_symbol" || te.Class != "KeyError" || te.Message != "'x'" {
		t.Errorf("with class: %#v", err)
	}
	err = parseToolError("find_symbol", "Error executing tool find_symbol: the language server is not running")
	if !errors.As(err, &te) || te.Class != "" || te.Message != "the language server is not running" {
		t.Errorf("without class: %#v", err)
	}
	err = parseToolError("find_symbol", "something odd")
	if !errors.As(err, &te) || te.Tool != "find_symbol" || te.Message != "something odd" {
		t.Errorf("unformatted: %#v", err)
	}
	if !errors.Is(parseToolError("find_symbol", "No active project."), ErrNoActiveProject) {
		t.Errorf("isError with a known text")
	}
}

func TestParsers(t *testing.T) {
	ov, err := ParseOverview("get_symbols_overview", `{"Class": [{"UserService": {"Method": ["create_user"]}}], "Function": ["make_service", "helper"]}`)
	if err != nil || len(ov["Class"]) != 1 || ov["Class"][0] != "UserService" || strings.Join(ov["Function"], ",") != "helper,make_service" {
		t.Errorf("nested overview = %v, %v", ov, err)
	}
	s, err := ParseSymbol("find_declaration", `{"name_path": "A/b[1]", "kind": "Method", "relative_path": "a.py", "body_location": {"start_line": 3, "end_line": 4}, "info": "def b()"}`)
	if err != nil || s.Name() != "b" || s.Info != "def b()" || s.BodyLocation.EndLine != 4 {
		t.Errorf("declaration = %+v, %v", s, err)
	}
	if _, err := ParseSymbol("find_declaration", `{}`); err == nil {
		t.Errorf("empty declaration accepted")
	}
	if _, err := ParseSymbols("find_symbol", "I am not JSON"); err == nil || !strings.Contains(err.Error(), `unexpected answer "I am not JSON"`) {
		t.Errorf("garbage: %v", err)
	}
	// 0-based numbers, as TextLine.format_line prints them.
	line, snip := parseContentAround("... 9999:a\n  >10000:  b = f()\n...10001:c")
	if line != 10000 || snip != "a\n  b = f()\nc" {
		t.Errorf("content around = %d %q", line, snip)
	}
	ds, err := ParseDiagnostics("get_diagnostics_for_file", `{"a.py": {"Hint": {"<file>": [{"message": "m", "range": {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 3}}}]}}}`)
	if err != nil || len(ds) != 1 || ds[0].Severity != 4 || ds[0].Code != "" || ds[0].Owner != "<file>" {
		t.Errorf("diagnostics = %+v, %v", ds, err)
	}
	checkEditParsers(t)
}

// checkEditParsers: edit tools count as done only when Serena confirms.
func checkEditParsers(t *testing.T) {
	t.Helper()
	if n, err := ParseRename("rename_symbol", "Successfully renamed 'UserService/create_user' to 'add_user' (4 changes applied)"); err != nil || n != 4 {
		t.Errorf("rename = %d, %v", n, err)
	}
	if _, err := ParseRename("rename_symbol", "Renaming failed: conflict"); err == nil {
		t.Errorf("unconfirmed rename accepted")
	}
	if err := ParseOK("replace_symbol_body", "Done"); err == nil {
		t.Errorf("non-OK edit accepted")
	}
}
