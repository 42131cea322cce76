package llmtest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
)

func TestChunks(t *testing.T) {
	s := &Server{}
	if got := strings.Join(s.chunks("a bc  d\ne"), "|"); got != "a |bc  |d\n|e" {
		t.Fatalf("word chunks %q", got)
	}
	s.opts.ChunkSize = 2
	if got := strings.Join(s.chunks("héllo"), "|"); got != "hé|ll|o" {
		t.Fatalf("rune chunks %q", got)
	}
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestEchoAndWireShapes(t *testing.T) {
	srv := New(llm.KindKoboldCpp, Options{Echo: true})
	defer srv.Close()
	resp := post(t, srv.URL+"/v1/chat/completions", `{"model":"x","stream":true,"messages":[{"role":"user","content":"ping pong"}]}`)
	defer resp.Body.Close()
	if resp.Header.Get("Server") != "ConcedoLlamaForKoboldServer" || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("headers %v", resp.Header)
	}
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if !strings.HasSuffix(body, "data: [DONE]") {
		t.Fatalf("KoboldCpp ends without a final newline: %q", body[len(body)-20:])
	}
	if !strings.Contains(body, `"content":"ping "`) || !strings.Contains(body, `"content":"pong"`) {
		t.Fatalf("echo missing: %s", body)
	}
	if srv.Generations() != 1 || srv.Chats()[0].Messages[0].Content != "ping pong" {
		t.Fatal("request not recorded")
	}
}

func TestOllamaNDJSONFinalLine(t *testing.T) {
	srv := New(llm.KindOllama, Options{Reply: "one two"})
	defer srv.Close()
	resp := post(t, srv.URL+"/api/chat", `{"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	last := lines[len(lines)-1]
	if len(lines) != 3 || last["done"] != true || last["eval_count"] != float64(2) || last["prompt_eval_count"] != float64(1) {
		t.Fatalf("lines %v", lines)
	}
}

func TestGPT4AllRefusesStreaming(t *testing.T) {
	srv := New(llm.KindGPT4All, Options{})
	defer srv.Close()
	resp := post(t, srv.URL+"/v1/chat/completions", `{"model":"anything","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	resp.Body.Close()
	if resp.StatusCode != 400 || srv.Generations() != 0 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Unknown model: silently falls back to the default.
	resp = post(t, srv.URL+"/v1/chat/completions", `{"model":"anything","messages":[{"role":"user","content":"hi"}]}`)
	var out struct {
		Model string `json:"model"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || out.Model != DefaultModel(llm.KindGPT4All).ID {
		t.Fatalf("status %d model %q", resp.StatusCode, out.Model)
	}
}

func TestJanChecksHostHeader(t *testing.T) {
	srv := New(llm.KindJan, Options{})
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/models", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || string(b) != "Invalid host header" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
}

func TestStartRejectsUnknownKind(t *testing.T) {
	if _, err := Start("chatgpt", Options{}); err == nil {
		t.Fatal("want error")
	}
}

func TestOllamaChecksHostHeader(t *testing.T) {
	srv := New(llm.KindOllama, Options{})
	defer srv.Close()
	for host, want := range map[string]int{"evil.example": 403, "localhost": 200, "host.docker.internal": 200, "127.0.0.1": 200} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/version", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}
