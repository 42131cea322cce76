package edits

import (
	"regexp"
	"strings"

	"github.com/lsp-router/lsp-router/router/answertext"
)

// block is a piece of code found in an answer: the content of a fenced
// block, or the bare answer when it has no fence.
type block struct {
	lang  string   // fence info string's first word, lower case ("" if none)
	lines []string // content, LF-split, without the fence lines
	// closed is false for a fence that runs to the end of the answer.
	closed bool
	// nested is true when the content itself holds fence lines: such an
	// outer block is only used when none of its inner blocks will do.
	nested bool
	fenced bool
}

var (
	fenceRe = regexp.MustCompile("^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^`\\s]*)[^`]*$")
)

// stripReasoning removes the model's reasoning blocks (see answertext for
// the rules) and reports whether the answer consisted of nothing but
// reasoning.
func stripReasoning(answer string) (string, bool) {
	text, had := answertext.Strip(answer)
	return text, had && strings.TrimSpace(text) == ""
}

// parseBlocks finds the fenced blocks of an answer, including blocks
// nested inside a longer outer fence (````markdown around ```go). A fence
// closes only with the same character repeated at least as many times, as
// CommonMark says; an unclosed fence runs to the end of the answer, which
// is what a model cut off by its token limit produces.
func parseBlocks(lines []string) []block {
	var out []block
	for i := 0; i < len(lines); i++ {
		m := fenceRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		marker := m[1]
		lang := strings.ToLower(strings.TrimPrefix(m[2], "{"))
		j := i + 1
		closed := false
		for ; j < len(lines); j++ {
			t := strings.TrimSpace(lines[j])
			if len(t) >= len(marker) && strings.Trim(t, marker[:1]) == "" && strings.HasPrefix(t, marker) {
				closed = true
				break
			}
		}
		content := lines[i+1 : min(j, len(lines))]
		b := block{lang: lang, lines: content, closed: closed, fenced: true}
		inner := parseBlocks(content)
		if len(inner) > 0 {
			b.nested = true
			out = append(out, inner...)
		}
		out = append(out, b)
		i = j
	}
	return out
}

// candidateBlocks returns the code candidates of an answer in the order
// they should be tried: leaf fenced blocks first, outer blocks holding
// nested fences next, and the whole answer last (models sometimes reply
// with bare code, or with prose around unfenced code).
func candidateBlocks(answer string) []block {
	lines := splitLines(answer)
	blocks := parseBlocks(lines)
	var leaf, outer []block
	for _, b := range blocks {
		b.lines = dropFileNameComment(b.lines)
		if b.nested {
			outer = append(outer, b)
		} else {
			leaf = append(leaf, b)
		}
	}
	out := append(leaf, outer...)
	if len(blocks) == 0 {
		out = append(out, block{lines: lines, closed: true})
	}
	return out
}

// isDiffLang reports whether a fence info string announces a diff.
func isDiffLang(lang string) bool {
	return lang == "diff" || lang == "patch" || lang == "udiff"
}

// fileNameComment is a first line naming the file ("// user.go",
// "# file: app/service.py"), which models like to put at the top of a
// block; it is not a doc comment.
var fileNameComment = regexp.MustCompile(`^\s*(//|#|<!--)\s*(?i:file(?:name)?:?\s*)?[\w./\\-]+\.(go|py|pyi|ts|tsx|js|jsx|mjs|cjs)\s*(-->)?\s*$`)

func dropFileNameComment(lines []string) []string {
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if fileNameComment.MatchString(l) {
			return append(append([]string(nil), lines[:i]...), lines[i+1:]...)
		}
		break
	}
	return lines
}

// placeholderRe matches comments by which models elide code they did not
// repeat ("// ... existing code ...", "# rest of the method unchanged").
var placeholderRe = regexp.MustCompile(`(?i)^\s*(//|#|/\*|\*)\s*(\.\.\.|…|\[\.\.\.\]).*|^\s*(//|#|/\*)\s*(rest|remainder|existing|other|same|previous)\b.*\b(unchanged|code|same|before|as is|here|omitted)\b.*`)

// placeholder returns the first line of code that elides the original with
// a placeholder comment, unless the original has the same line.
func placeholder(code []string, orig func() []string) string {
	var have map[string]bool // built only when a line looks like a placeholder: orig may be a large file
	for _, l := range code {
		if !placeholderRe.MatchString(l) {
			continue
		}
		if have == nil {
			lines := orig()
			have = make(map[string]bool, len(lines))
			for _, o := range lines {
				have[strings.TrimSpace(o)] = true
			}
		}
		if !have[strings.TrimSpace(l)] {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
