package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `package p

func simple() {}

func branches(a, b bool, xs []int, ch chan int) int {
	if a && b || !a {
		return 1
	}
	for i := 0; i < 3; i++ {
	}
	for range xs {
	}
	switch {
	case a:
	case b:
	default:
	}
	select {
	case <-ch:
	default:
	}
	f := func() {
		if b {
		}
	}
	f()
	return 0
}

type T struct{}

func (*T) method() {}
`

// TestComplexityCountsAsGocyclo checks each decision point gocyclo
// counts: if (2, one in the closure), for, range, two non-default cases,
// one non-default comm clause, && and ||: 1 + 9 = 10.
func TestComplexityCountsAsGocyclo(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", sample, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fn{}
	for _, m := range measure(fset, f, false) {
		got[m.Name] = m
	}
	if c := got["simple"].Cyclo; c != 1 {
		t.Errorf("simple: complexity %d, want 1", c)
	}
	if c := got["branches"].Cyclo; c != 10 {
		t.Errorf("branches: complexity %d, want 10", c)
	}
	if l := got["branches"].Lines; l != 24 {
		t.Errorf("branches: %d lines, want 24", l)
	}
	if _, ok := got["T.method"]; !ok {
		t.Errorf("methods are named Type.method; got %v", got)
	}
}

// TestReportListsOnlyOffendersAndSkipsLongTests runs the scan on a
// directory: a long test function counts for complexity only.
func TestReportListsOnlyOffendersAndSkipsLongTests(t *testing.T) {
	dir := t.TempDir()
	long := "package p\n\nfunc Long() {\n" + strings.Repeat("\t_ = 1\n", 100) + "}\n"
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("p.go", sample+"\n"+strings.Replace(long, "package p\n\n", "", 1))
	write("p_test.go", strings.Replace(long, "Long", "TestLong", 1))
	fns, err := scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	n := report(&out, fns, 5, 80)
	text := out.String()
	if n != 2 {
		t.Errorf("report counted %d offenders, want 2 (branches, Long):\n%s", n, text)
	}
	for _, want := range []string{"complexity > 5: 1 functions (1 non-test, 0 test)", "  10  branches", "> 80 lines: 1 functions", " 102  Long"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "TestLong") {
		t.Errorf("a long test function is listed:\n%s", text)
	}
}
