package lsp_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
)

// docs/protocol.md is what the editor plugins are written against; these
// tests keep it and the server from drifting apart.

// TestProtocolDocListsTheRegisteredCommands compares the commands table of
// docs/protocol.md with the commands the server announces in its
// initialize result (executeCommandProvider), both ways.
func TestProtocolDocListsTheRegisteredCommands(t *testing.T) {
	doc := readProtocolDoc(t)
	documented := documentedCommands(t, doc)

	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	res, err := s.ed.Initialize(context.Background(), s.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	registered := slices.Clone(res.Capabilities.ExecuteCommandProvider.Commands)
	if len(registered) == 0 {
		t.Fatal("initialize result announces no commands")
	}
	compareSets(t, "command", documented, registered)
}

// TestProtocolDocListsTheStatusStates compares the states documented for
// lsp-router/status with the states an editor receives: a request that
// passes every router.Stage (read from the router's source, so a new stage
// cannot be forgotten) and then finishes.
func TestProtocolDocListsTheStatusStates(t *testing.T) {
	documented := documentedStates(t, readProtocolDoc(t))
	stages := routerStages(t)
	if len(stages) < 2 {
		t.Fatalf("found %d router.Stage constants in ../router: the parser missed them", len(stages))
	}

	engine := &stubEngine{run: func(ctx context.Context, req router.Request, progress router.ProgressFunc) (*router.Result, error) {
		for _, st := range stages {
			progress(router.Progress{Stage: router.Stage(st), Message: st, Model: "m", Service: "svc"})
		}
		return &router.Result{Model: "m", Service: "svc", Answer: "ok"}, nil
	}}
	s := start(t, fakeeditor.FullCaps, engine)
	s.init(t)
	ctx := context.Background()
	path := filepath.Join(s.dir, "a.go")
	if err := s.ed.Open(ctx, path, "go", "package a\n\nfunc F() {}\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ed.Execute(ctx, "lsp-router.explain", s.ed.Args(path, rng(2, 5, 2, 5), "")); err != nil {
		t.Fatal(err)
	}
	seen := func() []string {
		var out []string
		for _, raw := range s.ed.Statuses() {
			var st struct{ State string }
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatalf("lsp-router/status %s: %v", raw, err)
			}
			if !slices.Contains(out, st.State) {
				out = append(out, st.State)
			}
		}
		return out
	}
	// The last status (idle) may still be on its way after the response.
	s.ed.WaitFor(10*time.Second, func() bool { return len(seen()) == len(stages)+1 })
	compareSets(t, "lsp-router/status state", documented, seen())
}

func readProtocolDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// documentedCommands reads the first column of the table under
// "## Commands".
func documentedCommands(t *testing.T, doc string) []string {
	t.Helper()
	_, sec, ok := strings.Cut(doc, "\n## Commands")
	if !ok {
		t.Fatal("docs/protocol.md has no \"## Commands\" section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")
	var out []string
	for _, m := range row.FindAllStringSubmatch(sec, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("docs/protocol.md: no command rows (| `name` | ...) under \"## Commands\"")
	}
	return out
}

// documentedStates reads "with state `a|b|c`" in the lsp-router/status
// entry.
func documentedStates(t *testing.T, doc string) []string {
	t.Helper()
	m := regexp.MustCompile("`lsp-router/status`[^\\n]*with state `([^`]+)`").FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("docs/protocol.md: no \"`lsp-router/status` ... with state `a|b`\" line")
	}
	return strings.Split(m[1], "|")
}

// routerStages returns the values of the router.Stage constants, read from
// the router package's source.
func routerStages(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "router", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, stageConsts(t, f)...)
	}
	return out
}

func stageConsts(t *testing.T, f *ast.File) []string {
	var out []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Stage" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("router.Stage constant %v is not a string literal: update this test", v)
				}
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, s)
			}
		}
	}
	return out
}

// compareSets reports what only the doc has and what only the server has.
func compareSets(t *testing.T, what string, documented, actual []string) {
	t.Helper()
	for _, d := range documented {
		if !slices.Contains(actual, d) {
			t.Errorf("docs/protocol.md documents %s %q, which the server does not have", what, d)
		}
	}
	for _, a := range actual {
		if !slices.Contains(documented, a) {
			t.Errorf("the server has %s %q, which docs/protocol.md does not document", what, a)
		}
	}
}
