package prompt

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// words is a deterministic test tokenizer: one token per
// whitespace-separated word.
func words(s string) int { return len(strings.Fields(s)) }

func mustNew(t *testing.T, ov map[string]string) *Builder {
	t.Helper()
	b, err := New(ov)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const body = `func (s *UserService) CreateUser(email string) (User, error) {
	if email == "" {
		return User{}, errors.New("empty email")
	}
	u := User{ID: fmt.Sprintf("u%d", len(s.store)+1), Email: email}
	s.store[u.ID] = u
	return u, nil
}`

func richInput(action Action) Input {
	sym := &codectx.Symbol{Name: "CreateUser", NamePath: "UserService/CreateUser", Kind: "Method",
		Range: codectx.Range{Start: codectx.Position{Line: 40}, End: codectx.Position{Line: 47, Character: 1}}, Body: body}
	var refs []codectx.Reference
	for i := 0; i < 6; i++ {
		refs = append(refs, codectx.Reference{
			Location:  codectx.Location{Path: fmt.Sprintf("/p/handler%d.go", i), Range: codectx.Range{Start: codectx.Position{Line: 10 + i}}},
			Snippet:   fmt.Sprintf("func handle%d(w http.ResponseWriter) {\n\tu, err := svc.CreateUser(r.Form.Get(\"email\"))\n}", i),
			Container: fmt.Sprintf("handle%d", i),
		})
	}
	var file []string
	for i := 0; i < 100; i++ {
		if i >= 40 && i <= 47 {
			file = append(file, strings.Split(body, "\n")[i-40])
			continue
		}
		file = append(file, fmt.Sprintf("var line%d = compute(%d) // filler line", i, i))
	}
	return Input{
		Action: action, Instruction: "return a typed error for duplicates", Language: "go", Path: "/p/user.go",
		Context: codectx.Context{
			Symbol: sym,
			Hover:  "func (s *UserService) CreateUser(email string) (User, error)\n\nCreateUser registers a user.",
			Diagnostics: []codectx.Diagnostic{
				{Path: "/p/user.go", Range: codectx.Range{Start: codectx.Position{Line: 90}}, Severity: codectx.SeverityWarning, Message: "unused variable line90", Source: "compiler"},
				{Path: "/p/user.go", Range: codectx.Range{Start: codectx.Position{Line: 44, Character: 1}}, Severity: codectx.SeverityError, Message: "undefined: fmt", Source: "compiler", Code: "UndeclaredName"},
			},
			References: refs,
		},
		FileText: strings.Join(file, "\n") + "\n",
	}
}

func TestBuildAllActionsFit(t *testing.T) {
	b := mustNew(t, nil)
	for _, a := range Actions() {
		in := richInput(a)
		p, err := b.Build(in, Budget{ContextLength: 32768, AnswerReserve: 4096, Count: words})
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if len(p.Dropped) != 0 {
			t.Errorf("%s: dropped %v with a large budget", a, p.Dropped)
		}
		if len(p.Messages) != 2 || p.Messages[0].Role != "system" || p.Messages[1].Role != "user" {
			t.Fatalf("%s: messages %+v", a, p.Messages)
		}
		if p.Tokens != CountMessages(p.Messages, words) {
			t.Errorf("%s: Tokens %d, recount %d", a, p.Tokens, CountMessages(p.Messages, words))
		}
		u := p.Messages[1].Content
		for _, want := range []string{"CreateUser", "undefined: fmt", "/p/handler5.go:16 in handle5", "var line99", "[... CreateUser, shown above ...]"} {
			if !strings.Contains(u, want) {
				t.Errorf("%s: user message lacks %q", a, want)
			}
		}
		if strings.Count(u, "func (s *UserService) CreateUser(email string) (User, error) {") != 1 {
			t.Errorf("%s: the symbol body must appear once (surrounding code elides it)", a)
		}
	}
}

func TestBuildOutputFormatStated(t *testing.T) {
	b := mustNew(t, nil)
	want := map[Action]string{
		Refactor: "Reply with the complete new definition of `CreateUser` in one ```go fenced block",
		Fix:      "Reply with the complete corrected definition of `CreateUser` in one ```go fenced block",
		Document: "Reply with only the doc comment in one ```go fenced block",
		Tests:    "Reply with one ```go fenced block holding the tests",
		Explain:  "Answer in Markdown",
		Ask:      "<<<<<<< SEARCH",
	}
	for a, w := range want {
		p, err := b.Build(richInput(a), Budget{ContextLength: 32768, AnswerReserve: 1024, Count: words})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Messages[1].Content, w) {
			t.Errorf("%s prompt does not state %q:\n%s", a, w, p.Messages[1].Content)
		}
	}
	// Without a symbol, refactor asks for SEARCH/REPLACE blocks.
	in := richInput(Refactor)
	in.Context.Symbol = nil
	in.Context.Surrounding = "x := 1\ny := 2"
	p, err := b.Build(in, Budget{ContextLength: 32768, AnswerReserve: 1024, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Messages[1].Content, ">>>>>>> REPLACE") {
		t.Errorf("refactor without symbol must ask for SEARCH/REPLACE:\n%s", p.Messages[1].Content)
	}
}

// TestBudgetCutsInPriorityOrder shrinks the budget step by step: the
// prompt never exceeds it, a section is only cut once every section of
// lower priority is gone, cuts are marked, and code is cut on whole lines.
func TestBudgetCutsInPriorityOrder(t *testing.T) {
	b := mustNew(t, nil)
	in := richInput(Refactor)
	full, err := b.Build(in, Budget{ContextLength: 1 << 20, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"symbol body", "diagnostics", "hover", "references", "surrounding code"}
	bodyLines := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		bodyLines[l] = true
	}
	sawCut := map[string]bool{}
	var lastErr error
	for limit := full.Tokens; limit > 0; limit -= 7 {
		p, err := b.Build(in, Budget{ContextLength: limit + 100, AnswerReserve: 100, Count: words})
		if err != nil {
			lastErr = err
			break
		}
		for name := range checkCutPrompt(t, p, limit, order, bodyLines) {
			sawCut[name] = true
		}
	}
	for _, s := range order {
		if !sawCut[s] {
			t.Errorf("section %q was never cut while shrinking", s)
		}
	}
	if !errors.Is(lastErr, ErrBudget) {
		t.Fatalf("a budget too small for the instructions must fail with ErrBudget, got %v", lastErr)
	}
}

// checkCutPrompt checks one prompt built within limit tokens: it fits,
// sections are cut lowest priority first (order), every cut leaves a
// marker, and the body keeps whole lines. It returns the cut sections.
func checkCutPrompt(t *testing.T, p Prompt, limit int, order []string, bodyLines map[string]bool) map[string]bool {
	t.Helper()
	rank := map[string]int{}
	for i, s := range order {
		rank[s] = i
	}
	if p.Tokens > limit {
		t.Fatalf("limit %d: prompt has %d tokens", limit, p.Tokens)
	}
	cut := map[string]bool{}
	for _, d := range p.Dropped {
		name, _, _ := strings.Cut(d, ":")
		cut[name] = true
	}
	for name := range cut {
		for _, lower := range order[rank[name]+1:] {
			if !strings.Contains(strings.Join(p.Dropped, ";"), lower+": dropped") {
				t.Fatalf("limit %d: %s cut while %s (lower priority) is kept: %v", limit, name, lower, p.Dropped)
			}
		}
	}
	u := p.Messages[1].Content
	if len(p.Dropped) > 0 && !strings.Contains(u, "omitted to fit the model's context") && !allDropped(p.Dropped) {
		t.Fatalf("limit %d: cut without a marker: %v\n%s", limit, p.Dropped, u)
	}
	// Every line of the body block is a whole original line or a marker.
	if i := strings.Index(u, "```go\n"); i >= 0 {
		blk := u[i+6:]
		blk = blk[:strings.Index(blk, "\n```")]
		for _, l := range strings.Split(blk, "\n") {
			if !bodyLines[l] && !strings.HasPrefix(l, "[... ") {
				t.Fatalf("limit %d: body line cut mid-line: %q", limit, l)
			}
		}
	}
	return cut
}

func allDropped(ds []string) bool {
	for _, d := range ds {
		if !strings.Contains(d, ": dropped") {
			return false
		}
	}
	return true
}

func TestBudgetReferencesDroppedWhole(t *testing.T) {
	b := mustNew(t, nil)
	in := richInput(Explain)
	in.FileText = ""
	full, _ := b.Build(in, Budget{ContextLength: 1 << 20, Count: words})
	p, err := b.Build(in, Budget{ContextLength: full.Tokens - 20, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	u := p.Messages[1].Content
	kept := strings.Count(u, "svc.CreateUser(")
	if kept == 0 || kept == 6 {
		t.Fatalf("want some references kept, got %d\n%s", kept, u)
	}
	if strings.Count(u, "in handle") != kept {
		t.Fatalf("a reference was cut apart: %d headers, %d snippets", strings.Count(u, "in handle"), kept)
	}
	if !strings.Contains(u, fmt.Sprintf("[... %d references omitted", 6-kept)) {
		t.Fatalf("missing references marker:\n%s", u)
	}
}

func TestSurroundingWindowCentresOnSymbol(t *testing.T) {
	lines := make([]string, 100)
	for i := range lines {
		lines[i] = fmt.Sprint(i)
	}
	got := windowLines(lines, 50, 10)
	want := "[... 45 lines omitted to fit the model's context ...]\n45\n46\n47\n48\n49\n50\n51\n52\n53\n54\n[... 45 lines omitted to fit the model's context ...]"
	if got != want {
		t.Fatalf("got\n%s", got)
	}
	if got := windowLines(lines, 2, 4); !strings.HasPrefix(got, "0\n1\n2\n3\n[... 96") {
		t.Fatalf("window at the top: %q", got)
	}
}

func TestBuildValidation(t *testing.T) {
	b := mustNew(t, nil)
	cases := []struct {
		in   Input
		want string
	}{
		{Input{Action: "rewrite"}, "unknown action"},
		{Input{Action: Refactor, FileText: "x"}, "needs an instruction"},
		{Input{Action: Ask}, "needs a question"},
		{Input{Action: Document, FileText: "x"}, "needs a symbol"},
		{Input{Action: Fix, FileText: "x"}, "needs diagnostics"},
		{Input{Action: Explain}, "needs code"},
	}
	for _, c := range cases {
		_, err := b.Build(c.in, Budget{ContextLength: 4096, Count: words})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.in, err, c.want)
		}
	}
	if _, err := b.Build(richInput(Explain), Budget{ContextLength: 0}); err == nil || !strings.Contains(err.Error(), "context length is unknown") {
		t.Errorf("zero context length: %v", err)
	}
	if _, err := b.Build(richInput(Explain), Budget{ContextLength: 100, AnswerReserve: 100}); !errors.Is(err, ErrBudget) {
		t.Errorf("reserve = context: %v", err)
	}
	// Ask without any code is fine.
	if _, err := b.Build(Input{Action: Ask, Instruction: "What is a goroutine?"}, Budget{ContextLength: 4096}); err != nil {
		t.Errorf("plain ask: %v", err)
	}
}

func TestOverrides(t *testing.T) {
	b := mustNew(t, map[string]string{
		"explain": "Explain {{with .Symbol}}{{.Name}}{{else}}this code{{end}} like I am five.\n{{template \"context\" .}}",
		"ask":     `{{define "system"}}Answer in French.{{end}}`,
	})
	p, err := b.Build(richInput(Explain), Budget{ContextLength: 32768, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Messages[1].Content, "Explain CreateUser like I am five.") || !strings.Contains(p.Messages[0].Content, "explaining code") {
		t.Fatalf("user override: %+v", p.Messages)
	}
	p, err = b.Build(richInput(Ask), Budget{ContextLength: 32768, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	if p.Messages[0].Content != "Answer in French." || !strings.Contains(p.Messages[1].Content, "## Question") {
		t.Fatalf("system override: %+v", p.Messages)
	}

	bad := []struct {
		ov   map[string]string
		want string
	}{
		{map[string]string{"refactr": "x"}, "no action named refactr"},
		{map[string]string{"refactor": "{{if .Symbol}}unclosed"}, "prompt template override for refactor"},
		{map[string]string{"fix": "{{.Nope}}"}, "can't evaluate field Nope"},
		{map[string]string{"tests": "  "}, "is empty"},
		// explain may come without a symbol: the sample data catches it.
		{map[string]string{"explain": "{{.Symbol.Name}}"}, "nil pointer evaluating"},
	}
	for _, c := range bad {
		if _, err := New(c.ov); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%v) = %v, want error containing %q", c.ov, err, c.want)
		}
	}
}

func TestFenceLongerThanCode(t *testing.T) {
	b := mustNew(t, nil)
	in := richInput(Explain)
	in.Context.Symbol.Body = "const doc = `\n```go\nx\n```\n`"
	in.FileText = ""
	p, err := b.Build(in, Budget{ContextLength: 32768, Count: words})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Messages[1].Content, "````go\nconst doc") {
		t.Fatalf("fence not lengthened:\n%s", p.Messages[1].Content)
	}
}

func BenchmarkBuildTightBudget(b *testing.B) {
	bl, _ := New(nil)
	in := richInput(Refactor)
	count := func(s string) int { return EstimateTokens("qwen", s) }
	for i := 0; i < b.N; i++ {
		if _, err := bl.Build(in, Budget{ContextLength: 900, AnswerReserve: 300, Count: count}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFollowUp(t *testing.T) {
	b := mustNew(t, nil)
	in := richInput(Refactor)
	in.Instruction = "also log the new user's id"
	m, err := b.FollowUp(in)
	if err != nil {
		t.Fatal(err)
	}
	if m.Role != "user" || !strings.HasPrefix(m.Content, "## Task\nRefactor `CreateUser`: also log the new user's id") ||
		!strings.Contains(m.Content, "in one ```go fenced block") {
		t.Fatalf("follow-up:\n%s", m.Content)
	}
	if strings.Contains(m.Content, "## References") || strings.Contains(m.Content, "errors.New") {
		t.Fatalf("a follow-up must not repeat the context:\n%s", m.Content)
	}
	if _, err := b.FollowUp(Input{Action: Refactor}); err == nil {
		t.Fatal("a follow-up without text must fail")
	}
}

func TestLongestRun(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 0, "`": 1, "a``b`": 2, "````": 4, "x`y```z``": 3, "``a": 2} {
		if got := longestRun(s, '`'); got != want {
			t.Errorf("longestRun(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestSurroundingSectionMatchesLines checks the sliced whole-file render
// against the line-by-line one it stands for, cut and uncut.
func TestSurroundingSectionMatchesLines(t *testing.T) {
	texts := []string{
		"a\nb\nc\nd\ne\n", "a\nb\nc\nd\ne", "a\r\nb\r\nc\r\nd\r\n\r\n", "only\n", "x\n\n\ny\n\n\n", "\n\n\n",
		"package p\n\nfunc F() {\n}\n\nfunc G() {}\n",
	}
	ranges := [][2]int{{0, 0}, {0, 1}, {1, 2}, {2, 4}, {4, 4}, {3, 9}, {2, 1}, {-1, 0}, {5, 5}}
	for _, text := range texts {
		for _, r := range ranges {
			in := Input{Action: Refactor, FileText: text, Context: codectx.Context{Symbol: &codectx.Symbol{Name: "F",
				Range: codectx.Range{Start: codectx.Position{Line: r[0]}, End: codectx.Position{Line: r[1]}}}}}
			lines, focus := surrounding(in)
			n, render := surroundingSection(in)
			if n != len(lines) {
				t.Fatalf("%q %v: %d lines, want %d", text, r, n, len(lines))
			}
			for k := 0; k <= n+1; k++ {
				if got, want := render(k), windowLines(lines, focus, k); got != want {
					t.Fatalf("%q %v k=%d:\n got %q\nwant %q", text, r, k, got, want)
				}
			}
		}
	}
}
