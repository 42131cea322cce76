package completion

import (
	"path/filepath"
	"sort"
	"strings"
)

// Counter estimates a text's tokens (prompt.Estimator for the model).
type Counter func(string) int

// maxTokenBytes bounds the bytes of one token for the estimators in use
// (prompt.EstimateTokens counts a token per at most 3.7 bytes of text;
// approxCount per 4), with room to spare.
const maxTokenBytes = 16

// approxCount is a cheap estimate (4 bytes a token) used when no counter is
// given.
func approxCount(s string) int { return (len(s) + 3) / 4 }

// Window cuts the text around byte offset at into a prefix and a suffix
// that fit budget tokens together: three quarters for the prefix (what the
// model continues matters most), the rest for the suffix, and what one side
// leaves unused goes to the other. Both are cut at line boundaries, so the
// model never sees half a line at the far ends.
func Window(text string, at, budget int, count Counter) (prefix, suffix string) {
	if count == nil {
		count = approxCount
	}
	at = min(max(at, 0), len(text))
	// No token is longer than maxTokenBytes: text farther from the cursor
	// than the budget in those bytes can never fit, so a large file costs
	// no more per keystroke than a small one.
	reach := budget * maxTokenBytes
	before, after := text[:at], text[at:]
	if len(before) > reach {
		before = before[len(before)-reach:]
		if i := strings.IndexByte(before, '\n'); i >= 0 {
			before = before[i+1:]
		}
	}
	if len(after) > reach {
		after = after[:reach]
	}
	if count(before)+count(after) <= budget {
		return before, after
	}
	prefBudget := budget * 3 / 4
	sufBudget := budget - prefBudget
	if n := count(after); n < sufBudget {
		prefBudget += sufBudget - n
		sufBudget = n
	} else if n := count(before); n < prefBudget {
		sufBudget += prefBudget - n
		prefBudget = n
	}
	return tailLines(before, prefBudget, count), headLines(after, sufBudget, count)
}

// tailLines keeps the end of s within budget tokens: the current (last,
// partial) line always, then whole lines before it.
func tailLines(s string, budget int, count Counter) string {
	if count(s) <= budget {
		return s
	}
	start := strings.LastIndexByte(s, '\n') + 1
	used := count(s[start:])
	for start > 0 {
		prev := strings.LastIndexByte(s[:start-1], '\n') + 1
		n := count(s[prev:start])
		if used+n > budget {
			break
		}
		used += n
		start = prev
	}
	return s[start:]
}

// headLines keeps the start of s within budget tokens: the rest of the
// cursor's line always, then whole lines after it.
func headLines(s string, budget int, count Counter) string {
	if count(s) <= budget {
		return s
	}
	end := strings.IndexByte(s, '\n')
	if end < 0 {
		return s
	}
	end++
	used := count(s[:end])
	for end < len(s) {
		next := strings.IndexByte(s[end:], '\n')
		stop := len(s)
		if next >= 0 {
			stop = end + next + 1
		}
		n := count(s[end:stop])
		if used+n > budget {
			break
		}
		used += n
		end = stop
	}
	return s[:end]
}

// Document is another open document, for snippets.
type Document struct {
	Path       string
	LanguageID string
	Text       string
	// Edited orders documents: higher is more recently edited.
	Edited int64
}

// Snippet is a short piece of another file given to the model, or the
// signature of the function being called (Signature set, Path its name).
type Snippet struct {
	Path      string
	Text      string
	Signature bool
}

// Snippets picks short pieces of the other open documents of language,
// most recently edited first, within budget tokens, each at most
// perFile tokens (its first lines: imports, types and signatures come
// first in most files). Documents outside root are never used, nor the
// current one.
func Snippets(docs []Document, current, language, root string, budget, perFile int, count Counter) []Snippet {
	if count == nil {
		count = approxCount
	}
	if budget <= 0 || root == "" {
		return nil
	}
	var cands []Document
	for _, d := range docs {
		if d.Path == current || d.LanguageID != language || !inside(d.Path, root) || strings.TrimSpace(d.Text) == "" {
			continue
		}
		cands = append(cands, d)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Edited > cands[j].Edited })
	var out []Snippet
	for _, d := range cands {
		limit := min(perFile, budget)
		if limit <= 0 {
			break
		}
		head := d.Text
		if len(head) > limit*maxTokenBytes {
			head = head[:limit*maxTokenBytes]
		}
		text := headLines(head, limit, count)
		if count(text) > limit {
			continue // one enormous line: not a useful snippet
		}
		rel, err := filepath.Rel(root, d.Path)
		if err != nil {
			rel = filepath.Base(d.Path)
		}
		out = append(out, Snippet{Path: filepath.ToSlash(rel), Text: text})
		budget -= count(text)
	}
	return out
}

// inside reports whether path lies in root (both cleaned; no "..").
func inside(path, root string) bool {
	if path == "" || !filepath.IsAbs(path) {
		return false
	}
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// CommentPrefix is how a line comment starts in language, for labelling
// snippets inside the prompt ("// file: x.go").
func CommentPrefix(language string) string {
	switch language {
	case "python", "ruby", "shellscript", "sh", "bash", "yaml", "toml", "perl", "r", "elixir", "dockerfile", "makefile":
		return "#"
	case "lua", "sql", "haskell":
		return "--"
	}
	return "//"
}

// WithSnippets puts snippets before the prefix as commented file headers,
// the form models trained on repository context recognise for servers that
// take only a prefix.
func WithSnippets(prefix string, snippets []Snippet, language string) string {
	if len(snippets) == 0 {
		return prefix
	}
	c := CommentPrefix(language)
	var b strings.Builder
	for _, s := range snippets {
		if s.Signature {
			b.WriteString(c)
			b.WriteString(" ")
			b.WriteString(s.Path)
			b.WriteString(": ")
			b.WriteString(s.Text)
			b.WriteString("\n")
			continue
		}
		b.WriteString(c)
		b.WriteString(" file: ")
		b.WriteString(s.Path)
		b.WriteString("\n")
		b.WriteString(s.Text)
		if !strings.HasSuffix(s.Text, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(prefix)
	return b.String()
}

// CalledName finds the call the cursor at offset is inside, on the
// cursor's line ("fmt.Println(x, |"): the called name and the byte offset
// where it starts, for a hover there.
func CalledName(text string, offset int) (name string, at int, ok bool) {
	offset = min(max(offset, 0), len(text))
	start := strings.LastIndexByte(text[:offset], '\n') + 1
	line := text[start:offset]
	depth := 0
	for i := len(line) - 1; i >= 0; i-- {
		switch line[i] {
		case ')', ']', '}':
			depth++
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			j := i
			for j > 0 && isIdent(line[j-1]) {
				j--
			}
			if j == i || (line[j] >= '0' && line[j] <= '9') {
				return "", 0, false
			}
			return line[j:i], start + j, true
		case '[', '{':
			if depth > 0 {
				depth--
				continue
			}
			return "", 0, false
		}
	}
	return "", 0, false
}

func isIdent(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Signature is the first line of a hover's first code block (the
// declaration language servers put there), or its first line when it has
// no code block; at most 300 bytes.
func Signature(hover string) string {
	h := hover
	if i := strings.Index(h, "```"); i >= 0 {
		h = h[i+3:]
		if nl := strings.IndexByte(h, '\n'); nl >= 0 {
			h = h[nl+1:] // the fence's language tag
		}
		if end := strings.Index(h, "```"); end >= 0 {
			h = h[:end]
		}
	}
	for _, l := range strings.Split(h, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 300 {
				l = l[:300]
			}
			return l
		}
	}
	return ""
}
