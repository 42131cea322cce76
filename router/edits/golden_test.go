package edits

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/syntax"
)

// archive is a parsed txtar file: a comment (here "key: value" lines)
// followed by "-- name --" sections.
type archive struct {
	comment string
	files   map[string]string
	order   []string
}

// parseTxtar parses the txtar format (golang.org/x/tools/txtar) without
// taking the dependency: a file marker is a line "-- NAME --"; the text
// before the first marker is the comment.
func parseTxtar(data string) archive {
	a := archive{files: map[string]string{}}
	cur := ""
	var sb strings.Builder
	flush := func() {
		if cur == "" {
			a.comment = sb.String()
		} else {
			a.files[cur] = sb.String()
			a.order = append(a.order, cur)
		}
		sb.Reset()
	}
	for _, line := range strings.SplitAfter(data, "\n") {
		t := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			cur = strings.TrimSpace(t[3 : len(t)-3])
			continue
		}
		sb.WriteString(line)
	}
	flush()
	return a
}

type goldenCase struct {
	name                 string
	action, symbol, lang string
	path                 string
	rng                  *codectx.Range
	crlf                 bool
	source, answer, want string
	refusal, message     string
}

func loadGolden(t *testing.T, file string) goldenCase {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a := parseTxtar(string(data))
	c := goldenCase{name: filepath.Base(file)}
	for _, l := range strings.Split(a.comment, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "action":
			c.action = v
		case "symbol":
			c.symbol = v
		case "lang":
			c.lang = v
		case "path":
			c.path = v
		case "crlf":
			c.crlf = v == "true"
		case "refusal":
			c.refusal = v
		case "message":
			c.message = v
		case "range":
			r, err := parseRange(v)
			if err != nil {
				t.Fatalf("%s: range: %v", file, err)
			}
			c.rng = &r
		}
	}
	var ok bool
	if c.source, ok = a.files[c.path]; !ok {
		t.Fatalf("%s: no section -- %s -- for the source", file, c.path)
	}
	c.answer = a.files["answer"]
	c.want, ok = a.files["want"]
	if !ok && c.refusal == "" {
		t.Fatalf("%s: neither a want section nor a refusal", file)
	}
	if c.crlf {
		c.source = toCRLF(c.source)
		c.want = toCRLF(c.want)
	}
	return c
}

func toCRLF(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// parseRange reads "L:C-L:C" (0-based, UTF-16 columns).
func parseRange(s string) (codectx.Range, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return codectx.Range{}, fmt.Errorf("want L:C-L:C, got %q", s)
	}
	p := func(s string) (codectx.Position, error) {
		l, c, ok := strings.Cut(s, ":")
		if !ok {
			return codectx.Position{}, fmt.Errorf("want L:C, got %q", s)
		}
		li, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			return codectx.Position{}, err
		}
		ci, err := strconv.Atoi(strings.TrimSpace(c))
		return codectx.Position{Line: li, Character: ci}, err
	}
	a, err := p(from)
	if err != nil {
		return codectx.Range{}, err
	}
	b, err := p(to)
	return codectx.Range{Start: a, End: b}, err
}

// TestGolden runs the corpus of realistic LLM answers and reports the
// share that yields the expected edit (or the expected refusal).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 45 {
		t.Errorf("golden corpus has %d cases, want at least 45", len(files))
	}
	passed := 0
	langs := map[string]int{}
	for _, f := range files {
		c := loadGolden(t, f)
		langs[syntax.Language(c.lang, c.path)]++
		ok := t.Run(strings.TrimSuffix(c.name, ".txtar"), func(t *testing.T) { runGolden(t, c) })
		if ok {
			passed++
		}
	}
	t.Logf("golden corpus: %d/%d cases yield the expected result (%.0f%%); by language %v",
		passed, len(files), 100*float64(passed)/float64(max(1, len(files))), langs)
}

func runGolden(t *testing.T, c goldenCase) {
	sym := codectx.Symbol{NamePath: c.symbol, Path: c.path}
	if c.rng != nil {
		sym.Range = *c.rng
	}
	file := File{Path: c.path, Text: c.source, Language: c.lang}
	edits, err := FromAnswer(c.action, c.answer, file, sym)
	if c.refusal != "" {
		var re *RefusalError
		if !errors.As(err, &re) {
			t.Fatalf("want refusal %q, got edits %+v (err %v)", c.refusal, edits, err)
		}
		if string(re.Reason) != c.refusal {
			t.Fatalf("want refusal %q, got %q: %v", c.refusal, re.Reason, re)
		}
		if c.message != "" && !strings.Contains(re.Error(), c.message) {
			t.Fatalf("refusal message %q does not contain %q", re.Error(), c.message)
		}
		if edits != nil {
			t.Fatalf("refusal came with edits %+v", edits)
		}
		return
	}
	if err != nil {
		t.Fatalf("FromAnswer: %v", err)
	}
	got, err := Apply(c.source, edits)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got != c.want {
		t.Fatalf("result differs from want:\n%s\nedits: %+v", UnifiedDiff(c.path, c.want, got), edits)
	}
}
