package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/security/audit"
)

const helloGo = `// Command hello says hello.
package main

import (
	"fmt"
	"strings"
)

func reverseWords(s string) string {
	words := strings.Fields(s)
	for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
		words[i], words[j] = words[j], words[i]
	}
	return strings.Join(words, " ")
}

func main() {
	fmt.Println(reverseWords("offline networks need local models"))
}
`

const refactorAnswer = "<think>The user wants slices.Reverse.</think>\nHere is the refactored function:\n\n```go\nfunc reverseWords(s string) string {\n\twords := strings.Fields(s)\n\tslices.Reverse(words)\n\treturn strings.Join(words, \" \")\n}\n```\n\nThis uses `slices.Reverse` instead of the manual loop.\n"

const wantRefactored = `// Command hello says hello.
package main

import (
	"fmt"
	"strings"
)

func reverseWords(s string) string {
	words := strings.Fields(s)
	slices.Reverse(words)
	return strings.Join(words, " ")
}

func main() {
	fmt.Println(reverseWords("offline networks need local models"))
}
`

// onlyService writes a config that probes just the double, and keeps the
// audit log inside dir.
func onlyService(t testing.TB, dir string, kind llm.Kind, url string) string {
	t.Helper()
	var b strings.Builder
	for _, k := range config.ServiceKinds {
		if k == string(kind) {
			fmt.Fprintf(&b, "[services.%s]\nendpoint = %q\n\n", k, url)
		} else {
			fmt.Fprintf(&b, "[services.%s]\nenabled = false\n\n", k)
		}
	}
	fmt.Fprintf(&b, "[security]\naudit_log_path = %q\naudit_key_file = %q\n", filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "audit.key"))
	path := filepath.Join(dir, "lsp-router.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLIAskApplyRefactorsAFile(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer, Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o640)

	// Without --apply: a diff, and the file untouched.
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "refactor", "--file", file, "--line", "9", "--col", "6", "use slices.Reverse")
	if code != 0 || !strings.Contains(out, "+\tslices.Reverse(words)") || !strings.Contains(out, "-\tfor i, j := 0") {
		t.Fatalf("ask: %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != helloGo {
		t.Fatal("file changed without --apply")
	}
	// The model saw the function and the instruction.
	last := srv.Chats()[0].Messages
	if !strings.Contains(last[len(last)-1].Content, "use slices.Reverse") || !strings.Contains(last[len(last)-1].Content, "func reverseWords") {
		t.Errorf("prompt: %+v", last)
	}
	// With --apply: the file is rewritten, mode kept. The answer forgets
	// the slices import; where gopls verifies it, only --force writes it
	// (TestCLIApplyRefusesAStillBrokenEdit).
	_, errOut, code = runCLI(t, dir, "--config", cfg, "ask", "--action", "refactor", "--file", file, "--line", "9", "--col", "6", "--apply", "--force", "use slices.Reverse")
	b, _ := os.ReadFile(file)
	if code != 0 || string(b) != wantRefactored {
		t.Fatalf("apply: %d %s\n%s", code, errOut, b)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", st.Mode())
	}
	// --json has the documented shape.
	os.WriteFile(file, []byte(helloGo), 0o640)
	out, _, code = runCLI(t, dir, "--config", cfg, "ask", "--json", "--action", "refactor", "--file", file, "--line", "9", "--col", "6", "use slices.Reverse")
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 {
		t.Fatalf("json: %v %s", err, out)
	}
	for _, k := range []string{"model", "service", "category", "fallback_level", "answer", "edits", "tokens_in", "tokens_out"} {
		if _, ok := j[k]; !ok {
			t.Errorf("json lacks %q: %s", k, out)
		}
	}
	if j["model"] != "qwen2.5-coder:7b" || j["category"] != "coding" || j["fallback_level"] != "primary" {
		t.Errorf("json: %s", out)
	}
	// Every query was audited (a query_start before sending, the outcome
	// after), hashed, keyed chain intact.
	res, err := audit.VerifyWith(filepath.Join(dir, "audit.jsonl"), audit.VerifyOptions{KeyFile: filepath.Join(dir, "audit.key")})
	if err != nil || res.Lines != 6 || res.KeyID == "" {
		t.Fatalf("audit: %+v %v", res, err)
	}
	recs, _ := audit.Tail(filepath.Join(dir, "audit.jsonl"), 1)
	if recs[0].QuerySHA256 == "" || recs[0].Query != "" || recs[0].Model != "qwen2.5-coder:7b" {
		t.Errorf("audit record %+v", recs[0])
	}
}

func TestCLIAskStreamsAnAnswer(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: "It reverses the order of the words in s.", Pings: true})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindLlamaCpp, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "10", "--col", "2")
	if code != 0 || !strings.Contains(out, "It reverses the order of the words in s.") {
		t.Fatalf("explain: %d\n%s\n%s", code, out, errOut)
	}
}

func TestCLIAskWithoutServicesSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, "http://127.0.0.1:1") // nothing listens on port 1
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9", "--col", "6")
	if code != exitNoService || !strings.Contains(errOut, "ollama serve") || !strings.Contains(errOut, "127.0.0.1 on ports 1") {
		t.Fatalf("%d %s", code, errOut)
	}
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n > 8 {
		t.Errorf("hint is %d lines long:\n%s", n, errOut)
	}
}

func TestCLIAskBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"ask"}, "give the question"},
		{[]string{"ask", "--action", "explain"}, "needs --file"},
		{[]string{"ask", "--action", "nope", "x"}, "unknown action"},
		{[]string{"ask", "--action", "explain", "--file", file, "--line", "99"}, "--line 99 is outside"},
		{[]string{"ask", "--action", "explain", "--file", file, "--line", "9", "--col", "200"}, "--col 200 is outside"},
		{[]string{"ask", "--action", "explain", "--apply", "--file", file, "--line", "9"}, "--apply only works"},
		{[]string{"ask", "--action", "explain", "--file", filepath.Join(dir, "missing.go"), "--line", "1"}, "read --file"},
	}
	for _, c := range cases {
		_, errOut, code := runCLI(t, dir, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %d %q, want %q", c.args, code, errOut, c.want)
		}
	}
}

func TestCLIDryRunShowsContextAndPromptWithoutCallingAModel(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "x"})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--dry-run", "--action", "document", "--file", file, "--line", "9", "--col", "6")
	if code != 0 || !strings.Contains(out, "== prompt") || !strings.Contains(out, "func reverseWords(s string) string {") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
	if srv.ChatRequests() != 0 {
		t.Error("dry run called the model")
	}
}

func TestCLIRouteAndModels(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{
		{ID: "qwen2.5-coder:7b", ContextLength: 32768, Loaded: true, Digest: strings.Repeat("a", 64)},
		{ID: "llama3.2:1b", ContextLength: 131072, Digest: strings.Repeat("b", 64)},
		{ID: "nomic-embed-text:latest", Embedding: true, Digest: strings.Repeat("c", 64)},
	}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "route", "--json", "write unit tests for this parser")
	var r struct {
		Category, Model, Service string
		Confidence               float64
		Fallbacks                []struct{ Model string }
		Skipped                  []struct{ Model, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("route: %d %v\n%s\n%s", code, err, out, errOut)
	}
	if r.Category != "coding" || r.Model != "qwen2.5-coder:7b" || r.Service == "" || len(r.Fallbacks) == 0 {
		t.Errorf("route: %s", out)
	}
	if !strings.Contains(out, "nomic-embed-text") {
		t.Errorf("the embedding model is not reported as skipped: %s", out)
	}
	out, _, code = runCLI(t, dir, "--config", cfg, "models", "--json")
	var ms []map[string]any
	if err := json.Unmarshal([]byte(out), &ms); err != nil || code != 0 || len(ms) != 3 {
		t.Fatalf("models: %v %s", err, out)
	}
	for _, k := range []string{"id", "service", "family", "params_b", "quantization", "context_length", "catalog_id", "estimated", "chat", "loaded"} {
		if _, ok := ms[0][k]; !ok {
			t.Errorf("models entry lacks %q", k)
		}
	}
	out, _, code = runCLI(t, dir, "--config", cfg, "models", "--pin")
	if code != 0 || !strings.Contains(out, `"qwen2.5-coder:7b" = "sha256:aaaa`) {
		t.Errorf("pin: %s", out)
	}
	// With verify_checksums and one pin, the unpinned models are refused.
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("verify_checksums = true\n[security.model_pins]\n\"llama3.2:1b\" = \"sha256:"+strings.Repeat("b", 64)+"\"\n")...), 0o600)
	out, _, _ = runCLI(t, dir, "--config", cfg, "route", "--json", "--action", "refactor")
	if !strings.Contains(out, `"model": "llama3.2:1b"`) || !strings.Contains(out, "qwen2.5-coder:7b") {
		t.Errorf("route with pins: %s", out)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// editorSession starts the real binary as an editor would, configured to
// use one LLM double.
func editorSession(t *testing.T, srvURL string, kind llm.Kind, caps fakeeditor.Caps) (*serverProc, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := onlyService(t, dir, kind, srvURL)
	p := startServerWith(t, caps, "--config", cfg, "serve")
	if _, err := p.ed.Initialize(context.Background(), dir, nil); err != nil {
		t.Fatalf("initialize: %v\n%s", err, p.stderr)
	}
	return p, dir
}

func TestEditorRefactorEndToEnd(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer, ChunkSize: 8})
	defer srv.Close()
	p, dir := editorSession(t, srv.URL, llm.KindOllama, fakeeditor.FullCaps)
	ctx := context.Background()
	path := filepath.Join(dir, "main.go")
	os.WriteFile(path, []byte(helloGo), 0o644)
	p.ed.Open(ctx, path, "go", helloGo)
	res, err := p.ed.Execute(ctx, "lsp-router.refactor", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 9, Character: 2}, End: codectx.Position{Line: 9, Character: 2}}, "use slices.Reverse"))
	if err != nil {
		t.Fatalf("execute: %v\n%s", err, p.stderr)
	}
	if text, _ := p.ed.Text(path); text != wantRefactored {
		t.Fatalf("buffer:\n%s", text)
	}
	var out struct {
		Model   string
		Applied bool
	}
	json.Unmarshal(res, &out)
	if !out.Applied || out.Model == "" {
		t.Errorf("result %s", res)
	}
	var stages []string
	for _, e := range p.ed.Progress() {
		stages = append(stages, e.Kind+":"+e.Message)
	}
	got := strings.Join(stages, "\n")
	if !strings.Contains(got, "begin:gathering context") || !strings.Contains(got, "report:qwen2.5-coder:7b: ") || !strings.Contains(got, "end:edit applied") {
		t.Errorf("progress:\n%s", got)
	}
	// The audit record names the editor from its clientInfo.
	recs, err := audit.Tail(filepath.Join(dir, "audit.jsonl"), 1)
	if err != nil || len(recs) != 1 || recs[0].Agent != "fakeeditor" || recs[0].Command != "refactor" || !recs[0].Success {
		t.Errorf("audit: %+v %v", recs, err)
	}
}

func TestEditorExplainReachesThePlugin(t *testing.T) {
	srv := llmtest.New(llm.KindVLLM, llmtest.Options{Reply: "`reverseWords` splits `s` into words and joins them in reverse order."})
	defer srv.Close()
	caps := fakeeditor.FullCaps
	caps.PluginAnswers = true
	p, dir := editorSession(t, srv.URL, llm.KindVLLM, caps)
	ctx := context.Background()
	path := filepath.Join(dir, "main.go")
	p.ed.Open(ctx, path, "go", helloGo)
	if _, err := p.ed.Execute(ctx, "lsp-router.explain", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 8, Character: 5}, End: codectx.Position{Line: 8, Character: 5}}, "")); err != nil {
		t.Fatalf("execute: %v\n%s", err, p.stderr)
	}
	if !p.ed.WaitFor(10*time.Second, func() bool { return len(p.ed.Answers()) == 1 }) {
		t.Fatal("no answer notification")
	}
	var a struct{ Markdown, Model string }
	json.Unmarshal(p.ed.Answers()[0], &a)
	if !strings.Contains(a.Markdown, "joins them in reverse order") {
		t.Errorf("answer %+v", a)
	}
}

func TestEditorCancelClosesUpstreamConnection(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: strings.Repeat("word ", 2000), ChunkDelay: 20 * time.Millisecond})
	defer srv.Close()
	p, dir := editorSession(t, srv.URL, llm.KindOllama, fakeeditor.FullCaps)
	path := filepath.Join(dir, "main.go")
	p.ed.Open(context.Background(), path, "go", helloGo)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.ed.Execute(ctx, "lsp-router.explain", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 8}, End: codectx.Position{Line: 8}}, ""))
		errc <- err
	}()
	if !p.ed.WaitFor(15*time.Second, func() bool { return srv.Generations() > 0 }) {
		t.Fatalf("generation never started\n%s", p.stderr)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled command succeeded")
	}
	if !p.ed.WaitFor(10*time.Second, func() bool { return srv.Disconnects() > 0 }) {
		t.Fatal("the LLM server never saw the connection close")
	}
	if srv.ChatRequests() != 1 {
		t.Errorf("%d chat requests: a cancelled generation was re-sent", srv.ChatRequests())
	}
}

func TestEditorFallsBackWhenTheFirstModelFails(t *testing.T) {
	bad := llmtest.New(llm.KindOllama, llmtest.Options{FailWith: llmtest.FailInternal, Models: []llmtest.Model{{ID: "qwen2.5-coder:32b", ContextLength: 32768}}})
	defer bad.Close()
	good := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: refactorAnswer})
	defer good.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, bad.URL)
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte(fmt.Sprintf("\n[[custom_endpoints]]\nname = \"backup\"\nendpoint = %q\npriority = 50\n", good.URL))...), 0o600)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--json", "--action", "refactor", "--file", file, "--line", "9", "--col", "6", "use slices.Reverse")
	if code != 0 {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	var j struct {
		Service       string
		FallbackLevel string `json:"fallback_level"`
		Notes         []string
	}
	json.Unmarshal([]byte(out), &j)
	if j.Service != "backup" || len(j.Notes) == 0 || !strings.Contains(j.Notes[0], "qwen2.5-coder:32b") {
		t.Errorf("fallback: %s", out)
	}
}

func TestCLIDoctorJSON(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("allowed_cidrs = [\"10.0.0.0/33\"]\n")...), 0o600)
	out, _, code := runCLI(t, dir, "--config", cfg, "doctor", "--json", "--no-dns")
	if code != 1 || !strings.Contains(out, "10.0.0.0/33") {
		t.Fatalf("a bad config must fail doctor: %d %s", code, out)
	}
	cfg = onlyService(t, dir, llm.KindOllama, srv.URL)
	out, _, code = runCLI(t, dir, "--config", cfg, "doctor", "--json", "--no-dns")
	var rep struct {
		Status string
		Checks []struct{ Name, Status, Detail, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	names := map[string]string{}
	for _, c := range rep.Checks {
		names[c.Name] = c.Status
	}
	if code != 0 || names["service Ollama"] != "ok" || names["network: allowlist"] != "ok" || names["audit: hash chain"] == "" {
		t.Errorf("doctor: %d %s", code, out)
	}
}

func TestCLIAskVerifiesTheEditWithGoplsAndRetries(t *testing.T) {
	if _, err := exec.LookPath("gopls"); err != nil {
		t.Skip("gopls not on PATH: go install golang.org/x/tools/gopls@v0.23.0")
	}
	fixed := "```go\nimport (\n\t\"fmt\"\n\t\"slices\"\n\t\"strings\"\n)\n\nfunc reverseWords(s string) string {\n\twords := strings.Fields(s)\n\tslices.Reverse(words)\n\treturn strings.Join(words, \" \")\n}\n```\n"
	srv := llmtest.New(llm.KindOllama, llmtest.Options{ReplyFunc: func(r llmtest.ChatRequest) string {
		if strings.Contains(r.Messages[len(r.Messages)-1].Content, "compiler errors") {
			return fixed
		}
		return refactorAnswer // forgets the import
	}})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.22\n"), 0o644)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "refactor", "--file", file, "--line", "9", "--col", "6", "--apply", "use slices.Reverse")
	b, _ := os.ReadFile(file)
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	if !strings.Contains(errOut, "introduced 1 error") || !strings.Contains(errOut, "compiles cleanly") {
		t.Errorf("no verification notes:\n%s", errOut)
	}
	if !strings.Contains(string(b), "\t\"slices\"\n") || !strings.Contains(string(b), "slices.Reverse(words)") {
		t.Errorf("file:\n%s", b)
	}
	if n := srv.ChatRequests(); n != 2 {
		t.Errorf("%d generations, want the answer and one retry", n)
	}
}

const testsAnswer = "Here are table-free tests:\n\n```go\npackage main\n\nimport \"testing\"\n\nfunc TestReverseWords(t *testing.T) {\n\tif got := reverseWords(\"a b c\"); got != \"c b a\" {\n\t\tt.Errorf(\"got %q\", got)\n\t}\n}\n```\n"

func TestCLITestsActionWritesTheTestFile(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: testsAnswer})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(helloGo), 0o644)
	out, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "tests", "--file", file, "--line", "9", "--col", "6", "--apply")
	if code != 0 || !strings.Contains(out, "+++ b/main_test.go") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "main_test.go"))
	if err != nil || !strings.HasPrefix(string(b), "package main\n\nimport \"testing\"\n\nfunc TestReverseWords(") {
		t.Fatalf("test file: %v\n%s", err, b)
	}
	// A second run appends to the existing file instead of replacing it.
	os.WriteFile(filepath.Join(dir, "main_test.go"), []byte("package main\n\nimport \"testing\"\n\nfunc TestMain(m *testing.M) { m.Run() }\n"), 0o644)
	_, errOut, code = runCLI(t, dir, "--config", cfg, "ask", "--action", "tests", "--file", file, "--line", "9", "--col", "6", "--apply")
	b, _ = os.ReadFile(filepath.Join(dir, "main_test.go"))
	if code != 0 || !strings.Contains(string(b), "func TestMain(") || !strings.Contains(string(b), "func TestReverseWords(") || strings.Count(string(b), "package main") != 1 {
		t.Fatalf("append: %d %s\n%s", code, errOut, b)
	}
}

func TestEditorTestsActionCreatesTheTestFile(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: testsAnswer})
	defer srv.Close()
	for _, c := range []struct {
		name   string
		caps   fakeeditor.Caps
		create bool
	}{{"editor creates files", fakeeditor.FullCaps, true}, {"editor cannot create files", fakeeditor.Caps{DocumentChanges: true}, false}} {
		t.Run(c.name, func(t *testing.T) {
			p, dir := editorSession(t, srv.URL, llm.KindOllama, c.caps)
			ctx := context.Background()
			path := filepath.Join(dir, "main.go")
			os.WriteFile(path, []byte(helloGo), 0o644)
			p.ed.Open(ctx, path, "go", helloGo)
			res, err := p.ed.Execute(ctx, "lsp-router.tests", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 9, Character: 1}, End: codectx.Position{Line: 9, Character: 1}}, ""))
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "main_test.go"))
			if c.create && (err != nil || !strings.Contains(string(b), "func TestReverseWords(")) {
				t.Fatalf("test file: %v %s (result %s)", err, b, res)
			}
			if !c.create && (err == nil || !strings.Contains(string(res), "cannot create files")) {
				t.Fatalf("without create support: file err %v, result %s", err, res)
			}
		})
	}
}
