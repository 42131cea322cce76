package edits

import (
	"errors"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// TestTruncatedAnswersNeverPanic feeds every golden answer cut after each
// of its lines (what a stream cut off by a token limit or a cancel
// produces) and with its lines shuffled to the front: FromAnswer must
// either refuse with a *RefusalError or return edits that apply cleanly.
func TestTruncatedAnswersNeverPanic(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.txtar")
	runs := 0
	for _, f := range files {
		c := loadGolden(t, f)
		sym := codectx.Symbol{NamePath: c.symbol}
		if c.rng != nil {
			sym.Range = *c.rng
		}
		file := File{Path: c.path, Text: c.source, Language: c.lang}
		lines := strings.SplitAfter(c.answer, "\n")
		variants := []string{}
		for i := range lines {
			variants = append(variants, strings.Join(lines[:i], ""))
			variants = append(variants, strings.Join(lines[i:], ""))
		}
		for _, ans := range variants {
			runs++
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s: panic on answer %q: %v", c.name, ans, r)
					}
				}()
				edits, err := FromAnswer(c.action, ans, file, sym)
				if err != nil {
					var re *RefusalError
					if !errors.As(err, &re) {
						t.Fatalf("%s: error is not a refusal: %v", c.name, err)
					}
					return
				}
				if _, err := Apply(c.source, edits); err != nil {
					t.Fatalf("%s: edits for answer %q do not apply: %v", c.name, ans, err)
				}
			}()
		}
	}
	t.Logf("%d answer variants checked", runs)
}

func TestCRLFAnswerAndNoFinalNewline(t *testing.T) {
	src := "package p\n\nfunc F() int {\n\treturn 1\n}"
	ans := "```go\r\nfunc F() int {\r\n\treturn 2\r\n}\r\n```\r\n"
	edits, err := FromAnswer(ActionRefactor, ans, File{Path: "p.go", Text: src}, codectx.Symbol{Name: "F"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Apply(src, edits)
	if err != nil {
		t.Fatal(err)
	}
	if want := "package p\n\nfunc F() int {\n\treturn 2\n}"; got != want {
		t.Fatalf("got %q", got)
	}
}

func TestGoTestsIntoEmptyAndSingleImportFiles(t *testing.T) {
	ans := "```go\npackage p\n\nimport (\n\t\"strings\"\n\t\"testing\"\n)\n\nfunc TestF(t *testing.T) {\n\t_ = strings.ToUpper(\"x\")\n}\n```\n"
	// A new, empty test file gets the block as is.
	edits, err := FromAnswer(ActionTests, ans, File{Path: "p_test.go", Text: ""}, codectx.Symbol{Name: "F"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Apply("", edits)
	if !strings.HasPrefix(got, "package p\n\nimport (\n\t\"strings\"") || !strings.HasSuffix(got, "}\n") {
		t.Fatalf("empty file: %q", got)
	}
	// A file with a single import gets an import block.
	src := "package p\n\nimport \"testing\"\n\nfunc TestG(t *testing.T) {}\n"
	edits, err = FromAnswer(ActionTests, ans, File{Path: "p_test.go", Text: src}, codectx.Symbol{Name: "F"})
	if err != nil {
		t.Fatal(err)
	}
	got, err = Apply(src, edits)
	if err != nil {
		t.Fatal(err)
	}
	want := "package p\n\nimport (\n\t\"strings\"\n\t\"testing\"\n)\n\nfunc TestG(t *testing.T) {}\n\nfunc TestF(t *testing.T) {\n\t_ = strings.ToUpper(\"x\")\n}\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// No tests in the answer.
	_, err = FromAnswer(ActionTests, "```go\nfunc helper() {}\n```", File{Path: "p_test.go", Text: src}, codectx.Symbol{Name: "F"})
	var re *RefusalError
	if !errors.As(err, &re) || re.Reason != ReasonNoCode {
		t.Fatalf("got %v", err)
	}
}

func TestPythonDecoratorAddedByAnswer(t *testing.T) {
	src := "class A:\n    def f(self):\n        return 1\n"
	ans := "```python\n@functools.cache\ndef f(self):\n    return 2\n```"
	edits, err := FromAnswer(ActionRefactor, ans, File{Path: "a.py", Text: src}, codectx.Symbol{NamePath: "A/f"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Apply(src, edits)
	if want := "class A:\n    @functools.cache\n    def f(self):\n        return 2\n"; got != want {
		t.Fatalf("got %q", got)
	}
}

func TestAskWithSearchReplace(t *testing.T) {
	src := "x = 1\ny = 2\n"
	file := File{Path: "a.py", Text: src}
	edits, err := FromAnswer(ActionAsk, "Yes, change it:\n<<<<<<< SEARCH\ny = 2\n=======\ny = 3\n>>>>>>> REPLACE\n", file, codectx.Symbol{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Apply(src, edits); got != "x = 1\ny = 3\n" {
		t.Fatalf("got %q", got)
	}
	_, err = FromAnswer(ActionAsk, "It sets x and y.", file, codectx.Symbol{})
	var re *RefusalError
	if !errors.As(err, &re) || re.Reason != ReasonNotEditAction {
		t.Fatalf("got %v", err)
	}
}

func TestStaleRangeRefused(t *testing.T) {
	src := "package p\n\nfunc F() {}\n"
	for _, r := range []codectx.Range{rng(9, 0, 12, 1), rng(2, 0, 2, 40), rng(2, 5, 1, 0)} {
		_, err := FromAnswer(ActionRefactor, "```go\nfunc F() { println() }\n```", File{Path: "p.go", Text: src}, codectx.Symbol{Name: "F", Range: r})
		var re *RefusalError
		if !errors.As(err, &re) || re.Reason != ReasonStaleRange || !strings.Contains(re.Error(), "has changed") {
			t.Errorf("range %v: got %v", r, err)
		}
	}
}

// FuzzFromAnswer checks that no answer makes FromAnswer panic or return
// edits that do not apply. Seeds are the golden answers.
func FuzzFromAnswer(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.txtar")
	cases := map[string]goldenCase{}
	for _, p := range files {
		c := loadGolden(&testing.T{}, p)
		cases[c.path+"|"+c.action+"|"+c.symbol] = c
		f.Add(c.answer, uint8(len(cases)))
	}
	var list []goldenCase
	for _, c := range cases {
		list = append(list, c)
	}
	f.Fuzz(func(t *testing.T, answer string, which uint8) {
		c := list[int(which)%len(list)]
		edits, err := FromAnswer(c.action, answer, File{Path: c.path, Text: c.source, Language: c.lang}, codectx.Symbol{NamePath: c.symbol})
		if err != nil {
			var re *RefusalError
			if !errors.As(err, &re) {
				t.Fatalf("error is not a refusal: %v", err)
			}
			return
		}
		if _, err := Apply(c.source, edits); err != nil {
			t.Fatalf("edits do not apply: %v", err)
		}
	})
}

func TestNewGoTestFileGetsPackageClauseAndImports(t *testing.T) {
	// The model forgot the package clause and the imports.
	ans := "```go\nfunc TestReverse(t *testing.T) {\n\tgot := reverseWords(\"a b\")\n\tif !reflect.DeepEqual(strings.Fields(got), []string{\"b\", \"a\"}) {\n\t\tt.Errorf(\"strings.Fields in a string: %q\", got) // fmt.Sprint in a comment\n\t}\n\t_ = x.time.Now\n}\n```\n"
	edits, err := FromAnswer(ActionTests, ans, File{Path: "main_test.go", Language: "go", Package: "main"}, codectx.Symbol{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Apply("", edits)
	want := "package main\n\nimport (\n\t\"reflect\"\n\t\"strings\"\n\t\"testing\"\n)\n\nfunc TestReverse("
	if !strings.HasPrefix(got, want) {
		t.Fatalf("got\n%s\nwant prefix\n%s", got, want)
	}
	if strings.Contains(got, `"fmt"`) || strings.Contains(got, `"time"`) {
		t.Errorf("imports for names in strings, comments or fields:\n%s", got)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "main_test.go", got, 0); err != nil {
		t.Errorf("does not parse: %v", err)
	}
	// A wrong package clause from the model is replaced; an external
	// test package (<pkg>_test) is kept.
	for clause, want := range map[string]string{"package foo": "package main\n", "package main_test": "package main_test\n"} {
		ans := "```go\n" + clause + "\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n```\n"
		edits, err := FromAnswer(ActionTests, ans, File{Path: "main_test.go", Language: "go", Package: "main"}, codectx.Symbol{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := Apply("", edits); !strings.HasPrefix(got, want+"\nimport \"testing\"\n\nfunc TestX(") {
			t.Errorf("%s: got\n%s", clause, got)
		}
	}
	// Tests that would not parse are refused.
	_, err = FromAnswer(ActionTests, "```go\nfunc TestX(t *testing.T) {\n\tif {\n}\n```\n", File{Path: "main_test.go", Language: "go", Package: "main"}, codectx.Symbol{})
	var re *RefusalError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "would not parse") {
		t.Fatalf("unparsable tests: %v", err)
	}
}

func TestNewTSTestFileImportsTheCodeUnderTest(t *testing.T) {
	file := File{Path: "src/math.test.ts", Language: "typescript", Import: `import { add } from "./math";`}
	// The answer forgot the import of the module under test.
	ans := "```ts\nimport { describe, it, expect } from \"vitest\";\n\ndescribe(\"add\", () => {\n  it(\"adds\", () => expect(add(1, 2)).toBe(3));\n});\n```\n"
	edits, err := FromAnswer(ActionTests, ans, file, codectx.Symbol{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Apply("", edits)
	if want := "import { describe, it, expect } from \"vitest\";\nimport { add } from \"./math\";\n\ndescribe("; !strings.HasPrefix(got, want) {
		t.Fatalf("got\n%s", got)
	}
	// An answer that imports it already is left alone.
	ans = "```ts\nimport { add } from './math.js';\n\ntest(\"adds\", () => expect(add(1, 2)).toBe(3));\n```\n"
	edits, _ = FromAnswer(ActionTests, ans, file, codectx.Symbol{})
	if got, _ := Apply("", edits); strings.Count(got, "./math") != 1 {
		t.Fatalf("duplicate import:\n%s", got)
	}
	// CommonJS, JavaScript.
	file = File{Path: "lib/math.test.js", Language: "javascript", Import: `const { add } = require("./math");`}
	edits, err = FromAnswer(ActionTests, "```js\ntest(\"adds\", () => expect(add(1, 2)).toBe(3));\n```\n", file, codectx.Symbol{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Apply("", edits); !strings.HasPrefix(got, "const { add } = require(\"./math\");\n\ntest(") {
		t.Fatalf("got\n%s", got)
	}
}
