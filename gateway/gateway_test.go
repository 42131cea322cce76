package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/gateway"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/security/audit"
)

type fixedServices struct{ services []llm.Service }

func (f *fixedServices) Services(context.Context) ([]llm.Service, error) { return f.services, nil }
func (f *fixedServices) Invalidate(string)                               {}

type memAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memAudit) Write(e audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return nil
}

func (m *memAudit) queries() []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []audit.Event
	for _, e := range m.events {
		if e.Type == audit.EventQuery {
			out = append(out, e)
		}
	}
	return out
}

func service(srv *llmtest.Server, name string) llm.Service {
	svc := srv.Service()
	svc.Name, svc.Status = name, llm.StatusOnline
	return svc
}

// setup serves a gateway over a pipeline over the doubles.
func setup(t testing.TB, opts gateway.Options, mod func(*router.Deps), srvs ...llm.Service) (*httptest.Server, *memAudit) {
	t.Helper()
	au := &memAudit{}
	d := router.Deps{
		Services: &fixedServices{services: srvs},
		NewClient: func(svc llm.Service) llm.Client {
			return llm.NewClient(svc, http.DefaultClient, llm.Options{MaxRetries: -1})
		},
		Breakers: selection.NewBreakers(100, time.Hour, nil),
		Audit:    au,
	}
	if mod != nil {
		mod(&d)
	}
	p, err := router.New(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	hs := httptest.NewServer(gateway.New(p, opts))
	t.Cleanup(hs.Close)
	return hs, au
}

func post(t *testing.T, url, key, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decodeBody(t *testing.T, r *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

type errBody struct {
	Error struct {
		Message, Type, Code string
	}
}

func wantError(t *testing.T, r *http.Response, status int, code, inMessage string) {
	t.Helper()
	var e errBody
	decodeBody(t, r, &e)
	if r.StatusCode != status || e.Error.Code != code || e.Error.Type == "" || !strings.Contains(e.Error.Message, inMessage) {
		t.Fatalf("got %d %+v, want %d code %s with %q", r.StatusCode, e, status, code, inMessage)
	}
}

func TestModelsListsRealAndVirtualModels(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}, {ID: "nomic-embed-text", Embedding: true}}})
	defer a.Close()
	hs, _ := setup(t, gateway.Options{}, nil, service(a, "Ollama"))
	resp, err := http.Get(hs.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string
		Data   []struct{ ID, Object, OwnedBy string }
	}
	decodeBody(t, resp, &list)
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	want := "auto auto:coding auto:reasoning auto:analysis auto:documentation qwen2.5-coder:7b"
	if list.Object != "list" || strings.Join(ids, " ") != want {
		t.Fatalf("models %q, want %q (no embedding model)", strings.Join(ids, " "), want)
	}
}

func TestChatAutoAnswersFromTheRoutedModel(t *testing.T) {
	a := llmtest.New(llm.KindVLLM, llmtest.Options{Reply: "Use a mutex here.", Models: []llmtest.Model{{ID: "Qwen/Qwen2.5-Coder-7B-Instruct", ContextLength: 32768}}})
	defer a.Close()
	hs, au := setup(t, gateway.Options{}, nil, service(a, "vLLM"))

	resp := post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto","messages":[{"role":"system","content":"You are a coding agent."},{"role":"user","content":"should I use channels or a mutex for this cache?"}]}`)
	var out struct {
		Object, Model string
		Choices       []struct {
			Message      struct{ Role, Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		}
	}
	decodeBody(t, resp, &out)
	if resp.StatusCode != 200 || out.Object != "chat.completion" || out.Model != "Qwen/Qwen2.5-Coder-7B-Instruct" ||
		len(out.Choices) != 1 || out.Choices[0].Message.Content != "Use a mutex here." || out.Choices[0].FinishReason != "stop" || out.Usage.TotalTokens == 0 {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	if got := resp.Header.Get("X-LSP-Router-Category"); got != "reasoning" {
		t.Errorf("category header %q, want reasoning", got)
	}
	// The messages reach the model unchanged.
	sent := a.Chats()[0].Messages
	if len(sent) != 2 || sent[0].Content != "You are a coding agent." {
		t.Errorf("sent %+v", sent)
	}
	q := au.queries()
	if len(q) != 1 || q[0].Agent != "gateway:local" || q[0].Command != "chat" || q[0].Model != out.Model || q[0].Category != "reasoning" || !q[0].Success {
		t.Errorf("audit %+v", q)
	}

	// Streamed: chunks, then the finish chunk, the usage chunk and [DONE].
	resp = post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto:coding","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	var text strings.Builder
	var done, finished, usage bool
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			done = true
			continue
		}
		var ch struct {
			Object  string
			Choices []struct {
				Delta        struct{ Content string }
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct{ TotalTokens int }
		}
		if err := json.Unmarshal([]byte(line), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %q: %v", line, err)
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
			finished = finished || c.FinishReason != nil
		}
		usage = usage || ch.Usage != nil
	}
	if text.String() != "Use a mutex here." || !done || !finished || !usage {
		t.Fatalf("stream %q done=%v finished=%v usage=%v", text.String(), done, finished, usage)
	}
	if got := resp.Header.Get("X-LSP-Router-Category"); got != "coding" {
		t.Errorf("auto:coding went to %q", got)
	}
}

func TestNamedModelGoesToTheServiceThatHasIt(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "from ollama", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer a.Close()
	b := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: "from llama.cpp", Models: []llmtest.Model{{ID: "phi-4-mini", ContextLength: 32768}}})
	defer b.Close()
	hs, _ := setup(t, gateway.Options{}, nil, service(a, "Ollama"), service(b, "llama.cpp"))
	resp := post(t, hs.URL+"/v1/chat/completions", "", `{"model":"phi-4-mini","messages":[{"role":"user","content":"write a function that adds two ints"}]}`)
	var out struct {
		Model   string
		Choices []struct{ Message struct{ Content string } }
	}
	decodeBody(t, resp, &out)
	if out.Model != "phi-4-mini" || out.Choices[0].Message.Content != "from llama.cpp" || a.ChatRequests() != 0 {
		t.Fatalf("%+v (ollama chats %d)", out, a.ChatRequests())
	}
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`), 404, "model_not_found", "GET /v1/models")
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto:poetry","messages":[{"role":"user","content":"hi"}]}`), 404, "model_not_found", "auto:coding")
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto","messages":[]}`), 400, "invalid_messages", "at least one")
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "", `{"model":`), 400, "invalid_json", "JSON")
}

func TestCompletionWithSuffixAsksForTheMiddle(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "a + b", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer a.Close()
	hs, au := setup(t, gateway.Options{}, nil, service(a, "Ollama"))
	resp := post(t, hs.URL+"/v1/completions", "", `{"model":"auto","prompt":"func add(a, b int) int {\n\treturn ","suffix":"\n}\n","max_tokens":16}`)
	var out struct {
		Object  string
		Choices []struct{ Text string }
	}
	decodeBody(t, resp, &out)
	if resp.StatusCode != 200 || out.Object != "text_completion" || out.Choices[0].Text != "a + b" {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	sent := a.Chats()[0].Messages
	user := sent[len(sent)-1].Content
	if !strings.Contains(user, "return <CURSOR>\n}") {
		t.Errorf("the model was not shown prefix and suffix around the cursor: %q", user)
	}
	if q := au.queries(); len(q) != 1 || q[0].Command != "completion" || q[0].Category != "coding" {
		t.Errorf("audit %+v", q)
	}
}

func TestFallbackOnlyBeforeTheFirstToken(t *testing.T) {
	// Two models: the catalog ranks the 32B first for coding, the 1.5B is
	// the fallback (the same model on several endpoints would be ordered
	// by the conversation's hash instead).
	big := []llmtest.Model{{ID: "qwen2.5-coder:32b", ContextLength: 32768}}
	small := []llmtest.Model{{ID: "qwen2.5-coder:1.5b", ContextLength: 32768}}
	// Before any token: the fallback answers.
	bad := llmtest.New(llm.KindVLLM, llmtest.Options{FailWith: llmtest.FailInternal, Models: big})
	defer bad.Close()
	good := llmtest.New(llm.KindVLLM, llmtest.Options{Reply: "fine", Models: small})
	defer good.Close()
	hs, _ := setup(t, gateway.Options{}, nil, service(bad, "gpu1"), service(good, "gpu2"))
	for range 3 {
		resp := post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto:coding","messages":[{"role":"user","content":"hi"}]}`)
		var out struct {
			Model   string
			Choices []struct{ Message struct{ Content string } }
		}
		decodeBody(t, resp, &out)
		if resp.StatusCode != 200 || out.Choices[0].Message.Content != "fine" || out.Model != "qwen2.5-coder:1.5b" {
			t.Fatalf("%d %+v", resp.StatusCode, out)
		}
	}
	if bad.ChatRequests() == 0 {
		t.Fatal("the first choice was never tried")
	}
	m := metricsText(t, hs.URL)
	if !strings.Contains(m, `lsp_router_gateway_fallbacks_total{model="qwen2.5-coder:1.5b",service="gpu2"} 3`) {
		t.Errorf("fallbacks not counted:\n%s", m)
	}

	// After a token went out: an error event, and no second model starts.
	mid := llmtest.New(llm.KindVLLM, llmtest.Options{Reply: "one two three", FailWith: llmtest.FailMidStream, FailAfter: 1, Models: big})
	defer mid.Close()
	spare := llmtest.New(llm.KindVLLM, llmtest.Options{Reply: "spare", Models: small})
	defer spare.Close()
	hs2, au := setup(t, gateway.Options{}, nil, service(mid, "gpu1"), service(spare, "gpu2"))
	resp := post(t, hs2.URL+"/v1/chat/completions", "", `{"model":"auto:coding","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"content":"one `) || !strings.Contains(string(body), `"error":{`) || strings.Contains(string(body), "[DONE]") {
		t.Fatalf("stream:\n%s", body)
	}
	if spare.ChatRequests() != 0 {
		t.Errorf("a second model started after the first token")
	}
	if q := au.queries(); len(q) != 1 || q[0].Success {
		t.Errorf("audit %+v", q)
	}
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestKeysLimitsAndMetrics(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok", FirstTokenDelay: 0, Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer a.Close()
	const tok = "0123456789abcdef0123456789abcdef"
	line, err := gateway.HashLine(tok, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(line, tok) {
		t.Fatal("the keys file line holds the token")
	}
	keys, err := gateway.ParseKeys(strings.NewReader("# team keys\n" + line + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	hs, au := setup(t, gateway.Options{Keys: keys, MaxRequestBytes: 2048, MaxConcurrentPerKey: 1}, nil, service(a, "Ollama"))
	chat := `{"model":"auto","messages":[{"role":"user","content":"write a hello world"}]}`
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "", chat), 401, "invalid_api_key", "Authorization: Bearer")
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "wrong-token-wrong-token", chat), 401, "invalid_api_key", "keys_file")
	resp := post(t, hs.URL+"/v1/chat/completions", tok, chat)
	if resp.StatusCode != 200 {
		t.Fatalf("with the key: %d", resp.StatusCode)
	}
	if q := au.queries(); len(q) != 1 || q[0].Agent != "gateway:alice" {
		t.Errorf("the audit record does not name the key's owner: %+v", q)
	}
	big := `{"model":"auto","messages":[{"role":"user","content":"` + strings.Repeat("x", 4096) + `"}]}`
	wantError(t, post(t, hs.URL+"/v1/chat/completions", tok, big), 413, "request_too_large", "max_request_bytes")

	m := metricsText(t, hs.URL)
	for _, want := range []string{
		`lsp_router_gateway_model_requests_total{model="qwen2.5-coder:7b",service="Ollama"} 1`,
		`lsp_router_gateway_tokens_total{model="qwen2.5-coder:7b",service="Ollama",direction="completion"}`,
		`lsp_router_gateway_time_to_first_token_seconds_count{model="qwen2.5-coder:7b",service="Ollama"} 1`,
		`lsp_router_gateway_request_duration_seconds_bucket{model="qwen2.5-coder:7b",service="Ollama",le="+Inf"} 1`,
		`lsp_router_gateway_http_requests_total{endpoint="/v1/chat/completions",code="401"} 2`,
		`lsp_router_gateway_http_requests_total{endpoint="/v1/chat/completions",code="413"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
}

func TestPerKeyConcurrencyLimit(t *testing.T) {
	slow := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "slow answer", FirstTokenDelay: time.Minute, Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer slow.Close()
	hs, _ := setup(t, gateway.Options{MaxConcurrentPerKey: 1}, nil, service(slow, "Ollama"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/v1/chat/completions", strings.NewReader(`{"model":"auto","messages":[{"role":"user","content":"hi"}]}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		first <- err
	}()
	// The first request is open once the double has it.
	for slow.ChatRequests() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	resp := post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	wantError(t, resp, 429, "rate_limit_exceeded", "max_concurrent_per_key")
	cancel()
	<-first
}

func TestKeysFileErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"", "no keys"},
		{"sha256:abcd alice\n", "64 hex digits"},
		{"0123 alice\n", "sha256:"},
		{"sha256:" + strings.Repeat("a", 64) + " bad/owner\n", "owner"},
		{"sha256:" + strings.Repeat("a", 64) + " alice\nsha256:" + strings.Repeat("a", 64) + " bob\n", "listed for alice"},
	} {
		if _, err := gateway.ParseKeys(strings.NewReader(tc.file)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.file, err, tc.want)
		}
	}
	if _, err := gateway.HashLine("short", "alice"); err == nil {
		t.Error("a short token was accepted")
	}
}

type failingAudit struct{}

func (failingAudit) Write(audit.Event) error {
	return &audit.FailureError{Path: "/var/log/audit.jsonl", Err: errors.New("no space left on device")}
}

func TestAuditFailureRefusesTheRequest(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "never", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer a.Close()
	hs, _ := setup(t, gateway.Options{}, func(d *router.Deps) { d.Audit = failingAudit{} }, service(a, "Ollama"))
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`), 503, "audit_failed", "nothing was sent")
	if a.ChatRequests() != 0 {
		t.Error("the model was asked although the audit record failed")
	}
}

func TestWorldWritableKeysFileIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	path := filepath.Join(t.TempDir(), "keys")
	line, _ := gateway.HashLine("0123456789abcdef0123", "alice")
	os.WriteFile(path, []byte(line+"\n"), 0o600)
	if _, err := gateway.LoadKeys(path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o666)
	if _, err := gateway.LoadKeys(path); err == nil || !strings.Contains(err.Error(), "chmod o-w") {
		t.Errorf("world-writable keys file: %v", err)
	}
}

func TestConversationsStayOnTheirEndpoint(t *testing.T) {
	model := []llmtest.Model{{ID: "Qwen/Qwen2.5-Coder-32B-Instruct", ContextLength: 32768}}
	var svcs []llm.Service
	for i := range 3 {
		d := llmtest.New(llm.KindVLLM, llmtest.Options{Reply: "ok", Models: model})
		defer d.Close()
		svcs = append(svcs, service(d, fmt.Sprintf("gpu%d", i+1)))
	}
	hs, _ := setup(t, gateway.Options{}, nil, svcs...)
	served := func(msgs string) string {
		resp := post(t, hs.URL+"/v1/chat/completions", "", `{"model":"auto","messages":`+msgs+`}`)
		io.Copy(io.Discard, resp.Body)
		return resp.Header.Get("X-LSP-Router-Service")
	}
	seen := map[string]bool{}
	for i := range 30 {
		first := fmt.Sprintf(`[{"role":"system","content":"You are a coding agent."},{"role":"user","content":"task %d: add a flag"}`, i)
		home := served(first + "]")
		seen[home] = true
		for turn := range 3 {
			follow := fmt.Sprintf(`%s,{"role":"assistant","content":"done"},{"role":"user","content":"now step %d"}]`, first, turn)
			if got := served(follow); got != home {
				t.Fatalf("conversation %d turn %d went to %s, its first request to %s", i, turn, got, home)
			}
		}
	}
	if len(seen) < 2 {
		t.Errorf("30 conversations all went to %v: no spread", seen)
	}
}

func TestPinsApplyToTheGateway(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "pinned", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}, {ID: "unpinned:7b", ContextLength: 32768}}})
	defer a.Close()
	policy := func(svc llm.Service, m llm.Model) (bool, string) {
		if m.ID == "unpinned:7b" {
			return false, "no pin in security.model_pins"
		}
		return true, ""
	}
	hs, _ := setup(t, gateway.Options{}, func(d *router.Deps) { d.ModelPolicy = policy }, service(a, "Ollama"))
	resp, err := http.Get(hs.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "unpinned") || !strings.Contains(string(b), "qwen2.5-coder:7b") {
		t.Errorf("models: %s", b)
	}
	wantError(t, post(t, hs.URL+"/v1/chat/completions", "", `{"model":"unpinned:7b","messages":[{"role":"user","content":"hi"}]}`), 404, "model_not_found", "no pin in security.model_pins")
	for _, c := range a.Chats() {
		if c.Model == "unpinned:7b" {
			t.Fatal("a refused model was asked")
		}
	}
}
