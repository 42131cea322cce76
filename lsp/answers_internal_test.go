package lsp

import (
	"strings"
	"testing"
)

func TestSummaryIsTheAnswersFirstLineOfText(t *testing.T) {
	for in, want := range map[string]string{
		"## reverseWords\nIt reverses.":          "reverseWords",
		"`Greet` returns a greeting.":            "`Greet` returns a greeting.",
		"\n\n> Note: slow\n":                     "Note: slow",
		"- first point\n- second":                "first point",
		"1. step one":                            "step one",
		"```go\nfunc f() {}\n```":                "func f() {}",
		"":                                       "(empty answer)",
		"#hashtag is not a heading":              "#hashtag is not a heading",
		strings.Repeat("long ", 40) + "\nsecond": strings.TrimSpace(strings.Repeat("long ", 40))[:maxSummary-1] + "…",
	} {
		if got := summary(in); got != want {
			t.Errorf("summary(%q) = %q, want %q", in, got, want)
		}
	}
}
