package lsp_test

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
)

const ctxSource = "package list\n\ntype List struct{ n int }\n\nfunc (l *List) Len() int {\n\treturn l.n\n}\n"

// gatherEngine gathers context like the real engine (editor slot first,
// then the buffer) and answers with it as JSON.
func gatherEngine() *stubEngine {
	return &stubEngine{run: func(ctx context.Context, req router.Request, _ router.ProgressFunc) (*router.Result, error) {
		c := codectx.Gather(ctx, []codectx.Source{codectx.EditorSlot{}, codectx.BufferSource{}}, req.Query, codectx.GatherOptions{})
		b, err := json.Marshal(c)
		return &router.Result{Model: "m", Service: "svc", Answer: string(b)}, err
	}}
}

func startWithConfig(t *testing.T, cfg *config.Config, caps fakeeditor.Caps, engine *stubEngine) *session {
	t.Helper()
	serverEnd, clientEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{engine: engine, exit: make(chan int, 1), dir: t.TempDir()}
	go func() {
		s.exit <- lsp.Serve(ctx, jsonrpc2.NewHeaderStream(serverEnd), lsp.Options{
			Config:    cfg,
			NewEngine: func(*config.Config, string, string) (router.Engine, error) { return engine, nil },
			Version:   "test", CacheDir: filepath.Join(s.dir, "answers"),
		})
	}()
	s.ed = fakeeditor.Connect(ctx, clientEnd, caps)
	t.Cleanup(func() { cancel(); s.ed.Close() })
	return s
}

// editorAnswers answers context requests the way Neovim's and VS Code's
// gopls answers reach the server: raw LSP JSON. hang makes one method
// never answer.
func editorAnswers(t *testing.T, path, hang string, asked *[]string, mu *sync.Mutex) func(context.Context, string, json.RawMessage) (any, error) {
	u := fakeeditor.URI(path)
	return func(ctx context.Context, method string, params json.RawMessage) (any, error) {
		mu.Lock()
		*asked = append(*asked, method)
		mu.Unlock()
		if !strings.Contains(string(params), u) {
			t.Errorf("%s params %s do not name %s", method, params, u)
		}
		if method == hang {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		var out string
		switch method {
		case lsp.MethodContextDocumentSymbol:
			out = `[{"name":"List","kind":23,"range":{"start":{"line":2,"character":0},"end":{"line":2,"character":26}},"selectionRange":{"start":{"line":2,"character":5},"end":{"line":2,"character":9}}},
			{"name":"(*List).Len","kind":6,"range":{"start":{"line":4,"character":0},"end":{"line":6,"character":1}},"selectionRange":{"start":{"line":4,"character":15},"end":{"line":4,"character":18}}}]`
		case lsp.MethodContextHover:
			out = `{"contents":{"kind":"markdown","value":"func (l *List) Len() int\n\nLen returns the number of elements."}}`
		case lsp.MethodContextReferences:
			out = `[{"uri":"` + u + `","range":{"start":{"line":5,"character":8},"end":{"line":5,"character":9}}}]`
		case lsp.MethodContextDiagnostics:
			out = `[{"range":{"start":{"line":5,"character":1},"end":{"line":5,"character":7}},"severity":2,"message":"from the editor's gopls","source":"compiler"}]`
		default:
			out = `null`
		}
		return jsonrpc2.RawMessage(out), nil
	}
}

func TestEditorProvidedContext(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	dir := t.TempDir()
	path := filepath.Join(dir, "list.go")
	caps := fakeeditor.FullCaps
	caps.Context = editorAnswers(t, path, "", &asked, &mu)
	s := startWithConfig(t, config.Default(), caps, gatherEngine())
	s.init(t)
	ctx := context.Background()
	if err := s.ed.Open(ctx, path, "go", ctxSource); err != nil {
		t.Fatal(err)
	}
	raw, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(5, 2, 5, 2), ""))
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Answer string }
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	var c codectx.Context
	if err := json.Unmarshal([]byte(res.Answer), &c); err != nil {
		t.Fatalf("answer %q: %v", res.Answer, err)
	}
	if c.Symbol == nil || c.Symbol.NamePath != "List/Len" || c.Symbol.Body != "func (l *List) Len() int {\n\treturn l.n\n}" {
		t.Fatalf("symbol = %+v", c.Symbol)
	}
	if !strings.Contains(c.Hover, "Len returns the number of elements.") {
		t.Errorf("hover = %q", c.Hover)
	}
	if len(c.References) != 1 || c.References[0].Snippet == "" || !strings.Contains(c.References[0].Snippet, "return l.n") {
		t.Errorf("references = %+v", c.References)
	}
	if len(c.Diagnostics) != 1 || c.Diagnostics[0].Message != "from the editor's gopls" {
		t.Errorf("diagnostics = %+v", c.Diagnostics)
	}
	for _, part := range []string{codectx.PartSymbol, codectx.PartHover, codectx.PartReferences, codectx.PartDiagnostics} {
		if r, ok := reportOf(c, codectx.EditorSourceName, part); !ok || !r.OK {
			t.Errorf("the editor's %s is not reported as answered: %+v", part, c.Sources)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 4 {
		t.Errorf("the editor was asked %v, want documentSymbol, hover, references, diagnostics", asked)
	}
}

func TestEditorContextDeadlineIsReported(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	dir := t.TempDir()
	path := filepath.Join(dir, "list.go")
	caps := fakeeditor.FullCaps
	caps.Context = editorAnswers(t, path, lsp.MethodContextReferences, &asked, &mu)
	cfg := config.Default()
	cfg.Context.EditorTimeout = config.Duration{Duration: 100 * time.Millisecond}
	s := startWithConfig(t, cfg, caps, gatherEngine())
	s.init(t)
	ctx := context.Background()
	if err := s.ed.Open(ctx, path, "go", ctxSource); err != nil {
		t.Fatal(err)
	}
	raw, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(5, 2, 5, 2), ""))
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Answer string }
	_ = json.Unmarshal(raw, &res)
	var c codectx.Context
	if err := json.Unmarshal([]byte(res.Answer), &c); err != nil {
		t.Fatal(err)
	}
	r, ok := reportOf(c, codectx.EditorSourceName, codectx.PartReferences)
	if !ok || r.OK || !strings.Contains(r.Error, "context.editor_timeout") {
		t.Fatalf("a missing answer must be reported with what to tune: %+v", r)
	}
	if c.Hover == "" || c.Symbol == nil {
		t.Errorf("the parts that came in time were lost: %+v", c)
	}
}

func TestNoEditorContextWithoutCapability(t *testing.T) {
	s := startWithConfig(t, config.Default(), fakeeditor.FullCaps, gatherEngine())
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "list.go")
	if err := s.ed.Open(ctx, path, "go", ctxSource); err != nil {
		t.Fatal(err)
	}
	raw, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(5, 2, 5, 2), ""))
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Answer string }
	_ = json.Unmarshal(raw, &res)
	var c codectx.Context
	_ = json.Unmarshal([]byte(res.Answer), &c)
	if _, ok := reportOf(c, codectx.EditorSourceName, codectx.PartSymbol); ok {
		t.Fatalf("an editor without lspRouterContext was asked: %+v", c.Sources)
	}
}

func reportOf(c codectx.Context, source, part string) (codectx.SourceReport, bool) {
	for _, r := range c.Sources {
		if r.Source == source && r.Part == part {
			return r, true
		}
	}
	return codectx.SourceReport{}, false
}
