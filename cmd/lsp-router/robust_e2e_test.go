package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// rawServer is the real binary driven byte by byte over its stdio.
type rawServer struct {
	cmd    *exec.Cmd
	w      *fakeeditor.Wire
	stderr *recorder // read while the server runs in failure messages: locked
	waited chan error
	dir    string
}

func startRawServer(t *testing.T, extra ...string) *rawServer {
	t.Helper()
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok"})
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	cmd := exec.Command(binary, append([]string{"--log-level", "debug", "--config", cfg, "serve"}, extra...)...)
	// gopls, started for the opened Go file, writes its file cache under
	// XDG_CACHE_HOME and may still be flushing it after the server exits:
	// that directory is removed on a best-effort basis, not by t.TempDir.
	cache, err := os.MkdirTemp("", "lsp-router-cache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cache) })
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_STATE_HOME="+t.TempDir(), "XDG_CACHE_HOME="+cache, "LSP_ROUTER_CONFIG=")
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	p := &rawServer{cmd: cmd, stderr: &recorder{}, waited: make(chan error, 1), dir: dir}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	p.w = fakeeditor.NewWire(stdout, stdin)
	if err := p.w.Call(1, "initialize", map[string]any{"capabilities": map[string]any{}, "rootUri": fakeeditor.URI(dir), "processId": nil}); err != nil {
		t.Fatal(err)
	}
	if r, err := p.w.Next(20 * time.Second); err != nil || r.Error != nil {
		t.Fatalf("initialize: %v %+v", err, r.Error)
	}
	p.w.Notify("initialized", map[string]any{})
	return p
}

// exit waits for the process and returns its exit code and stderr.
func (p *rawServer) exit(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-p.waited:
		return p.cmd.ProcessState.ExitCode(), p.stderr.String()
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.waited
		t.Fatalf("server did not exit; stderr:\n%s", p.stderr)
		return -1, ""
	}
}

// TestServeSurvivesEveryMalformedMessage is issue 13's robustness test:
// each bad input, then a valid request that must still be answered.
func TestServeSurvivesEveryMalformedMessage(t *testing.T) {
	p := startRawServer(t)
	for i, bad := range fakeeditor.BadInputs {
		if err := p.w.SendBody(bad.Body); err != nil {
			code, stderr := p.exit(t)
			t.Fatalf("%s: server gone (exit %d): %v\n%s", bad.Name, code, err, stderr)
		}
		if bad.Code != 0 {
			r, err := p.w.Next(20 * time.Second)
			if err != nil || r.Error == nil || r.Error.Code != bad.Code || string(r.ID) != bad.ID {
				t.Fatalf("%s: reply %+v id %s err %v, want code %d id %s", bad.Name, r.Error, r.ID, err, bad.Code, bad.ID)
			}
		}
		id := 100 + i
		p.w.Call(id, "workspace/executeCommand", map[string]any{"command": "lsp-router.cancel", "arguments": []any{}})
		r, err := p.w.Next(20 * time.Second)
		if err != nil || string(r.ID) != fmt.Sprint(id) || r.Error != nil {
			p.cmd.Process.Kill()
			code, stderr := p.exit(t)
			t.Fatalf("after %s the valid request was not answered: %v %+v (exit %d)\n%s", bad.Name, err, r.Error, code, stderr)
		}
	}
	// A code action on a document the editor opened normally still works.
	path := filepath.Join(p.dir, "main.go")
	p.w.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": fakeeditor.URI(path), "languageId": "go", "version": 1, "text": helloGo}})
	p.w.Call(500, "textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": fakeeditor.URI(path)}, "range": codectx.Range{}, "context": map[string]any{"diagnostics": []any{}}})
	if r, err := p.w.Next(20 * time.Second); err != nil || r.Error != nil || !strings.Contains(string(r.Result), "lsp-router.explain") {
		t.Fatalf("codeAction: %v %+v %s", err, r.Error, r.Result)
	}
	p.w.Call(501, "shutdown", nil)
	if r, err := p.w.Next(20 * time.Second); err != nil || r.Error != nil {
		t.Fatalf("shutdown: %v %+v", err, r.Error)
	}
	p.w.Notify("exit", nil)
	if code, stderr := p.exit(t); code != 0 {
		t.Fatalf("exit code %d after shutdown+exit\n%s", code, stderr)
	}
}

// TestServeEndsOnUnframeableInput: an oversized header or body, or a header
// without a usable Content-Length, ends the session with a log line and a
// non-zero exit, without hanging.
func TestServeEndsOnUnframeableInput(t *testing.T) {
	cases := []struct {
		name  string
		extra []string
		raw   []byte
		want  string
	}{
		{"oversized header line", nil, append([]byte("Content-Length: 1"), bytes.Repeat([]byte("0"), 1<<20)...), "header line is longer than 8192 bytes"},
		{"oversized body", []string{"--max-message-bytes", "1000"}, []byte(fakeeditor.Frame(`{"jsonrpc":"2.0","method":"x","params":"` + strings.Repeat("a", 2000) + `"}`)), "exceeds the limit of 1000 bytes"},
		{"header without Content-Length", nil, []byte("Content-Type: application/vscode-jsonrpc\r\n\r\n{}"), "has no Content-Length"},
		{"header line without colon", nil, []byte("hello\r\n\r\n"), "has no colon"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startRawServer(t, c.extra...)
			go p.w.SendRaw(c.raw) // the server stops reading part way
			code, stderr := p.exit(t)
			if code == 0 {
				t.Errorf("exit code 0")
			}
			if !strings.Contains(stderr, "ending the connection") || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr does not say why:\n%s", stderr)
			}
		})
	}
}

func TestServeRejectsNonPositiveLimits(t *testing.T) {
	_, errOut, code := runCLI(t, t.TempDir(), "serve", "--max-message-bytes", "0")
	if code != exitUsage || !strings.Contains(errOut, "must be positive") {
		t.Fatalf("%d %s", code, errOut)
	}
}

// TestEditorOutOfSyncDocumentIsRefusedThenHealed: after a change that
// cannot be applied, a refactor is refused with one line and never reaches
// the model; the whole text heals the document, and the edit then carries
// the editor's version.
func TestEditorOutOfSyncDocumentIsRefusedThenHealed(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer})
	defer srv.Close()
	p, dir := editorSession(t, srv.URL, llm.KindOllama, fakeeditor.FullCaps)
	ctx := context.Background()
	path := filepath.Join(dir, "main.go")
	os.WriteFile(path, []byte(helloGo), 0o644)
	p.ed.Open(ctx, path, "go", helloGo)
	// The editor's copy moves on, the server's change does not fit: out of sync.
	p.ed.Server.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri.File(path)}, Version: 2},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: protocol.Range{Start: protocol.Position{Line: 99}, End: protocol.Position{Line: 99}}, Text: "x"}},
	})
	at := codectx.Range{Start: codectx.Position{Line: 9, Character: 2}, End: codectx.Position{Line: 9, Character: 2}}
	args := map[string]any{"uri": fakeeditor.URI(path), "range": at, "instruction": "use slices.Reverse"}
	_, err := p.ed.Execute(ctx, "lsp-router.refactor", args)
	want := path + " is out of sync with the editor: save or reopen it, then try again"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if len(srv.Chats()) != 0 || len(p.ed.EditRequests()) != 0 {
		t.Fatalf("the model was asked (%d) or an edit sent (%d) for an out-of-sync document", len(srv.Chats()), len(p.ed.EditRequests()))
	}
	if !p.ed.WaitFor(10*time.Second, func() bool { return len(p.ed.MessagesContaining(want)) == 1 }) {
		t.Errorf("the user was not told once: %+v", p.ed.Messages())
	}
	// A full change heals it (the fake editor sends its whole buffer).
	p.ed.Replace(ctx, path, helloGo)
	_, version := p.ed.Text(path)
	res, err := p.ed.Execute(ctx, "lsp-router.refactor", p.ed.Args(path, at, "use slices.Reverse"))
	if err != nil || !strings.Contains(string(res), `"applied":true`) {
		t.Fatalf("after healing: %v %s\n%s", err, res, p.stderr)
	}
	if text, _ := p.ed.Text(path); text != wantRefactored {
		t.Fatalf("buffer:\n%s", text)
	}
	for _, e := range p.ed.EditRequests() {
		b, _ := json.Marshal(e.Edit)
		if !strings.Contains(string(b), fmt.Sprintf(`"version":%d`, version)) || strings.Contains(string(b), `"version":null`) {
			t.Errorf("edit to the open document without its version: %s", b)
		}
	}
}

// TestEditorExecuteCommandAnswersBeforeAStalledModel: with a model that
// stalls 2 s, executeCommand's response arrives first; the answer follows.
func TestEditorExecuteCommandAnswersBeforeAStalledModel(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "`reverseWords` reverses the word order.", FirstTokenDelay: 2 * time.Second})
	defer srv.Close()
	caps := fakeeditor.FullCaps
	caps.NoExecuteWait = true
	caps.PluginAnswers = true
	p, dir := editorSession(t, srv.URL, llm.KindOllama, caps)
	ctx := context.Background()
	path := filepath.Join(dir, "main.go")
	p.ed.Open(ctx, path, "go", helloGo)
	began := time.Now()
	res, err := p.ed.Execute(ctx, "lsp-router.explain", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 8, Character: 5}, End: codectx.Position{Line: 8, Character: 5}}, ""))
	took := time.Since(began)
	if err != nil || !strings.Contains(string(res), `"started":true`) {
		t.Fatalf("execute: %v %s\n%s", err, res, p.stderr)
	}
	if n := len(p.ed.Answers()); n != 0 {
		t.Fatalf("the response came after the answer (%d answers)", n)
	}
	t.Logf("executeCommand answered in %v with a model stalling 2s", took)
	if !p.ed.WaitFor(20*time.Second, func() bool { return len(p.ed.Answers()) == 1 }) {
		t.Fatalf("no answer after the response\n%s", p.stderr)
	}
	if a := string(p.ed.Answers()[0]); !strings.Contains(a, "reverses the word order") {
		t.Errorf("answer %s", a)
	}
	if answered := time.Since(began); answered < 2*time.Second {
		t.Errorf("the answer came in %v, before the model's stall ended: the double did not stall", answered)
	}
}
