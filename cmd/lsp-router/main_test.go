package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lsp-router-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "lsp-router")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// recorder keeps a copy of everything the server wrote to stdout.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// String is the text so far; the process may still be writing.
func (r *recorder) String() string { return string(r.bytes()) }

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf.Bytes()...)
}

type procStream struct {
	io.Reader
	io.WriteCloser
}

func (p procStream) Close() error { return p.WriteCloser.Close() }

type serverProc struct {
	cmd    *exec.Cmd
	ed     *fakeeditor.Editor
	stdout *recorder
	stderr *recorder // read while the server runs: locked
	waited chan error
}

func startServer(t *testing.T, args ...string) *serverProc {
	t.Helper()
	return startServerWith(t, fakeeditor.FullCaps, args...)
}

func startServerWith(t *testing.T, caps fakeeditor.Caps, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--log-level", "debug"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_STATE_HOME="+t.TempDir(), "LSP_ROUTER_CONFIG=")
	cmd.Dir = t.TempDir()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	p := &serverProc{cmd: cmd, stdout: &recorder{}, stderr: &recorder{}, waited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waited <- cmd.Wait() }()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		cmd.Process.Kill()
	})
	p.ed = fakeeditor.Connect(ctx, procStream{io.TeeReader(stdout, p.stdout), stdin}, caps)
	return p
}

func (p *serverProc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.waited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		t.Fatalf("server did not exit; stderr:\n%s", p.stderr)
		return -1
	}
}

// checkFrames asserts stdout holds nothing but well-formed LSP frames.
func checkFrames(t *testing.T, out []byte) int {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(out))
	frames := 0
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF && line == "" {
			return frames
		}
		if !strings.HasPrefix(line, "Content-Length: ") || !strings.HasSuffix(line, "\r\n") {
			t.Fatalf("frame %d: bad header %q", frames, line)
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Content-Length: ")))
		if err != nil {
			t.Fatalf("frame %d: bad length %q", frames, line)
		}
		if blank, _ := r.ReadString('\n'); blank != "\r\n" {
			t.Fatalf("frame %d: missing blank line, got %q", frames, blank)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatalf("frame %d: short body: %v", frames, err)
		}
		var msg map[string]any
		if err := json.Unmarshal(body, &msg); err != nil || msg["jsonrpc"] != "2.0" {
			t.Fatalf("frame %d: not JSON-RPC: %s", frames, body)
		}
		frames++
	}
}

func TestBinaryServesLSPOnStdio(t *testing.T) {
	p := startServer(t, "serve")
	ctx := context.Background()
	res, err := p.ed.Initialize(ctx, p.cmd.Dir, map[string]any{"security": map[string]any{"allow_external": false}})
	if err != nil {
		t.Fatalf("initialize: %v\nstderr:\n%s", err, p.stderr)
	}
	if res.ServerInfo.Name != "lsp-router" {
		t.Errorf("server info %+v", res.ServerInfo)
	}
	path := filepath.Join(p.cmd.Dir, "main.go")
	p.ed.Open(ctx, path, "go", "package main\n\nfunc main() {}\n")
	actions, err := p.ed.Server.CodeAction(ctx, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}})
	if err != nil || len(actions) < 5 {
		t.Fatalf("codeAction: %d actions, %v", len(actions), err)
	}
	if err := p.ed.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	p.ed.Server.Exit(ctx)
	if code := p.exitCode(t); code != 0 {
		t.Errorf("exit code after shutdown+exit = %d", code)
	}
	if n := checkFrames(t, p.stdout.bytes()); n < 2 {
		t.Errorf("only %d frames on stdout", n)
	}
	if !strings.Contains(p.stderr.String(), "lsp-router serving on stdio") {
		t.Errorf("logs did not go to stderr:\n%s", p.stderr)
	}
}

func TestBinaryExitsWithoutShutdownWithCode1(t *testing.T) {
	p := startServer(t)
	if _, err := p.ed.Initialize(context.Background(), p.cmd.Dir, nil); err != nil {
		t.Fatal(err)
	}
	p.ed.Server.Exit(context.Background())
	if code := p.exitCode(t); code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
}

func TestBinaryExitsWhenStdinCloses(t *testing.T) {
	p := startServer(t, "serve")
	if _, err := p.ed.Initialize(context.Background(), p.cmd.Dir, nil); err != nil {
		t.Fatal(err)
	}
	p.ed.Close()
	if code := p.exitCode(t); code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
}

func TestBinaryExitsWhenEditorProcessDies(t *testing.T) {
	parent := exec.Command("sleep", "60")
	if err := parent.Start(); err != nil {
		t.Skip("no sleep command")
	}
	p := startServer(t, "serve")
	pid := int32(parent.Process.Pid)
	if _, err := p.ed.Server.Initialize(context.Background(), &protocol.InitializeParams{ProcessID: &pid}); err != nil {
		t.Fatal(err)
	}
	parent.Process.Kill()
	parent.Wait()
	if code := p.exitCode(t); code != 1 {
		t.Errorf("exit code = %d", code)
	}
	if !strings.Contains(p.stderr.String(), "editor process is gone") {
		t.Errorf("stderr:\n%s", p.stderr)
	}
}

func runCLI(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"), "XDG_STATE_HOME="+filepath.Join(dir, "state"), "LSP_ROUTER_CONFIG=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func TestCLIConfigInitValidateShow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	out, errOut, code := runCLI(t, dir, "config", "init", path)
	if code != 0 || !strings.Contains(out, "Wrote "+path) {
		t.Fatalf("init: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, dir, "config", "init", path); code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("second init: %d %s", code, errOut)
	}
	if out, _, code := runCLI(t, dir, "config", "validate", path); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("validate: %d %s", code, out)
	}
	os.WriteFile(path, []byte("[security]\nallow_externel = true\n[services.olama]\n"), 0o600)
	out, _, code = runCLI(t, dir, "config", "validate", path)
	if code != 1 || !strings.Contains(out, path+":2: security.allow_externel: unknown key; valid keys here: allow_external") || !strings.Contains(out, path+":3: services.olama: unknown service") {
		t.Errorf("validate bad: %d\n%s", code, out)
	}
	out, _, code = runCLI(t, dir, "config", "validate", "--json", path)
	var v struct {
		Valid    bool
		Problems []struct {
			Line int
			Key  string
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Valid || len(v.Problems) != 2 || v.Problems[0].Line == 0 {
		t.Errorf("validate --json: %d %s", code, out)
	}
	// serve names the problem (and refuses model calls until stdin closes).
	_, errOut, code = runCLI(t, dir, "--config", path, "serve")
	if code != 1 || !strings.Contains(errOut, "allow_externel") {
		t.Errorf("serve with bad config: %d %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, ".lsp-router.toml"), []byte("[generation]\nmax_answer_tokens = 512\n"), 0o600)
	out, _, code = runCLI(t, dir, "config", "show")
	if code != 0 || !strings.Contains(out, "max_answer_tokens = 512") || !strings.Contains(out, ".lsp-router.toml") {
		t.Errorf("show: %d %s", code, out)
	}
}

func TestCLIHelpAndUnknownCommand(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"serve", "config", "version"} {
		if out, _, code := runCLI(t, dir, name, "--help"); code != 0 && !strings.Contains(out, "Usage: lsp-router "+name) {
			t.Errorf("%s --help: %d %s", name, code, out)
		}
	}
	if _, errOut, code := runCLI(t, dir, "frobnicate"); code != 2 || !strings.Contains(errOut, "lsp-router help") {
		t.Errorf("unknown: %d %s", code, errOut)
	}
}

func TestBinaryExitsAfterExitWhileStdinStaysOpen(t *testing.T) {
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_STATE_HOME="+t.TempDir())
	stdin, _ := cmd.StdinPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close() // only after the check: an editor keeps the pipe open
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`,
		`{"jsonrpc":"2.0","method":"exit"}`,
	} {
		fmt.Fprintf(stdin, "Content-Length: %d\r\n\r\n%s", len(msg), msg)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit status: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the server kept running after exit")
	}
}

func TestBinaryWithBrokenConfigStartsAndSaysWhy(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[security]\nallow_externel = true\n"), 0o600)
	p := startServer(t, "--config", bad, "serve")
	if _, err := p.ed.Initialize(context.Background(), p.cmd.Dir, nil); err != nil {
		t.Fatalf("initialize with a broken config: %v", err)
	}
	if !p.ed.WaitFor(10*time.Second, func() bool { return len(p.ed.MessagesContaining("allow_externel")) == 1 }) {
		t.Fatalf("no warning naming the bad key; messages %+v", p.ed.Messages())
	}
}
