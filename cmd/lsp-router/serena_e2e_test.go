package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/serena/serenatest"
)

var (
	fakeSerenaOnce sync.Once
	fakeSerenaBin  string
	fakeSerenaErr  error
)

// fakeSerena builds serenatest's fakeserena program once: it starts like
// `serena start-mcp-server` and answers with Serena 1.x's exact texts.
func fakeSerena(t *testing.T) string {
	t.Helper()
	fakeSerenaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fakeserena")
		if err != nil {
			fakeSerenaErr = err
			return
		}
		fakeSerenaBin = filepath.Join(dir, "fakeserena")
		out, err := exec.Command("go", "build", "-o", fakeSerenaBin, "../../serena/serenatest/cmd/fakeserena").CombinedOutput()
		if err != nil {
			fakeSerenaErr = fmt.Errorf("build fakeserena: %v\n%s", err, out)
		}
	})
	if fakeSerenaErr != nil {
		t.Fatal(fakeSerenaErr)
	}
	return fakeSerenaBin
}

// serenaConfigFile is onlyService's configuration plus Serena (the
// double, as the real one is started) and no built-in Go language server,
// so the code context can only come from Serena or the syntax fallback.
func serenaConfigFile(t *testing.T, dir, url, extra string, withProject bool) string {
	t.Helper()
	path := onlyService(t, dir, llm.KindOllama, url)
	args := []string{fakeSerena(t), "start-mcp-server", "--context", "ide",
		"--transport", "stdio", "--enable-web-dashboard", "false", "--open-web-dashboard", "false"}
	if withProject {
		args = append(args, "--project", "{workspace}")
	}
	cmd, _ := json.Marshal(args)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "\n[serena]\nenabled = true\ncommand = %s\nstart_timeout = \"60s\"\n\n[language_servers.go]\nenabled = false\n%s", cmd, extra)
	return path
}

type dryRunJSON struct {
	Context codectx.Context `json:"context"`
	Notes   []string        `json:"notes"`
}

// TestCLIAskUsesSerena1xForAGoMethod runs `ask --dry-run --json` on a method
// of a struct against a Serena that answers in 1.x's shapes (children
// grouped by kind, 0-based reference lines) and is still starting when
// the request comes: the symbol, hover and references come from Serena,
// with the references on the lines that hold the calls.
func TestCLIAskUsesSerena1xForAGoMethod(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "x"})
	defer srv.Close()
	dir := t.TempDir()
	if err := serenatest.GoProject().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	cfg := serenaConfigFile(t, dir, srv.URL, "", true)
	t.Setenv(serenatest.EnvFixture, "go")
	t.Setenv(serenatest.EnvStartDelay, "500ms") // the request arrives while Serena starts
	file := filepath.Join(dir, "users.go")

	// Line 29 (1-based), "u := &User{Name: name}", is inside CreateUser, a
	// method of UserService; it names User, so the struct User, whose field
	// comes as a grouped child, is looked at first.
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--json", "--dry-run", "--action", "explain", "--file", file, "--line", "29", "--col", "3")
	if code != 0 {
		t.Fatalf("ask: %d\n%s\n%s", code, out, errOut)
	}
	var res dryRunJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ok := map[string]bool{}
	for _, s := range res.Context.Sources {
		if s.Source == "serena" {
			ok[s.Part] = s.OK
			if !s.OK {
				t.Errorf("serena %s failed: %s", s.Part, s.Error)
			}
		}
	}
	if !ok["symbol"] || !ok["hover"] || !ok["references"] {
		t.Fatalf("serena did not answer symbol, hover and references: %+v", res.Context.Sources)
	}
	sym := res.Context.Symbol
	if sym == nil || sym.NamePath != "CreateUser" || sym.Kind != "Method" || sym.Range.Start.Line != 21 || sym.Range.End.Line != 31 {
		t.Fatalf("symbol = %+v, want Serena's CreateUser (Method, lines 21-31)", sym)
	}
	if !strings.Contains(res.Context.Hover, "func (s *UserService) CreateUser(name string) (*User, error)") {
		t.Errorf("hover = %q, want Serena's info", res.Context.Hover)
	}
	seed := codectx.SplitLines(serenatest.SeedGo)
	if len(res.Context.References) != 2 {
		t.Fatalf("references = %+v", res.Context.References)
	}
	for i, want := range []int{4, 7} {
		r := res.Context.References[i]
		if r.Location.Path != filepath.Join(dir, "seed.go") || r.Location.Range.Start.Line != want || r.Container != "Seed" {
			t.Errorf("reference %d = %+v, want seed.go line %d in Seed", i, r, want)
		}
		rg := r.Location.Range
		if rg.Start.Line < 0 || rg.Start.Line >= len(seed) || rg.Start.Character < 0 || rg.End.Character > len(seed[rg.Start.Line]) || rg.Start.Character > rg.End.Character {
			t.Errorf("reference %d range %+v is outside seed.go", i, rg)
		} else if got := seed[rg.Start.Line][rg.Start.Character:rg.End.Character]; got != "CreateUser" {
			t.Errorf("reference %d covers %q of %q", i, got, seed[rg.Start.Line])
		}
	}
}

// TestCLIRequireSerenaFailsClearly: with require_serena, a Serena that
// has no active project makes ask fail with what to do, instead of
// answering from the syntax fallback.
func TestCLIRequireSerenaFailsClearly(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "x"})
	defer srv.Close()
	dir := t.TempDir()
	if err := serenatest.GoProject().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	// Serena started without a project fails every tool: "No active project".
	cfg := serenaConfigFile(t, dir, srv.URL, "\n[task_routing.documentation]\nrequire_serena = true\n", false)
	t.Setenv(serenatest.EnvFixture, "go")
	t.Setenv(serenatest.EnvVersion, "1.5.3") // plain-text failures
	file := filepath.Join(dir, "users.go")
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--dry-run", "--action", "explain", "--file", file, "--line", "23", "--col", "3")
	if code == 0 || !strings.Contains(errOut, "require_serena") || !strings.Contains(errOut, "start it with --project <workspace>") {
		t.Fatalf("ask with require_serena and no Serena project: %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("stderr: %s", errOut)
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
		t.Errorf("error spans %d lines:\n%s", n+1, errOut)
	}
}

// TestCLIDoctorShowsSerenasOwnVersion: serverInfo carries the MCP SDK's
// version; doctor shows Serena's, read from its start-up line, and labels
// the SDK's as such.
func TestCLIDoctorShowsSerenasOwnVersion(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	if err := serenatest.GoProject().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	cfg := serenaConfigFile(t, dir, srv.URL, "", true)
	t.Setenv(serenatest.EnvVersion, "1.6.1")
	out, _, _ := runCLI(t, dir, "--config", cfg, "doctor", "--json", "--no-dns")
	var rep struct {
		Checks []struct{ Name, Status, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, c := range rep.Checks {
		if c.Name == "serena" {
			if c.Status != "ok" || !strings.HasPrefix(c.Detail, "Serena 1.6.1 (MCP SDK 1.28.1) at ") {
				t.Errorf("serena check = %+v", c)
			}
			return
		}
	}
	t.Errorf("no serena check in %s", out)
}

// TestEditorFirstRequestWaitsForSerena: the editor's first request arrives
// while Serena starts; it waits for it, so the model sees Serena's
// references (seed.go's calls, which nothing else in the prompt has).
func TestEditorFirstRequestWaitsForSerena(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It stores a user.", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir := t.TempDir()
	if err := serenatest.GoProject().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	cfg := serenaConfigFile(t, dir, srv.URL, "", true)
	t.Setenv(serenatest.EnvFixture, "go")
	t.Setenv(serenatest.EnvStartDelay, "500ms")
	caps := fakeeditor.FullCaps
	caps.PluginAnswers = true
	p := startServerWith(t, caps, "--config", cfg, "serve")
	ctx := context.Background()
	if _, err := p.ed.Initialize(ctx, dir, nil); err != nil {
		t.Fatalf("initialize: %v\n%s", err, p.stderr)
	}
	path := filepath.Join(dir, "users.go")
	p.ed.Open(ctx, path, "go", serenatest.UsersGo)
	pos := codectx.Position{Line: 22, Character: 2}
	if _, err := p.ed.Execute(ctx, "lsp-router.explain", p.ed.Args(path, codectx.Range{Start: pos, End: pos}, "")); err != nil {
		t.Fatalf("execute: %v\n%s", err, p.stderr)
	}
	if !p.ed.WaitFor(30*time.Second, func() bool { return len(p.ed.Answers()) == 1 }) {
		t.Fatalf("no answer\n%s", p.stderr)
	}
	chats := srv.Chats()
	if len(chats) == 0 {
		t.Fatal("the model was not asked")
	}
	msgs := chats[len(chats)-1].Messages
	if prompt := msgs[len(msgs)-1].Content; !strings.Contains(prompt, `s.CreateUser("guest")`) {
		t.Errorf("the prompt has no reference from Serena:\n%s", prompt)
	}
}
