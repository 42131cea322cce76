package langserver

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// goplsPath finds gopls on PATH, or where `go install` puts it.
func goplsPath(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("gopls"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "gopls")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	tb.Skip("gopls is not on PATH: install it with `go install golang.org/x/tools/gopls@v0.23.0` to run the built-in backend tests")
	return ""
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// copyModule copies testdata/counter into a temporary directory, so
// gopls's view of it is private to the test.
func copyModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "counter.go", "use.go"} {
		data, err := os.ReadFile(filepath.Join("testdata", "counter", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// posOf finds the 0-based position of the first occurrence of needle
// after the first occurrence of anchor (ASCII test files: bytes = UTF-16).
func posOf(t testing.TB, text, anchor, needle string) codectx.Position {
	t.Helper()
	a := strings.Index(text, anchor)
	if a < 0 {
		t.Fatalf("anchor %q not found", anchor)
	}
	i := strings.Index(text[a:], needle)
	if i < 0 {
		t.Fatalf("needle %q not found after %q", needle, anchor)
	}
	off := a + i
	line := strings.Count(text[:off], "\n")
	col := off - (strings.LastIndex(text[:off], "\n") + 1)
	return codectx.Position{Line: line, Character: col}
}

func TestGopls(t *testing.T) {
	gopls := goplsPath(t)
	dir := copyModule(t)
	b := New(Config{Table: Table{"go": {{gopls}}}, Logger: quietLogger(), DiagnosticsWait: 10 * time.Second})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	path := filepath.Join(dir, "counter.go")
	data, _ := os.ReadFile(path)
	text := string(data)
	if err := b.DidOpen(ctx, path, "go", 1, text); err != nil {
		t.Fatal(err)
	}
	query := func(p codectx.Position) codectx.Query {
		return codectx.Query{Path: path, Text: text, Version: 1, LanguageID: "go", Position: p, WorkspaceRoot: dir}
	}

	t.Run("method symbol", func(t *testing.T) {
		sym, err := b.Symbol(ctx, query(posOf(t, text, "func (c *Counter) Add", "return c.n")))
		if err != nil {
			t.Fatal(err)
		}
		if sym.Name != "Add" || sym.NamePath != "Counter/Add" || sym.Kind != "Method" {
			t.Errorf("symbol = %s %s %s, want Add Counter/Add Method", sym.Name, sym.NamePath, sym.Kind)
		}
		if !strings.HasPrefix(sym.Body, "func (c *Counter) Add(n int) int {") || !strings.HasSuffix(sym.Body, "return c.n\n}") {
			t.Errorf("body = %q", sym.Body)
		}
		if sym.SelectionRange.Start != posOf(t, text, "func (c *Counter) Add", "Add") {
			t.Errorf("selection range = %+v", sym.SelectionRange)
		}
	})

	t.Run("closure resolves to the enclosing method", func(t *testing.T) {
		sym, err := b.Symbol(ctx, query(posOf(t, text, "apply := func", "c.n += delta")))
		if err != nil {
			t.Fatal(err)
		}
		if sym.NamePath != "Counter/Add" || sym.Kind != "Method" {
			t.Errorf("symbol in a func literal = %s (%s), want the enclosing Counter/Add", sym.NamePath, sym.Kind)
		}
	})

	t.Run("struct field and function", func(t *testing.T) {
		sym, err := b.Symbol(ctx, query(posOf(t, text, "type Counter struct", "hook")))
		if err != nil {
			t.Fatal(err)
		}
		if sym.NamePath != "Counter/hook" || sym.Kind != "Field" {
			t.Errorf("field symbol = %s (%s)", sym.NamePath, sym.Kind)
		}
		sym, err = b.Symbol(ctx, query(posOf(t, text, "func NewCounter", "return c")))
		if err != nil || sym.NamePath != "NewCounter" || sym.Kind != "Function" {
			t.Errorf("function symbol = %+v, %v", sym, err)
		}
	})

	q := query(posOf(t, text, "func (c *Counter) Add", "apply(n)"))
	sym, err := b.Symbol(ctx, q)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("hover", func(t *testing.T) {
		h, err := b.Hover(ctx, q, sym)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(h, "func (c *Counter) Add(n int) int") || !strings.Contains(h, "Add adds n to the counter") {
			t.Errorf("hover = %q", h)
		}
	})

	t.Run("references across files", func(t *testing.T) {
		refs, err := b.References(ctx, q, sym, 10)
		if err != nil {
			t.Fatal(err)
		}
		var inUse, inCounter int
		for _, r := range refs {
			switch filepath.Base(r.Location.Path) {
			case "use.go":
				inUse++
				if !strings.Contains(r.Snippet, "c.Add(n)") {
					t.Errorf("snippet %q lacks the call", r.Snippet)
				}
			case "counter.go":
				inCounter++
			}
		}
		if inUse != 2 || inCounter != 1 {
			t.Errorf("references = %+v, want 2 in use.go and 1 in counter.go", refs)
		}
		if refs[0].Location.Path != path || refs[0].Location.Range.Start != posOf(t, text, "c.Add(start)", "Add") {
			t.Errorf("first reference = %+v", refs[0].Location)
		}
		if capped, _ := b.References(ctx, q, sym, 1); len(capped) != 1 {
			t.Errorf("limit 1 gave %d", len(capped))
		}
	})

	t.Run("definition", func(t *testing.T) {
		use := filepath.Join(dir, "use.go")
		useData, _ := os.ReadFile(use)
		locs, err := b.Definition(ctx, codectx.Query{Path: use, Text: string(useData), LanguageID: "go", WorkspaceRoot: dir,
			Position: posOf(t, string(useData), "return c.Add", "Add")})
		if err != nil || len(locs) != 1 || locs[0].Path != path || locs[0].Range.Start != sym.SelectionRange.Start {
			t.Errorf("definition = %+v, %v; want %v in counter.go", locs, err, sym.SelectionRange.Start)
		}
	})

	t.Run("diagnostics after didChange", func(t *testing.T) {
		ds, err := b.Diagnostics(ctx, q, sym)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Severity == codectx.SeverityError {
				t.Errorf("error in the clean file: %+v", d)
			}
		}
		broken := strings.Replace(text, "apply(n)", "apply(n)\n\tundefinedThing()", 1)
		if err := b.DidChange(ctx, path, 2, broken); err != nil {
			t.Fatal(err)
		}
		bq := q
		bq.Text, bq.Version = broken, 2
		ds, err = b.Diagnostics(ctx, bq, sym)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range ds {
			if strings.Contains(d.Message, "undefined: undefinedThing") && d.Severity == codectx.SeverityError &&
				d.Range.Start == posOf(t, broken, "apply(n)\n", "undefinedThing") {
				found = true
			}
		}
		if !found {
			t.Errorf("diagnostics after the edit = %+v, want undefined: undefinedThing", ds)
		}
		// Back to the clean text: the error must go away.
		if err := b.DidChange(ctx, path, 3, text); err != nil {
			t.Fatal(err)
		}
		q3 := q
		q3.Version = 3
		ds, err = b.Diagnostics(ctx, q3, sym)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if strings.Contains(d.Message, "undefinedThing") {
				t.Errorf("stale diagnostic after the fix: %+v", d)
			}
		}
	})

	t.Run("gather", func(t *testing.T) {
		got := codectx.Gather(ctx, []codectx.Source{b, codectx.BufferSource{}}, q, codectx.GatherOptions{PartTimeout: time.Minute, SymbolTimeout: time.Minute})
		if got.Symbol == nil || got.Symbol.NamePath != "Counter/Add" || got.Hover == "" || len(got.References) != 3 {
			t.Errorf("gathered = %+v", got)
		}
	})

	st := b.Status()
	if len(st) != 1 || st[0].State != "ready" || st[0].Root != dir {
		t.Errorf("status = %+v", st)
	}
	t.Logf("gopls pull diagnostics: %v", st[0].PullDiagnostics)

	if err := b.DidClose(ctx, path); err != nil {
		t.Errorf("didClose: %v", err)
	}
}

func TestLookup(t *testing.T) {
	gopls := goplsPath(t)
	res := Lookup(Table{
		"go":     {{"no-such-language-server-1"}, {gopls}},
		"python": {{"no-such-language-server-2", "--stdio"}},
	})
	if len(res) != 2 || res[0].Language != "go" || !res[0].Found || res[0].Path != gopls || res[0].Command[0] != gopls {
		t.Errorf("go lookup = %+v", res[0])
	}
	if res[1].Found || res[1].Command[0] != "no-such-language-server-2" {
		t.Errorf("python lookup = %+v", res[1])
	}
	if len(Lookup(DefaultTable())) != len(DefaultTable()) {
		t.Errorf("default table lookup incomplete")
	}
}

func TestMissingServerAndLanguage(t *testing.T) {
	b := New(Config{Table: Table{"go": {{"no-such-language-server"}}}, Logger: quietLogger()})
	defer b.Close()
	q := codectx.Query{Path: "/tmp/x.go", Text: "package x\n", LanguageID: "go"}
	if _, err := b.Symbol(context.Background(), q); err == nil || !strings.Contains(err.Error(), "not on PATH") {
		t.Errorf("missing server: %v", err)
	}
	q.LanguageID = "cobol"
	if _, err := b.Hover(context.Background(), q, nil); err == nil || !strings.Contains(err.Error(), "no language server configured") {
		t.Errorf("unknown language: %v", err)
	}
	if err := b.DidChange(context.Background(), "/tmp/never-opened.go", 2, ""); err == nil {
		t.Errorf("didChange of an unopened document must fail")
	}
}

func TestNamePaths(t *testing.T) {
	for name, want := range map[string]string{"(*Counter).Add": "Counter/Add", "(T).M": "T/M", "(*List[E]).Push": "List/Push", "main": "main"} {
		if got := strings.Join(namePathElems(name), "/"); got != want {
			t.Errorf("%s -> %s, want %s", name, got, want)
		}
	}
}
