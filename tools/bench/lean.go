package main

// The lean request path (issue 16): the process tree's memory with
// editor-provided context next to lsp-router's own gopls, the refactor
// overhead at growing file sizes minus the time inside the LLM double, and
// the CPU one keystroke costs in a 50 KB document.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/lsp-router/lsp-router/lsp"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func init() {
	sections = append(sections,
		section{"lean: process tree memory, editor context vs own gopls", benchTreeMemory},
		section{"lean: refactor overhead by file size", benchRefactorOverhead},
		section{"lean: CPU per keystroke, 50 KB document", benchKeystroke},
	)
}

// startProc starts the binary with caps and a config file and initializes.
func (s *suite) startProc(ctx context.Context, caps fakeeditor.Caps, configPath, workspace string) (*proc, error) {
	cmd := exec.Command(s.binary, "--log-level", "error", "--config", configPath, "serve")
	cmd.Dir = workspace
	home, err := os.MkdirTemp("", "bench-home")
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+home, "XDG_STATE_HOME="+home, "LSP_ROUTER_CONFIG=")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ed := fakeeditor.Connect(ctx, stream{stdout, stdin}, caps)
	if _, err := ed.Initialize(ctx, workspace, nil); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("initialize: %w", err)
	}
	return &proc{cmd: cmd, ed: ed, dir: home}, nil
}

// treeRSSMB sums the resident memory of pid and all its descendants.
func treeRSSMB(pid int) (float64, error) {
	children := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// The command may hold spaces and parentheses: fields follow the last ')'.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	total := 0.0
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if r, err := rssMB(p); err == nil {
			total += r
		}
		queue = append(queue, children[p]...)
	}
	return total, nil
}

// listModule copies $GOROOT/src/container/list/list.go into a new module.
func listModule() (dir, path, text string, err error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", "", "", err
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "src", "container", "list", "list.go"))
	if err != nil {
		return "", "", "", err
	}
	dir, err = os.MkdirTemp("", "bench-list")
	if err != nil {
		return "", "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.test/list\n\ngo 1.22\n"), 0o600); err != nil {
		return "", "", "", err
	}
	path = filepath.Join(dir, "list.go")
	return dir, path, string(src), os.WriteFile(path, src, 0o600)
}

// funcRange finds "func <header>" in text and returns its range up to the
// closing brace at the start of a line, and the name's range.
func funcRange(text, header string) (codectx.Range, codectx.Range, bool) {
	i := strings.Index(text, "func "+header)
	if i < 0 {
		return codectx.Range{}, codectx.Range{}, false
	}
	j := strings.Index(text[i:], "\n}")
	if j < 0 {
		return codectx.Range{}, codectx.Range{}, false
	}
	end := i + j + 2
	name := header
	if k := strings.IndexAny(name, "("); k > 0 {
		name = name[:k]
	}
	if strings.HasPrefix(header, "(") {
		// a method: "(l *List) move(" -> "move"
		rest := header[strings.Index(header, ")")+2:]
		name = rest[:strings.Index(rest, "(")]
	}
	n := i + strings.Index(text[i:], name+"(")
	return codectx.Range{Start: codectx.PositionOf(text, i), End: codectx.PositionOf(text, end)},
		codectx.Range{Start: codectx.PositionOf(text, n), End: codectx.PositionOf(text, n+len(name))}, true
}

// editorAnswering is a fake editor's context handler that answers like the
// editor's gopls would for one function of text: its document symbol, a
// hover, no references, no diagnostics.
func editorAnswering(text, header, name string, kind int, hover string) func(context.Context, string, json.RawMessage) (any, error) {
	rng, sel, _ := funcRange(text, header)
	sym, _ := json.Marshal([]map[string]any{{"name": name, "kind": kind, "range": rng, "selectionRange": sel}})
	hov, _ := json.Marshal(map[string]any{"contents": map[string]string{"kind": "markdown", "value": hover}})
	return func(_ context.Context, method string, _ json.RawMessage) (any, error) {
		switch method {
		case lsp.MethodContextDocumentSymbol:
			return jsonrpc2.RawMessage(sym), nil
		case lsp.MethodContextHover:
			return jsonrpc2.RawMessage(hov), nil
		case lsp.MethodContextReferences, lsp.MethodContextDiagnostics:
			return jsonrpc2.RawMessage("[]"), nil
		}
		return jsonrpc2.RawMessage("null"), nil
	}
}

// leanConfig is configFor with the language servers left on (the default
// table), so lsp-router would start its own gopls when it needs one.
func leanConfig(dir, url string) (string, error) {
	var b strings.Builder
	for _, k := range []string{"ollama", "lmstudio", "jan", "openwebui", "localai", "vllm", "llamacpp", "koboldcpp", "gpt4all", "textgenwebui", "tgi", "sglang"} {
		if k == "ollama" {
			fmt.Fprintf(&b, "[services.ollama]\nendpoint = %q\n", url)
		} else {
			fmt.Fprintf(&b, "[services.%s]\nenabled = false\n", k)
		}
	}
	fmt.Fprintf(&b, "[generation]\nmax_answer_tokens = 512\n[security]\naudit_log_path = %q\n", filepath.Join(dir, "audit.jsonl"))
	path := filepath.Join(dir, "bench.toml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

func benchTreeMemory(s *suite) error {
	if _, err := exec.LookPath("gopls"); err != nil {
		s.figures = append(s.figures, Figure{Name: "lean: tree memory", Note: "skipped: gopls not on PATH"})
		return nil
	}
	ctx := context.Background()
	d := newDouble(llmtest.Options{Reply: "It moves e next to at."})
	defer d.srv.Close()
	var withEditor, withOwn []float64
	for range s.reps(3) {
		for _, editor := range []bool{true, false} {
			dir, path, text, err := listModule()
			if err != nil {
				return err
			}
			cfg, err := leanConfig(dir, d.srv.URL)
			if err != nil {
				return err
			}
			caps := fakeeditor.FullCaps
			if editor {
				caps.Context = editorAnswering(text, "(l *List) move(", "(*List).move", 6, "```go\nfunc (l *List) move(e *Element, at *Element)\n```\n\nmove moves e to next to at.")
			}
			p, err := s.startProc(ctx, caps, cfg, dir)
			if err != nil {
				return err
			}
			if err := p.ed.Open(ctx, path, "go", text); err != nil {
				return err
			}
			rng, _, _ := funcRange(text, "(l *List) move(")
			at := codectx.Range{Start: codectx.Position{Line: rng.Start.Line + 1, Character: 1}, End: codectx.Position{Line: rng.Start.Line + 1, Character: 1}}
			if _, err := p.ed.Execute(ctx, "lsp-router.explain", p.ed.Args(path, at, "")); err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			<-d.arrived
			time.Sleep(500 * time.Millisecond) // let a started gopls finish loading
			r, err := treeRSSMB(p.cmd.Process.Pid)
			if err != nil {
				return err
			}
			if editor {
				withEditor = append(withEditor, r)
			} else {
				withOwn = append(withOwn, r)
			}
			p.stop()
			os.RemoveAll(dir)
		}
	}
	s.add("lean: tree RSS, initialize+didOpen+Explain, editor context", "MB", withEditor, "<= 25 MB", "container/list copy; the editor's own gopls is not part of the tree")
	s.add("lean: tree RSS, same, lsp-router's own gopls", "MB", withOwn, "", "editor without lspRouterContext")
	return nil
}

// timingProxy stands in front of the double and records how long each
// chat request spends behind it (the double's own time). Its listener sets
// TCP_NODELAY on every connection (Go's default, made explicit), so small
// writes are not held back by Nagle's algorithm.
type timingProxy struct {
	srv  *http.Server
	url  string
	mu   sync.Mutex
	last time.Duration
}

type noDelayListener struct{ net.Listener }

func (l noDelayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return c, err
}

func newTimingProxy(target string) (*timingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	rp.Transport = &http.Transport{DialContext: (&net.Dialer{}).DialContext, MaxIdleConnsPerHost: 16}
	tp := &timingProxy{}
	tp.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		rp.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/chat") {
			tp.mu.Lock()
			tp.last = time.Since(t0)
			tp.mu.Unlock()
		}
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = tp.srv.Serve(noDelayListener{l}) }()
	tp.url = "http://" + l.Addr().String()
	return tp, nil
}

func (tp *timingProxy) lastChat() time.Duration {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.last
}

// fileWithTokens is a Go file of about n tokens (4 bytes each) whose first
// function is the one refactored.
func fileWithTokens(n int) string {
	var b strings.Builder
	b.WriteString("package main\n\n// target adds one.\nfunc target(x int) int {\n\treturn x + 1\n}\n\n")
	for i := 0; b.Len() < n*4; i++ {
		fmt.Fprintf(&b, "// f%d doubles.\nfunc f%d(x int) int {\n\treturn x * %d\n}\n\n", i, i, i%9+2)
	}
	return b.String()
}

const refactorReply = "```go\n// target adds two.\nfunc target(x int) int {\n\treturn x + 2\n}\n```\n"

func benchRefactorOverhead(s *suite) error {
	d := newDouble(llmtest.Options{Reply: refactorReply})
	defer d.srv.Close()
	tp, err := newTimingProxy(d.srv.URL)
	if err != nil {
		return err
	}
	defer tp.srv.Close()
	for _, n := range []int{1000, 10000, 100000} {
		samples, cpu, err := refactorSamples(s, d, tp, n, true)
		if err != nil {
			return err
		}
		target := map[int]string{1000: "<= 1.5 ms", 10000: "<= 3 ms", 100000: "<= 8 ms"}[n]
		s.add(fmt.Sprintf("lean: refactor overhead, %dk-token file (editor context)", n/1000), "ms", samples, target,
			"request -> applyEdit done, minus the time inside the LLM double (TCP_NODELAY)")
		s.add(fmt.Sprintf("lean: lsp-router CPU per refactor, %dk-token file", n/1000), "ms", []float64{cpu}, "",
			"side figure: user+system CPU of the process over the measured runs / runs (with the undo between runs); less sensitive to a loaded machine than the wall-clock figure")
	}
	// The audit log's two records per query (each fsync'ed) stay on in the
	// figures above; these side figures show their share.
	for _, n := range []int{1000, 100000} {
		samples, _, err := refactorSamples(s, d, tp, n, false)
		if err != nil {
			return err
		}
		s.add(fmt.Sprintf("lean: refactor overhead, %dk-token file, audit log off", n/1000), "ms", samples, "",
			"side figure: security.audit_enabled = false; the difference to the figure with the log is its share")
	}
	return nil
}

// refactorSamples runs refactors in a file of about n tokens through a fresh
// server and returns each one's overhead in ms, and the server's CPU time
// per measured run in ms.
func refactorSamples(s *suite, d *double, tp *timingProxy, n int, audit bool) ([]float64, float64, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bench-refactor")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.test/r\n\ngo 1.22\n"), 0o600); err != nil {
		return nil, 0, err
	}
	cfg, err := leanConfig(dir, tp.url)
	if err != nil {
		return nil, 0, err
	}
	if !audit {
		f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return nil, 0, err
		}
		_, err = f.WriteString("audit_enabled = false\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, 0, err
		}
	}
	text := fileWithTokens(n)
	path := filepath.Join(dir, "main.go")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, 0, err
	}
	caps := fakeeditor.FullCaps
	caps.Context = editorAnswering(text, "target(", "target", 12, "```go\nfunc target(x int) int\n```\n\ntarget adds one.")
	p, err := s.startProc(ctx, caps, cfg, dir)
	if err != nil {
		return nil, 0, err
	}
	defer p.stop()
	// Applied edits and the undo that resets each run reach the server as
	// incremental changes, as from an editor with incremental sync: a
	// whole-text didChange of the file in the timed window would measure
	// JSON decoding the editor does not cause.
	p.ed.IncrementalEdits = true
	if err := p.ed.Open(ctx, path, "go", text); err != nil {
		return nil, 0, err
	}
	var samples []float64
	var cpu0 float64
	at := codectx.Range{Start: codectx.Position{Line: 4, Character: 1}, End: codectx.Position{Line: 4, Character: 1}}
	for i := range s.reps(60) + 3 {
		// Every run edits the original text: put it back.
		if err := undoTo(ctx, p.ed, path, text); err != nil {
			return nil, 0, err
		}
		// A round trip first: the server has read (and decoded) the
		// reset before the clock starts.
		_, _ = p.ed.Execute(ctx, "lsp-router.cancel")
		t0 := time.Now()
		res, err := p.ed.Execute(ctx, "lsp-router.refactor", p.ed.Args(path, at, "add two"))
		total := time.Since(t0)
		<-d.arrived
		if err != nil {
			return nil, 0, fmt.Errorf("refactor at %d tokens: %w", n, err)
		}
		var out struct{ Applied bool }
		_ = json.Unmarshal(res, &out)
		if !out.Applied {
			return nil, 0, fmt.Errorf("refactor at %d tokens not applied: %s", n, res)
		}
		if i < 3 {
			if i == 2 {
				cpu0, _ = cpuSeconds(p.cmd.Process.Pid)
			}
			continue // warm-up: discovery, templates, connections
		}
		samples = append(samples, float64((total-tp.lastChat()).Microseconds())/1000)
	}
	cpu1, err := cpuSeconds(p.cmd.Process.Pid)
	if err != nil {
		return nil, 0, err
	}
	return samples, (cpu1 - cpu0) * 1000 / float64(len(samples)), nil
}

// undoTo puts the buffer at path back to text with one incremental change
// over the span that differs, as an editor's undo sends it. The text is
// ASCII, so byte columns are UTF-16 columns.
func undoTo(ctx context.Context, ed *fakeeditor.Editor, path, text string) error {
	cur, _ := ed.Text(path)
	if cur == text {
		return nil
	}
	pre := 0
	for pre < len(cur) && pre < len(text) && cur[pre] == text[pre] {
		pre++
	}
	suf := 0
	for suf < len(cur)-pre && suf < len(text)-pre && cur[len(cur)-1-suf] == text[len(text)-1-suf] {
		suf++
	}
	pos := func(off int) codectx.Position {
		line := strings.Count(cur[:off], "\n")
		return codectx.Position{Line: line, Character: off - (strings.LastIndexByte(cur[:off], '\n') + 1)}
	}
	rng := codectx.Range{Start: pos(pre), End: pos(len(cur) - suf)}
	return ed.Edit(ctx, path, rng, text[pre:len(text)-suf])
}

// cpuSeconds is the user+system CPU time pid has used.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // clock ticks: USER_HZ is 100 on Linux
}

func benchKeystroke(s *suite) error {
	ctx := context.Background()
	d := newDouble(llmtest.Options{})
	defer d.srv.Close()
	dir, err := os.MkdirTemp("", "bench-keys")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := leanConfig(dir, d.srv.URL)
	if err != nil {
		return err
	}
	text := fileWithTokens(50 * 1024 / 4)
	path := filepath.Join(dir, "main.go")
	caps := fakeeditor.FullCaps
	caps.Context = editorAnswering(text, "target(", "target", 12, "func target(x int) int")
	p, err := s.startProc(ctx, caps, cfg, dir)
	if err != nil {
		return err
	}
	defer p.stop()
	if err := p.ed.Open(ctx, path, "go", text); err != nil {
		return err
	}
	var samples []float64
	const keys = 500
	for r := range s.reps(10) {
		before, err := cpuSeconds(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		for k := range keys {
			line := 8 + (r*keys+k)%40
			if err := p.ed.Edit(ctx, path, codectx.Range{Start: codectx.Position{Line: line, Character: 0}, End: codectx.Position{Line: line, Character: 0}}, "x"); err != nil {
				return err
			}
		}
		// A request round trip: every change before it was handled.
		p.ed.Execute(ctx, "lsp-router.cancel")
		after, err := cpuSeconds(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		samples = append(samples, (after-before)*1000/keys)
	}
	s.add("lean: CPU per keystroke, 50 KB document open (editor context)", "ms", samples, "<= 0.5 ms", "incremental didChange of one character; CPU of the lsp-router process from /proc")
	return nil
}
