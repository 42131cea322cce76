package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/security/audit"
)

// The MCP tools, driven in process by the go-sdk's own client over an
// in-memory transport, against the LLM double: what a coding agent sees.

// mcpTest is one MCP session of an agent named name against lsp-router
// serving workspace with the configuration at cfgPath.
type mcpTest struct {
	cs       *mcp.ClientSession
	mu       sync.Mutex
	progress []*mcp.ProgressNotificationParams
}

func startMCP(t *testing.T, cfgPath, workspace, name string) *mcpTest {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(workspace, "xdg"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(workspace, "state"))
	cfg, err := config.Load(cfgPath, workspace)
	if err != nil {
		t.Fatal(err)
	}
	s := newMCPService(cfg, workspace, nil)
	t.Cleanup(s.close)
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	mt := &mcpTest{}
	client := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1.0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mt.mu.Lock()
			mt.progress = append(mt.progress, r.Params)
			mt.mu.Unlock()
		},
	})
	mt.cs, err = client.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mt.cs.Close() })
	return mt
}

// call runs a tool and returns its text and structured output.
func (m *mcpTest) call(t *testing.T, tool string, args map[string]any) (text string, out map[string]any, isError bool) {
	t.Helper()
	res, err := m.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v (tool failures must be tool errors)", tool, err)
	}
	return resultText(res), structured(t, res), res.IsError
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func structured(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.StructuredContent == nil {
		return nil
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// twoFuncs puts two one-line functions on adjacent lines: a position read
// 0-based would land on the other one.
const twoFuncs = "package main\n\nfunc alpha() int { return 1 }\nfunc beta() int  { return 2 }\n\nfunc main() { _ = alpha() + beta() }\n"

func mcpWorkspaceWith(t *testing.T, url string, extra string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	cfg = onlyService(t, dir, llm.KindOllama, url)
	if extra != "" {
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, append(b, []byte("\n"+extra+"\n")...), 0o600)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.test/hello\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(helloGo), 0o644)
	os.WriteFile(filepath.Join(dir, "two.go"), []byte(twoFuncs), 0o644)
	return dir, cfg
}

func TestMCPListsTheToolsAndAnswersFromTheRoutedModel(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "Dates parse with time.Parse.", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768, Loaded: true}}})
	defer srv.Close()
	dir, cfg := mcpWorkspaceWith(t, srv.URL, "")
	m := startMCP(t, cfg, dir, "Qwen Code")

	tools, err := m.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if want := []string{"ask", "explain", "models", "propose_edit", "route"}; !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}

	text, out, isErr := m.call(t, "ask", map[string]any{"question": "how do I parse an ISO date in Go?"})
	if isErr || out["answer"] != "Dates parse with time.Parse." || out["model"] != "qwen2.5-coder:7b" || out["service"] == "" {
		t.Fatalf("ask: %v %s %v", isErr, text, out)
	}
	if !strings.Contains(text, "Dates parse with time.Parse.") || !strings.Contains(text, "qwen2.5-coder:7b on ") {
		t.Errorf("the text names no model and service: %s", text)
	}

	// models: context, state and catalog scores.
	_, out, isErr = m.call(t, "models", nil)
	ms, _ := out["models"].([]any)
	if isErr || len(ms) != 1 {
		t.Fatalf("models: %v", out)
	}
	m0 := ms[0].(map[string]any)
	scores, _ := m0["scores"].(map[string]any)
	if m0["id"] != "qwen2.5-coder:7b" || m0["context_length"] != float64(32768) || m0["state"] != "loaded" || scores["coding"] == nil || scores["coding"].(float64) <= 0 {
		t.Errorf("models entry %v", m0)
	}

	// route: category, choice and reasons, and no model called.
	before := srv.ChatRequests()
	text, out, isErr = m.call(t, "route", map[string]any{"request": "write a function that parses dates"})
	if isErr || out["category"] != "coding" || out["model"] != "qwen2.5-coder:7b" || !strings.Contains(text, "category: coding") {
		t.Errorf("route: %v %s %v", isErr, text, out)
	}
	if srv.ChatRequests() != before {
		t.Error("route called a model")
	}

	// A model the agent names that nobody serves is a tool error that says what to do.
	text, _, isErr = m.call(t, "ask", map[string]any{"question": "hi", "model": "gpt-9"})
	if !isErr || !strings.Contains(text, "models tool") || strings.Contains(text, "\n") {
		t.Errorf("unknown model: %v %q", isErr, text)
	}
}

func TestMCPPositionsAreOneBased(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It returns one.", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir, cfg := mcpWorkspaceWith(t, srv.URL, "")
	m := startMCP(t, cfg, dir, "codex-mcp-client")

	// Line 3, column 6 is alpha's name as a person counts.
	text, out, isErr := m.call(t, "explain", map[string]any{"file": "two.go", "line": 3, "column": 6})
	if isErr || out["answer"] != "It returns one." {
		t.Fatalf("explain: %v %s", isErr, text)
	}
	chats := srv.Chats()
	prompt := chats[len(chats)-1].Messages
	user := prompt[len(prompt)-1].Content
	if !strings.Contains(user, "alpha") || strings.Contains(user, "`beta`") {
		t.Errorf("explain at 3:6 did not ask about alpha:\n%s", user)
	}

	// Out of range positions say the valid range, 1-based; files outside
	// the workspace, also through a link, are refused.
	secret := filepath.Join(t.TempDir(), "secret.go")
	os.WriteFile(secret, []byte("package secret\n"), 0o644)
	os.Symlink(secret, filepath.Join(dir, "link.go"))
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"file": "two.go", "line": 7, "column": 1}, "line 7 is outside two.go (1-6)"},
		{map[string]any{"file": "two.go", "line": 0, "column": 1}, "line is missing"},
		{map[string]any{"file": "two.go", "line": 3, "column": 40}, "column 40 is outside line 3 (1-30)"},
		{map[string]any{"file": "../elsewhere.go", "line": 1, "column": 1}, "outside the workspace"},
		{map[string]any{"file": "/etc/passwd", "line": 1, "column": 1}, "outside the workspace"},
		{map[string]any{"file": "link.go", "line": 1, "column": 1}, "outside"},
	} {
		text, _, isErr := m.call(t, "explain", c.args)
		if !isErr || !strings.Contains(text, c.want) || strings.Contains(text, "\n") {
			t.Errorf("explain %v: %v %q, want one line with %q", c.args, isErr, text, c.want)
		}
	}
}

// refactorCompiles is a refactor answer that still compiles, so gopls's
// verification passes it.
const refactorCompiles = "```go\nfunc reverseWords(s string) string {\n\twords := strings.Fields(s)\n\tfor l, r := 0, len(words)-1; l < r; l, r = l+1, r-1 {\n\t\twords[l], words[r] = words[r], words[l]\n\t}\n\treturn strings.Join(words, \" \")\n}\n```\n"

func TestMCPProposeEditWritesOnlyWhenTheUserAllowsIt(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorCompiles, Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir, cfg := mcpWorkspaceWith(t, srv.URL, "")
	// A repository cannot turn writing on.
	os.WriteFile(filepath.Join(dir, ".lsp-router.toml"), []byte("[mcp]\nallow_apply = true\n"), 0o644)
	m := startMCP(t, cfg, dir, "opencode")
	args := map[string]any{"action": "refactor", "file": "main.go", "line": 9, "column": 6, "instruction": "rename i and j to l and r"}

	// Proposed: a diff and 1-based edits; the file untouched.
	text, out, isErr := m.call(t, "propose_edit", args)
	if isErr || out["applied"] != false || !strings.Contains(out["diff"].(string), "+\tfor l, r := 0") || !strings.Contains(text, "-\tfor i, j := 0") {
		t.Fatalf("propose: %v\n%s\n%v", isErr, text, out)
	}
	edits, _ := out["edits"].([]any)
	if len(edits) == 0 {
		t.Fatalf("no structured edits: %v", out)
	}
	e0 := edits[0].(map[string]any)
	// reverseWords spans line 9 column 1 to the "}" on line 15 (end exclusive).
	if e0["file"] != "main.go" || e0["start_line"] != float64(9) || e0["start_column"] != float64(1) || e0["end_line"] != float64(15) || e0["end_column"] != float64(2) {
		t.Errorf("edit is not reverseWords at 9:1-15:2: %v", e0)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(b) != helloGo {
		t.Fatal("propose_edit without apply changed the file")
	}

	// apply: true without the user's allow_apply: refused before any model runs.
	chats := srv.ChatRequests()
	args["apply"] = true
	text, _, isErr = m.call(t, "propose_edit", args)
	if !isErr || !strings.Contains(text, "mcp.allow_apply = true") || strings.Contains(text, "\n") {
		t.Errorf("apply without allow_apply: %v %q", isErr, text)
	}
	if srv.ChatRequests() != chats {
		t.Error("a refused apply still called the model")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(b) != helloGo {
		t.Fatal("apply without allow_apply changed the file")
	}

	// With allow_apply in the user's file, the edit is written.
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("\n[mcp]\nallow_apply = true\n")...), 0o600)
	m = startMCP(t, cfg, dir, "opencode")
	text, out, isErr = m.call(t, "propose_edit", args)
	got, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	if isErr || out["applied"] != true || !strings.Contains(string(got), "for l, r := 0, len(words)-1; l < r") {
		t.Fatalf("apply: %v %s\n%v\nfile:\n%s", isErr, text, out, got)
	}
}

func TestMCPAuditsTheAgentAndAppliesItsRouting(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok", Models: []llmtest.Model{
		{ID: "qwen2.5-coder:7b", ContextLength: 32768}, {ID: "llama3.2:1b", ContextLength: 32768}}})
	defer srv.Close()
	var agentRouting strings.Builder
	for _, c := range config.Categories {
		agentRouting.WriteString("[agents.qwen-code.task_routing." + c + "]\nprimary_models = [\"llama3.2:1b\"]\n")
	}
	dir, cfg := mcpWorkspaceWith(t, srv.URL, agentRouting.String())

	_, out, isErr := startMCP(t, cfg, dir, "qwen-code").call(t, "ask", map[string]any{"question": "write a function that parses dates"})
	if isErr || out["model"] != "llama3.2:1b" {
		t.Errorf("qwen-code's routing not applied: %v", out)
	}
	_, out, isErr = startMCP(t, cfg, dir, "claude-code").call(t, "ask", map[string]any{"question": "write a function that parses dates"})
	if isErr || out["model"] != "qwen2.5-coder:7b" {
		t.Errorf("another agent got qwen-code's routing: %v", out)
	}

	// A model the agent names is tried first.
	_, out, isErr = startMCP(t, cfg, dir, "claude-code").call(t, "ask", map[string]any{"question": "write a function that parses dates", "model": "llama3.2:1b"})
	if isErr || out["model"] != "llama3.2:1b" {
		t.Errorf("the agent's model was not used: %v", out)
	}

	recs, err := audit.Tail(filepath.Join(dir, "audit.jsonl"), 10)
	if err != nil {
		t.Fatal(err)
	}
	var agents []string
	for _, r := range recs {
		if r.Type == audit.EventQuery {
			agents = append(agents, r.Agent+"/"+r.Model)
		}
	}
	if !slices.Equal(agents, []string{"qwen-code/llama3.2:1b", "claude-code/qwen2.5-coder:7b", "claude-code/llama3.2:1b"}) {
		t.Errorf("audited queries %v", agents)
	}
}

func TestMCPProgressAndCancellation(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: strings.Repeat("word ", 40), Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir, cfg := mcpWorkspaceWith(t, srv.URL, "")
	m := startMCP(t, cfg, dir, "codex")

	params := &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"question": "why is the sky blue?"}}
	params.SetProgressToken("tok-1")
	res, err := m.cs.CallTool(context.Background(), params)
	if err != nil || res.IsError {
		t.Fatalf("ask: %v %s", err, resultText(res))
	}
	// Notifications are sent before the result; the client may hand them
	// to its handler a moment later.
	var got []*mcp.ProgressNotificationParams
	generating := false
	for deadline := time.Now().Add(30 * time.Second); !generating && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m.mu.Lock()
		got = slices.Clone(m.progress)
		m.mu.Unlock()
		for _, p := range got {
			generating = generating || strings.Contains(p.Message, "generating with qwen2.5-coder:7b")
		}
	}
	if !generating {
		t.Errorf("no generating progress among %d notifications", len(got))
	}
	for i, p := range got {
		if p.ProgressToken != "tok-1" || (i > 0 && p.Progress <= got[i-1].Progress) {
			t.Errorf("progress %d: %+v", i, p)
		}
	}

	// Cancelling the call stops the generation on the LLM server.
	slow := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "late", FirstTokenDelay: time.Hour, Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer slow.Close()
	dir, cfg = mcpWorkspaceWith(t, slow.URL, "")
	m = startMCP(t, cfg, dir, "codex")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := m.cs.CallTool(ctx, &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"question": "why is the sky blue?"}})
		done <- err
	}()
	for slow.ChatRequests() == 0 {
		select {
		case err := <-done:
			t.Fatalf("the call ended before the model was asked: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: %v", err)
	}
	select {
	case <-slow.ClientGone():
	case <-time.After(30 * time.Second):
		t.Fatal("the LLM server's connection stayed open after the MCP request was cancelled")
	}
}

func TestMCPRefusesNonLoopbackHTTP(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "[::1]:8765": true, "localhost:1": true,
		"0.0.0.0:8765": false, ":8765": false, "192.0.2.1:80": false, "nonsense": false} {
		err := checkLoopback(addr)
		if (err == nil) != ok || (err != nil && strings.Contains(err.Error(), "\n")) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	_, errOut, code := runCLI(t, t.TempDir(), "mcp", "--http", "0.0.0.0:8765")
	if code != exitUsage || !strings.Contains(errOut, "not a loopback address") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("mcp --http 0.0.0.0: exit %d %q", code, errOut)
	}
}

// The real binary, over stdio as agents start it and over streamable HTTP.
func TestMCPBinaryServesStdioAndHTTP(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "From the double.", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir, cfg := mcpWorkspaceWith(t, srv.URL, "")
	env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"), "XDG_STATE_HOME="+filepath.Join(dir, "state"), "LSP_ROUTER_CONFIG=")
	ctx := context.Background()
	check := func(name string, cs *mcp.ClientSession) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "explain", Arguments: map[string]any{"file": "main.go", "line": 9, "column": 6}})
		if err != nil || res.IsError || !strings.Contains(resultText(res), "From the double.") {
			t.Errorf("%s: explain: %v %v", name, err, res)
		}
	}

	cmd := exec.Command(binary, "--config", cfg, "mcp")
	cmd.Dir, cmd.Env = dir, env
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-agent", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("stdio", cs)
	cs.Close()

	cmd = exec.Command(binary, "--config", cfg, "mcp", "--http", "127.0.0.1:0", "--workspace", dir)
	cmd.Env = env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	br := bufio.NewReader(stderr)
	line, err := br.ReadString('\n')
	go io.Copy(io.Discard, br) // later log lines must not fill the pipe
	url, _, ok := strings.Cut(strings.TrimPrefix(line, "lsp-router mcp: serving MCP at "), " ")
	if err != nil || !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("no address line: %q %v", line, err)
	}
	cs, err = mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("http", cs)
	cs.Close()
	// A web page in the user's browser cannot post to it.
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "http://page.invalid")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	recs, _ := audit.Tail(filepath.Join(dir, "audit.jsonl"), 10)
	var agents []string
	for _, r := range recs {
		if r.Type == audit.EventQuery {
			agents = append(agents, r.Agent)
		}
	}
	if !slices.Equal(agents, []string{"stdio-agent", "http-agent"}) {
		t.Errorf("audited agents %v", agents)
	}
}

func TestMCPAgentNamesAreShortSafeTokens(t *testing.T) {
	for in, want := range map[string]string{
		"Claude Code": "claude-code", "codex-mcp-client": "codex-mcp-client", "opencode": "opencode",
		"Visual Studio Code": "visual-studio-code", "optimized agent": "optimized-agent",
		"": "unknown", " \x1b[31m ": "31m", "a\nb\"c/../d": "a-b-c-..-d",
		strings.Repeat("x", 500): strings.Repeat("x", maxAgentName),
	} {
		if got := cleanAgentName(in); got != want {
			t.Errorf("cleanAgentName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMCPApplyOnlyFromTheUsersOwnConfiguration(t *testing.T) {
	for origin, want := range map[config.Origin]bool{config.OriginUser: true, config.OriginEditor: true, config.OriginWorkspace: false, config.OriginDefault: false} {
		cfg := config.Default()
		cfg.MCP.AllowApply = true
		cfg.Provenance = &config.Provenance{Origins: map[string]config.Origin{"mcp.allow_apply": origin}}
		if got := (&mcpService{cfg: cfg}).allowApply(); got != want {
			t.Errorf("allow_apply = true from %s: allowed %v, want %v", origin, got, want)
		}
	}
}

// Verified like an editor's edit: an edit gopls still finds broken after
// the retry is not written, even when writes are allowed.
func TestMCPProposeEditRefusesAStillBrokenEdit(t *testing.T) {
	if _, err := exec.LookPath("gopls"); err != nil {
		t.Skip("gopls not on PATH: go install golang.org/x/tools/gopls@v0.23.0")
	}
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer}) // forgets the slices import
	defer srv.Close()
	dir, cfg := mcpWorkspaceWith(t, srv.URL, "[mcp]\nallow_apply = true")
	m := startMCP(t, cfg, dir, "opencode")
	text, out, isErr := m.call(t, "propose_edit", map[string]any{"action": "refactor", "file": "main.go", "line": 9, "column": 6, "instruction": "use slices.Reverse", "apply": true})
	first, _, _ := strings.Cut(text, "\n")
	if !isErr || !strings.Contains(first, "undefined: slices") || !strings.Contains(first, "not written") || !strings.Contains(text, "+\tslices.Reverse(words)") {
		t.Fatalf("broken edit: %v\n%s", isErr, text)
	}
	if errs, _ := out["unresolved_errors"].([]any); len(errs) == 0 || out["applied"] != false {
		t.Errorf("structured output %v", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(b) != helloGo {
		t.Fatalf("a still-broken edit was written:\n%s", b)
	}
	if n := srv.ChatRequests(); n != 2 {
		t.Errorf("%d generations, want the answer and one retry", n)
	}
}
