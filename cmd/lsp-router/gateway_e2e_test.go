package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/gateway"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// gatewayProc is a running `lsp-router gateway`.
type gatewayProc struct {
	cmd   *exec.Cmd
	url   string // http://127.0.0.1:PORT
	done  chan struct{}
	lines chan string // stderr after the address line
}

var servingRe = regexp.MustCompile(`on (http://[^ ]+)/v1`)

func startGateway(t *testing.T, dir string, args ...string) *gatewayProc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"), "XDG_STATE_HOME="+filepath.Join(dir, "state"), "LSP_ROUTER_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &gatewayProc{cmd: cmd, done: make(chan struct{}), lines: make(chan string, 100)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingRe.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				continue
			}
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	select {
	case p.url = <-addr:
	case <-p.done:
		t.Fatalf("the gateway exited before serving: %d", cmd.ProcessState.ExitCode())
	}
	return p
}

func TestGatewayRefusesToListenBeyondLoopbackWithoutKeys(t *testing.T) {
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, "http://127.0.0.1:9")
	_, errOut, code := runCLI(t, dir, "--config", cfg, "gateway", "--listen", "0.0.0.0:0")
	if code != exitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "gateway.keys_file") {
		t.Fatalf("exit %d, stderr %q: want one line naming gateway.keys_file", code, errOut)
	}
}

func TestGatewayServesAgentsAndFinishesStreamsOnSIGTERM(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "one two three four five six seven eight", ChunkDelay: 100 * time.Millisecond,
		Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	const tok = "team-token-0123456789abcdef"
	line, _ := gateway.HashLine(tok, "alice")
	keys := filepath.Join(dir, "keys")
	os.WriteFile(keys, []byte(line+"\n"), 0o600)
	g := startGateway(t, dir, "--config", cfg, "gateway", "--listen", "127.0.0.1:0", "--keys-file", keys)

	// No key: refused in OpenAI's error shape.
	req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/models", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(b), `"type":"authentication_error"`) {
		t.Fatalf("without a key: %d %s", resp.StatusCode, b)
	}

	// A stream is open when SIGTERM arrives: it finishes, then the process exits.
	req, _ = http.NewRequest(http.MethodPost, g.url+"/v1/chat/completions",
		strings.NewReader(`{"model":"auto","stream":true,"messages":[{"role":"user","content":"write a function that reverses a list"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	first, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(first, `"content":"one `) {
		t.Fatalf("first event %q %v", first, err)
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), "eight") || !strings.Contains(string(rest), "data: [DONE]") {
		t.Fatalf("the open stream was cut by SIGTERM:\n%s%s", first, rest)
	}
	<-g.done
	if code := g.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
	// The audit record names the key's owner.
	log, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if !strings.Contains(string(log), `"agent":"gateway:alice"`) || !strings.Contains(string(log), `"command":"chat"`) {
		t.Errorf("audit log:\n%s", log)
	}
}

func TestGatewayHashKey(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "gateway", "hash-key", "bob")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("a-long-random-token-for-bob\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	k, err := gateway.ParseKeys(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if o, ok := k.Owner("a-long-random-token-for-bob"); !ok || o != "bob" {
		t.Errorf("owner %q %v", o, ok)
	}
}
