package completion

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/catalog"
)

func TestTemplatesPutPrefixAndSuffixAroundTheirTokens(t *testing.T) {
	want := map[string]string{
		catalog.FIMQwen:      "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>",
		catalog.FIMCodeLlama: "<PRE> P <SUF>S <MID>",
		catalog.FIMStarCoder: "<fim_prefix>P<fim_suffix>S<fim_middle>",
		catalog.FIMDeepSeek:  "<｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>",
		catalog.FIMCodestral: "[SUFFIX]S[PREFIX] P",
		catalog.FIMCodeGemma: "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>",
	}
	for _, f := range catalog.FIMFormats {
		tpl, ok := TemplateFor(f)
		if !ok {
			t.Fatalf("no template for catalog format %q", f)
		}
		if got := tpl.Prompt("P", "S"); got != want[f] {
			t.Errorf("%s: %q, want %q", f, got, want[f])
		}
		if len(tpl.Stop) == 0 {
			t.Errorf("%s: no stop tokens", f)
		}
	}
}

func TestWindowKeepsTheCursorLinesWithinBudget(t *testing.T) {
	var b strings.Builder
	for i := range 2000 {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%40))
		b.WriteString("\n")
	}
	text := b.String()
	at := len(text) / 2
	at = strings.LastIndexByte(text[:at], '\n') + 4 // inside a line
	prefix, suffix := Window(text, at, 1000, nil)
	if !strings.HasSuffix(text[:at], prefix) || !strings.HasPrefix(text[at:], suffix) {
		t.Fatal("prefix/suffix are not the text around the cursor")
	}
	if n := approxCount(prefix) + approxCount(suffix); n > 1000 {
		t.Fatalf("window of %d tokens over a budget of 1000", n)
	}
	if approxCount(prefix) < 600 || approxCount(suffix) < 150 {
		t.Fatalf("prefix %d, suffix %d tokens: the budget is not shared 3:1", approxCount(prefix), approxCount(suffix))
	}
	if prefix[0] != 'l' || !strings.HasSuffix(suffix, "\n") {
		t.Fatal("window not cut at line boundaries")
	}
	// A short file is sent whole.
	p, s := Window("a\nb", 1, 100, nil)
	if p != "a" || s != "\nb" {
		t.Fatalf("%q %q", p, s)
	}
	// The suffix's unused share goes to the prefix.
	p, s = Window(text, len(text), 1000, nil)
	if s != "" || approxCount(p) < 900 {
		t.Fatalf("at the end: prefix %d tokens", approxCount(p))
	}
}

func TestSnippetsSameLanguageRecentFirstInsideWorkspace(t *testing.T) {
	docs := []Document{
		{Path: "/ws/a.go", LanguageID: "go", Text: "package a\n", Edited: 1},
		{Path: "/ws/b.go", LanguageID: "go", Text: "package b\n", Edited: 5},
		{Path: "/ws/c.py", LanguageID: "python", Text: "import os\n", Edited: 9},
		{Path: "/elsewhere/d.go", LanguageID: "go", Text: "package d\n", Edited: 10},
		{Path: "/ws/../elsewhere/e.go", LanguageID: "go", Text: "package e\n", Edited: 11},
		{Path: "/ws/cur.go", LanguageID: "go", Text: "package cur\n", Edited: 12},
	}
	got := Snippets(docs, "/ws/cur.go", "go", "/ws", 1000, 200, nil)
	if len(got) != 2 || got[0].Path != "b.go" || got[1].Path != "a.go" {
		t.Fatalf("%+v", got)
	}
	if Snippets(docs, "/ws/cur.go", "go", "", 1000, 200, nil) != nil {
		t.Fatal("snippets without a workspace root")
	}
	if p := WithSnippets("package cur\n", got, "go"); !strings.HasPrefix(p, "// file: b.go\npackage b\n") || !strings.HasSuffix(p, "package cur\n") {
		t.Fatalf("%q", p)
	}
}

func TestCacheServesTypingThrough(t *testing.T) {
	c := NewCache(2)
	c.Put("m", "func f() {\n\tret", "\n}", "urn a + b")
	if got, ok := c.Get("m", "func f() {\n\tret", "\n}"); !ok || got != "urn a + b" {
		t.Fatalf("exact: %q %v", got, ok)
	}
	if got, ok := c.Get("m", "func f() {\n\treturn a", "\n}"); !ok || got != " + b" {
		t.Fatalf("typed through: %q %v", got, ok)
	}
	for _, miss := range [][3]string{
		{"m", "func f() {\n\treturn x", "\n}"},     // typed something else
		{"m", "func f() {\n\tret", "\n}\n// more"}, // suffix changed
		{"other", "func f() {\n\tret", "\n}"},      // another model
		{"m", "func f() {\n\treturn a + b", "\n}"}, // typed it all: nothing left
	} {
		if got, ok := c.Get(miss[0], miss[1], miss[2]); ok {
			t.Errorf("Get(%q) = %q, want a miss", miss[1], got)
		}
	}
	c.Put("m", "x", "", "1")
	c.Put("m", "y", "", "2")
	if c.Len() != 2 {
		t.Fatalf("len %d over capacity", c.Len())
	}
	if _, ok := c.Get("m", "func f() {\n\tret", "\n}"); ok {
		t.Fatal("the least recently used entry was kept")
	}
}

func TestCoalescerCancelsTheOlderRequest(t *testing.T) {
	c := NewCoalescer()
	ctx1, done1 := c.Begin(context.Background(), "file:///a.go")
	ctx2, done2 := c.Begin(context.Background(), "file:///a.go")
	ctxB, doneB := c.Begin(context.Background(), "file:///b.go")
	defer doneB()
	if !errors.Is(context.Cause(ctx1), ErrSuperseded) {
		t.Fatalf("older request: %v", context.Cause(ctx1))
	}
	if ctx2.Err() != nil || ctxB.Err() != nil {
		t.Fatal("the newer request, or another document's, was cancelled")
	}
	done1() // the old one ending must not end the new one
	if ctx2.Err() != nil {
		t.Fatal("ending the superseded request cancelled its successor")
	}
	done2()
	if ctx2.Err() == nil {
		t.Fatal("done did not release the request")
	}
	ctx3, cancel := context.WithCancelCause(context.Background())
	cancel(ErrSuperseded)
	if err := Debounce(ctx3, time.Hour); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("debounce of a superseded request: %v", err)
	}
	if err := Debounce(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestWindowOfAHugeFileStaysNearTheCursor(t *testing.T) {
	line := "\tx = append(x, compute(i, j, k))\n"
	text := strings.Repeat(line, 200000) // 6.8 MB
	at := len(text) / 2
	counted := 0
	count := func(s string) int { counted += len(s); return approxCount(s) }
	prefix, suffix := Window(text, at, 1024, count)
	if !strings.HasSuffix(text[:at], prefix) || !strings.HasPrefix(text[at:], suffix) || prefix == "" || suffix == "" {
		t.Fatal("window is not around the cursor")
	}
	if counted > 8*1024*maxTokenBytes { // bounded by the budget, not the file
		t.Fatalf("counted %d bytes of a %d-byte file for a 1024-token window", counted, len(text))
	}
}

func TestCalledNameAndSignature(t *testing.T) {
	for _, c := range []struct {
		text, name string
		ok         bool
	}{
		{"\twords := strings.Fields(", "Fields", true},
		{"\tfmt.Printf(\"%d\", len(x), ", "Printf", true},
		{"\tfoo(bar(1), ", "foo", true},
		{"\tx := a + b", "", false},
		{"\tx := []int{1, ", "", false},
		{"\tif (", "", false},
		{"print(\n\t", "", false}, // the call is on another line
	} {
		name, at, ok := CalledName(c.text, len(c.text))
		if name != c.name || ok != c.ok || (ok && c.text[at:at+len(name)] != name) {
			t.Errorf("CalledName(%q) = %q %d %v", c.text, name, at, ok)
		}
	}
	hover := "```go\nfunc strings.Fields(s string) []string\n```\n\nFields splits the string s around each instance of one or more consecutive white space characters."
	if got := Signature(hover); got != "func strings.Fields(s string) []string" {
		t.Errorf("Signature = %q", got)
	}
	if got := Signature("def split(sep=None)\nReturn a list of the words."); got != "def split(sep=None)" {
		t.Errorf("Signature = %q", got)
	}
	p := WithSnippets("package main\n", []Snippet{{Path: "Fields", Text: "func Fields(s string) []string", Signature: true}}, "go")
	if p != "// Fields: func Fields(s string) []string\npackage main\n" {
		t.Errorf("%q", p)
	}
}
