package completion

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goldenCase is one post-processing case of testdata/post/<language>.txtar:
// sections NAME.prefix, NAME.suffix, NAME.model (what the model answered),
// NAME.want (the ghost text shown; empty: nothing shown) and optional
// NAME.opts ("max_lines=N"). Each section loses its final newline, so a
// text that ends with one is written with an empty line after it.
type goldenCase struct {
	name, language              string
	prefix, suffix, model, want string
	maxLines                    int
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	files, err := filepath.Glob("testdata/post/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	var out []goldenCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lang := ""
		sections := map[string]*strings.Builder{}
		var order []string
		var cur *strings.Builder
		for _, line := range strings.SplitAfter(string(data), "\n") {
			tl := strings.TrimRight(line, "\n")
			if strings.HasPrefix(tl, "-- ") && strings.HasSuffix(tl, " --") {
				name := tl[3 : len(tl)-3]
				cur = &strings.Builder{}
				sections[name] = cur
				order = append(order, name)
				continue
			}
			if cur == nil {
				if k, v, ok := strings.Cut(tl, ":"); ok && k == "language" {
					lang = strings.TrimSpace(v)
				}
				continue
			}
			cur.WriteString(line)
		}
		get := func(name string) (string, bool) {
			b, ok := sections[name]
			if !ok {
				return "", false
			}
			return strings.TrimSuffix(b.String(), "\n"), true
		}
		seen := map[string]bool{}
		for _, sec := range order {
			base := sec[:strings.LastIndexByte(sec, '.')]
			if seen[base] {
				continue
			}
			seen[base] = true
			c := goldenCase{name: lang + "/" + base, language: lang}
			var ok [4]bool
			c.prefix, ok[0] = get(base + ".prefix")
			c.suffix, ok[1] = get(base + ".suffix")
			c.model, ok[2] = get(base + ".model")
			c.want, ok[3] = get(base + ".want")
			if ok != [4]bool{true, true, true, true} {
				t.Fatalf("%s: case %s lacks a section (prefix, suffix, model, want)", f, base)
			}
			if o, has := get(base + ".opts"); has {
				if v, found := strings.CutPrefix(o, "max_lines="); found {
					c.maxLines, _ = strconv.Atoi(v)
				}
			}
			out = append(out, c)
		}
	}
	return out
}

func TestPostProcessGolden(t *testing.T) {
	cases := loadGolden(t)
	per := map[string]int{}
	for _, c := range cases {
		per[c.language]++
		t.Run(c.name, func(t *testing.T) {
			got := Process(c.model, c.prefix, c.suffix, PostOptions{Language: c.language, MaxLines: c.maxLines})
			if got != c.want {
				t.Errorf("prefix %q suffix %q model %q\n got  %q\n want %q", c.prefix, c.suffix, c.model, got, c.want)
			}
		})
	}
	if len(cases) < 40 || per["go"] < 10 || per["python"] < 10 || per["typescript"] < 10 {
		t.Fatalf("golden cases: %d (%v); want at least 40 across Go, Python and TypeScript", len(cases), per)
	}
}
