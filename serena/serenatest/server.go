// Package serenatest is a test double of Serena's MCP server, built with
// the go-sdk. It exposes Serena's tool names and input schemas and answers
// with Serena's exact result strings (Python json.dumps formatting,
// structuredContent {"result": ...}, the non-JSON answers and the error
// texts of both version ranges) computed from a small fake project, runs
// one tool at a time like Serena, and can be told to be slow or to crash
// mid-call. It runs in-process (InProcess) or as a real stdio subprocess
// (Main, cmd/fakeserena).
//
// Every shape here was written from oraios/serena's source at commit
// 7fcbca7e62555ec2287ddb2f083caee805848ea6 (v1.7.0-19-g7fcbca7e,
// 2026-08-20, pyproject version 1.7.1.dev0, mcp==1.28.1) unless a comment
// names another version (v1.5.3 for the pre-1.6 errors, v0.1.4 for the
// pre-1.0 children); each fixture names the upstream file it follows.
package serenatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// AllTools are the tools the double offers by default, as Serena's ide
// context does.
var AllTools = []string{
	"get_symbols_overview", "find_symbol", "find_referencing_symbols", "find_declaration",
	"find_implementations", "get_diagnostics_for_file", "replace_symbol_body",
	"insert_after_symbol", "insert_before_symbol", "rename_symbol",
}

// Options changes how the double behaves.
type Options struct {
	// Tools restricts the offered tools (nil: AllTools).
	Tools []string
	// NoInfoArg drops include_info from find_symbol's schema, like an older
	// Serena.
	NoInfoArg bool
	// Version is the Serena version emulated (default "1.7.1.dev0"). Below
	// 1.6 tool failures are plain answers ("Error executing tool: ValueError
	// - msg", "Error: No active project. ...", "Error: TimeoutError - "),
	// from 1.6 on isError results "Error executing tool <name>: ...".
	Version string
	// LegacyChildren makes find_symbol send children as a list of full
	// dicts, as Serena before 1.0.0 did.
	LegacyChildren bool
	// NoProject answers every tool with Serena's "No active project."
	// failure, as Serena started without --project does.
	NoProject bool
	// TimeOut makes these tools fail with Serena's tool timeout, as if they
	// ran longer than ToolTimeout seconds (default 240).
	TimeOut     []string
	ToolTimeout float64
	// Results replaces a tool's answer with this exact text.
	Results map[string]string
	// Errors makes a tool raise "ExcClass: message" inside Serena.
	Errors map[string]string
	// Slow delays a tool by this long. Like Serena, the delay is not cut
	// short by cancellation and blocks the tools called after it.
	Slow map[string]time.Duration
	// CrashTool makes the server die while answering this tool: Crash is
	// called (os.Exit in a subprocess) and the call never answers.
	CrashTool string
	// CrashOnce limits the crash to the first call (see Main for the
	// subprocess form).
	CrashOnce bool
	Crash     func()
	// NoStructured omits structuredContent, as some Serena contexts do.
	NoStructured bool
	// MCPVersion is the serverInfo version: FastMCP reports the version of
	// the Python "mcp" package, not Serena's (default "1.28.1", the pin in
	// pyproject.toml).
	MCPVersion string
}

// DefaultVersion is the Serena version the double emulates by default.
const DefaultVersion = "1.7.1.dev0"

// version returns the emulated version as comparable numbers.
func (o Options) version() [3]int {
	v := o.Version
	if v == "" {
		v = DefaultVersion
	}
	var out [3]int
	for i, part := range strings.SplitN(v, ".", 3) {
		n := 0
		for _, r := range part {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
		}
		out[i] = n
	}
	return out
}

// flagsErrors reports whether the emulated Serena returns failures as
// isError results (1.6.0 and later).
func (o Options) flagsErrors() bool {
	v := o.version()
	return v[0] > 1 || v[0] == 1 && v[1] >= 6
}

// Server is the double: an MCP server over one Project.
type Server struct {
	Project *Project
	opts    Options
	run     sync.Mutex // Serena runs one tool at a time
	crashed atomic.Bool
	// Calls counts tool calls by name.
	calls sync.Map
}

// NewServer returns a double over p.
func NewServer(p *Project, opts Options) *Server {
	return &Server{Project: p, opts: opts}
}

// Calls is how many times tool was called.
func (s *Server) Calls(tool string) int {
	v, ok := s.calls.Load(tool)
	if !ok {
		return 0
	}
	return int(v.(*atomic.Int64).Load())
}

// MCPServer builds the go-sdk server exposing the tools.
func (s *Server) MCPServer() *mcp.Server {
	version := s.opts.MCPVersion
	if version == "" {
		version = "1.28.1"
	}
	// Serena declares tools only, no logging capability.
	srv := mcp.NewServer(&mcp.Implementation{Name: "Serena", Version: version},
		&mcp.ServerOptions{Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
			SupportedProtocolVersions: []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}})
	tools := s.opts.Tools
	if tools == nil {
		tools = AllTools
	}
	for _, name := range tools {
		srv.AddTool(&mcp.Tool{Name: name, Description: "Serena tool " + name, InputSchema: s.schema(name),
			OutputSchema: map[string]any{"type": "object", "title": name + "Output", "required": []any{"result"},
				"properties": map[string]any{"result": map[string]any{"type": "string", "title": "Result"}}}},
			s.handler(name))
	}
	return srv
}

type prop struct {
	name, typ string
	def       any
	required  bool
}

var toolProps = map[string][]prop{
	"get_symbols_overview": {{"relative_path", "string", nil, true}, {"depth", "integer", 0, false}, {"max_answer_chars", "integer", -1, false}},
	"find_symbol": {{"name_path_pattern", "string", nil, true}, {"depth", "integer", 0, false}, {"relative_path", "string", "", false},
		{"include_body", "boolean", false, false}, {"include_info", "boolean", false, false}, {"include_kinds", "array", []any{}, false},
		{"exclude_kinds", "array", []any{}, false}, {"substring_matching", "boolean", false, false}, {"max_matches", "integer", -1, false},
		{"max_answer_chars", "integer", -1, false}},
	"find_referencing_symbols": {{"name_path", "string", nil, true}, {"relative_path", "string", nil, true}, {"include_kinds", "array", []any{}, false},
		{"exclude_kinds", "array", []any{}, false}, {"max_answer_chars", "integer", -1, false}},
	"find_declaration": {{"relative_path", "string", nil, true}, {"regex", "string", nil, true}, {"containing_symbol_name_path", "string", nil, false},
		{"include_body", "boolean", false, false}, {"include_info", "boolean", false, false}},
	"find_implementations":     {{"name_path", "string", nil, true}, {"relative_path", "string", nil, true}, {"include_info", "boolean", false, false}},
	"get_diagnostics_for_file": {{"relative_path", "string", nil, true}, {"start_line", "integer", 0, false}, {"end_line", "integer", -1, false}, {"min_severity", "integer", 4, false}},
	"replace_symbol_body":      {{"name_path", "string", nil, true}, {"relative_path", "string", nil, true}, {"body", "string", nil, true}},
	"insert_after_symbol":      {{"name_path", "string", nil, true}, {"relative_path", "string", nil, true}, {"body", "string", nil, true}},
	"insert_before_symbol":     {{"name_path", "string", nil, true}, {"relative_path", "string", nil, true}, {"body", "string", nil, true}},
	"rename_symbol":            {{"name_path", "string", nil, true}, {"relative_path", "string", nil, true}, {"new_name", "string", nil, true}},
}

// schema is the pydantic-style input schema Serena's tools declare.
func (s *Server) schema(tool string) map[string]any {
	props := map[string]any{}
	var required []any
	for _, p := range toolProps[tool] {
		if tool == "find_symbol" && p.name == "include_info" && s.opts.NoInfoArg {
			continue
		}
		words := strings.Split(p.name, "_")
		for i, w := range words {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
		title := strings.Join(words, " ") // pydantic's field titles
		m := map[string]any{"type": p.typ, "title": title}
		if p.typ == "array" {
			m["items"] = map[string]any{"type": "integer"}
		}
		if p.required {
			required = append(required, p.name)
		} else {
			m["default"] = p.def
		}
		props[p.name] = m
	}
	return map[string]any{"type": "object", "title": tool + "Arguments", "properties": props, "required": required}
}

// toolErr is an exception raised inside a tool.
type toolErr struct{ class, msg string }

func (e *toolErr) Error() string { return e.class + ": " + e.msg }

func valueError(format string, a ...any) error {
	return &toolErr{"ValueError", fmt.Sprintf(format, a...)}
}

// sdkErr is a failure of the MCP SDK before Serena runs the tool (argument
// validation): the SDK's Tool.run reports it as an isError result
// "Error executing tool <name>: <msg>" in every Serena version.
type sdkErr struct{ msg string }

func (e *sdkErr) Error() string { return e.msg }

// failure is a failure Serena reports itself rather than an exception of
// the tool: no active project, the tool timeout.
type failure int

const (
	failNoProject failure = iota + 1
	failTimeout
)

// failureText renders a failure as the emulated version does.
//
// 1.6.0 and later (src/serena/tools/tools_base.py, Tool.apply_ex at
// 7fcbca7e): a ToolCallError with "No active project. Ask the user ...",
// "Tool execution timed out after {timeout} seconds. " or
// "{ExcClass}: {msg}", which src/serena/mcp.py re-raises as the SDK's
// ToolError, and the SDK's Tool.run (mcp/server/fastmcp/tools/base.py)
// wraps as "Error executing tool {name}: {e}" in an isError result.
//
// 1.0.0 to 1.5.3 (tools_base.py at v1.5.3): plain answers,
// "Error executing tool: {ExcClass} - {msg}", "Error: No active project.
// Ask the user ...", and "Error: {ExcClass} - {e}" for the timeout, whose
// concurrent.futures.TimeoutError has an empty message.
func (s *Server) failureText(tool string, err error, f failure) (text string, isError bool) {
	const noProject = "No active project. Ask the user to provide the project path or to select a project from this list of known projects: []"
	timeout := s.opts.ToolTimeout
	if timeout == 0 {
		timeout = 240 // DEFAULT_TOOL_TIMEOUT in src/serena/config/serena_config.py
	}
	var se *sdkErr
	if s.opts.flagsErrors() || errors.As(err, &se) {
		var msg string
		switch f {
		case failNoProject:
			msg = noProject
		case failTimeout:
			msg = "Tool execution timed out after " + strconv.FormatFloat(timeout, 'f', -1, 64) + " seconds. "
		default:
			msg = err.Error()
		}
		return "Error executing tool " + tool + ": " + msg, true
	}
	switch f {
	case failNoProject:
		return "Error: " + noProject, false
	case failTimeout:
		return "Error: TimeoutError - ", false
	}
	class, msg := "Exception", err.Error()
	var te *toolErr
	if errors.As(err, &te) {
		class, msg = te.class, te.msg
	}
	return "Error executing tool: " + class + " - " + msg, false
}

func (s *Server) handler(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		v, _ := s.calls.LoadOrStore(name, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		s.run.Lock()
		defer s.run.Unlock()

		if name == s.opts.CrashTool && !(s.opts.CrashOnce && s.crashed.Load()) {
			s.crashed.Store(true)
			if s.opts.Crash != nil {
				s.opts.Crash()
			}
			// The connection is gone: this answer is never delivered.
			return nil, errors.New("fake serena crashed")
		}
		if d := s.opts.Slow[name]; d > 0 {
			time.Sleep(d)
		}
		var (
			text string
			err  error
			f    failure
		)
		switch {
		case s.opts.NoProject:
			f = failNoProject
		case slices.Contains(s.opts.TimeOut, name):
			f = failTimeout
		default:
			text, err = s.answer(name, req.Params.Arguments)
		}
		if err != nil || f != 0 {
			var isError bool
			text, isError = s.failureText(name, err, f)
			if isError {
				// The SDK sends no structuredContent with an error.
				return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil
			}
		}
		res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
		if !s.opts.NoStructured {
			res.StructuredContent = map[string]any{"result": text}
		}
		return res, nil
	}
}

// args is a decoded argument object with Serena's defaults.
type args map[string]any

func (a args) str(k string) string {
	v, _ := a[k].(string)
	return v
}

func (a args) num(k string, def int) int {
	if v, ok := a[k].(float64); ok {
		return int(v)
	}
	return def
}

func (a args) flag(k string) bool {
	v, _ := a[k].(bool)
	return v
}

func (s *Server) answer(tool string, raw json.RawMessage) (string, error) {
	if r, ok := s.opts.Results[tool]; ok {
		return r, nil
	}
	if e, ok := s.opts.Errors[tool]; ok {
		class, msg, _ := strings.Cut(e, ": ")
		return "", &toolErr{class, msg}
	}
	a := args{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a); err != nil {
			return "", &sdkErr{err.Error()}
		}
	}
	for _, p := range toolProps[tool] {
		if _, ok := a[p.name]; p.required && !ok && !(p.name == "name_path_pattern" && a["name_path"] != nil) {
			// The start of pydantic's message (its "[type=missing, ...]"
			// details are left out), as the SDK's argument model raises it.
			return "", &sdkErr{fmt.Sprintf("1 validation error for %sArguments\n%s\n  Field required", tool, p.name)}
		}
	}
	s.Project.mu.Lock()
	defer s.Project.mu.Unlock()
	var (
		text string
		err  error
	)
	switch tool {
	case "get_symbols_overview":
		text, err = s.Project.overview(a)
	case "find_symbol":
		text, err = s.Project.findSymbol(a, s.opts.LegacyChildren)
	case "find_referencing_symbols":
		text, err = s.Project.findReferencing(a)
	case "find_declaration":
		text, err = s.Project.findDeclaration(a)
	case "find_implementations":
		text = "[]"
	case "get_diagnostics_for_file":
		text, err = s.Project.diagnostics(a)
	case "replace_symbol_body", "insert_before_symbol", "insert_after_symbol":
		text, err = s.Project.edit(tool, a)
	case "rename_symbol":
		text, err = s.Project.rename(a)
	default:
		err = valueError("unknown tool %s", tool)
	}
	if err != nil {
		return "", err
	}
	return text, nil
}
