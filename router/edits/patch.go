package edits

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/syntax"
)

// hunk is one search/replace pair, from an aider-style block or a unified
// diff hunk.
type hunk struct {
	search, replace []string
	// hint is the 0-based line the diff header says the hunk starts at,
	// -1 when unknown; it breaks ties between several matches.
	hint  int
	label string // "SEARCH/REPLACE block 2", "diff hunk 1"
}

var (
	srSearch  = regexp.MustCompile(`^\s*<{5,9}\s*SEARCH\b`)
	srDivider = regexp.MustCompile(`^\s*={5,9}\s*$`)
	srReplace = regexp.MustCompile(`^\s*>{5,9}\s*REPLACE\b`)
	hunkHdr   = regexp.MustCompile(`^@@\s*-(\d+)(?:,(\d+))?\s+\+(\d+)(?:,(\d+))?\s*@@`)
)

// parseSearchReplace extracts aider-style blocks:
//
//	<<<<<<< SEARCH
//	old lines
//	=======
//	new lines
//	>>>>>>> REPLACE
func parseSearchReplace(lines []string) ([]hunk, error) {
	var out []hunk
	for i := 0; i < len(lines); i++ {
		if !srSearch.MatchString(lines[i]) {
			continue
		}
		h := hunk{hint: -1, label: fmt.Sprintf("SEARCH/REPLACE block %d", len(out)+1)}
		j := i + 1
		for ; j < len(lines) && !srDivider.MatchString(lines[j]); j++ {
			h.search = append(h.search, lines[j])
		}
		if j == len(lines) {
			return nil, refuse(ReasonIncomplete, "", "%s has no ======= divider (the answer was probably cut off); nothing was changed", h.label)
		}
		k := j + 1
		for ; k < len(lines) && !srReplace.MatchString(lines[k]); k++ {
			h.replace = append(h.replace, lines[k])
		}
		if k == len(lines) {
			return nil, refuse(ReasonIncomplete, "", "%s has no >>>>>>> REPLACE end (the answer was probably cut off); nothing was changed", h.label)
		}
		out = append(out, h)
		i = k
	}
	return out, nil
}

// parseUnifiedDiff extracts the hunks of a unified diff for file. Models
// often get the line numbers wrong and drop the space before empty context
// lines, so hunks are applied by content and the numbers only break ties.
// Hunks for other files are left out; if all are for other files the diff
// is refused.
func parseUnifiedDiff(lines []string, path string) ([]hunk, error) {
	var out []hunk
	var other []string
	curFile := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "+++ ") {
			curFile = diffPath(l[4:])
			continue
		}
		if fileHeaderAt(lines, i) {
			continue
		}
		m := hunkHdr.FindStringSubmatch(l)
		if m == nil && !(strings.HasPrefix(l, "@@") && strings.HasSuffix(strings.TrimSpace(l), "@@") || strings.HasPrefix(l, "@@ ")) {
			continue
		}
		h := hunk{hint: -1, label: fmt.Sprintf("diff hunk %d", len(out)+1)}
		if m != nil {
			n, _ := strconv.Atoi(m[1])
			h.hint = n - 1
		}
		j := h.readBody(lines, i+1)
		i = j - 1
		if curFile != "" && filepath.Base(curFile) != filepath.Base(path) {
			other = append(other, curFile)
			continue
		}
		if curFile == "/dev/null" {
			continue
		}
		out = append(out, h)
	}
	if len(out) == 0 && len(other) > 0 {
		return nil, refuse(ReasonWrongFile, "", "the answer's diff changes %s, not %s; nothing was changed", strings.Join(other, ", "), filepath.Base(path))
	}
	return out, nil
}

// fileHeaderAt tells whether lines[i] starts a "--- a/x" "+++ b/x" pair.
func fileHeaderAt(lines []string, i int) bool {
	return strings.HasPrefix(lines[i], "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ")
}

// readBody reads the hunk's lines from lines[j] on, up to the next hunk or
// file header or the prose after the diff, and returns the index where it
// stopped. Trailing blank context, usually the gap before prose, is left
// out.
func (h *hunk) readBody(lines []string, j int) int {
	for ; j < len(lines); j++ {
		d := lines[j]
		if strings.HasPrefix(d, "@@") || fileHeaderAt(lines, j) || strings.HasPrefix(d, "diff ") {
			break
		}
		if !h.addDiffLine(d) {
			break // prose after the diff ends the hunk
		}
	}
	for len(h.search) > 0 && len(h.replace) > 0 && h.search[len(h.search)-1] == "" && h.replace[len(h.replace)-1] == "" {
		h.search, h.replace = h.search[:len(h.search)-1], h.replace[:len(h.replace)-1]
	}
	return j
}

// addDiffLine takes one line of a hunk; it is false for a line that is
// not part of a diff.
func (h *hunk) addDiffLine(d string) bool {
	switch {
	case strings.HasPrefix(d, "+"):
		h.replace = append(h.replace, d[1:])
	case strings.HasPrefix(d, "-"):
		h.search = append(h.search, d[1:])
	case strings.HasPrefix(d, " "):
		h.search = append(h.search, d[1:])
		h.replace = append(h.replace, d[1:])
	case strings.HasPrefix(d, `\`):
		// "\ No newline at end of file"
	case d == "":
		h.search = append(h.search, "")
		h.replace = append(h.replace, "")
	default:
		return false
	}
	return true
}

func diffPath(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\t'); i >= 0 {
		s = s[:i]
	}
	if strings.HasPrefix(s, "a/") || strings.HasPrefix(s, "b/") {
		s = s[2:]
	}
	return s
}

// patchEdits handles answers written as SEARCH/REPLACE blocks or unified
// diffs. ok is false when the answer has neither, so the caller goes on
// with symbol replacement.
func patchEdits(text string, file File, sym codectx.Symbol) ([]TextEdit, bool, error) {
	ans := splitLines(text)
	hunks, err := parseSearchReplace(ans)
	if err != nil {
		return nil, true, err
	}
	if len(hunks) == 0 {
		if !looksLikeDiff(ans) {
			// A ```diff block of -/+ lines without any header is one hunk.
			for _, b := range candidateBlocks(text) {
				if b.fenced && isDiffLang(b.lang) {
					hunks = append(hunks, bareDiffHunk(b.lines, len(hunks)+1))
				}
			}
			if len(hunks) == 0 {
				return nil, false, nil
			}
			edits, err := applyHunks(hunks, file, sym)
			return edits, true, err
		}
		hunks, err = parseUnifiedDiff(ans, file.Path)
		if err != nil {
			return nil, true, err
		}
		if len(hunks) == 0 {
			return nil, false, nil
		}
	}
	edits, err := applyHunks(hunks, file, sym)
	return edits, true, err
}

// looksLikeDiff reports whether the answer holds a unified diff: a hunk
// header, or ---/+++ file headers.
func looksLikeDiff(lines []string) bool {
	for i, l := range lines {
		if hunkHdr.MatchString(l) {
			return true
		}
		if strings.HasPrefix(l, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ") {
			return true
		}
	}
	return false
}

// applyHunks locates each hunk's search lines in the file and makes an
// edit replacing them. A hunk must match exactly once (inside the symbol
// when several places match); matching falls back from exact, to ignoring
// trailing whitespace, to ignoring indentation (then the replacement is
// re-indented by the difference).
func applyHunks(hunks []hunk, file File, sym codectx.Symbol) ([]TextEdit, error) {
	name := displayName(sym)
	lines := splitLines(file.Text)
	nl := eol(file.Text)
	type span struct{ from, to int }
	var spans []span
	var edits []TextEdit
	changed := false
	for _, h := range hunks {
		search := trimBlankEdges(h.search)
		if len(search) == 0 {
			return nil, refuse(ReasonSearchNotFound, name, "%s has an empty SEARCH part (it would create a new file); nothing was changed", h.label)
		}
		// Keep the replacement aligned with the trimmed search part.
		lead := 0
		for lead < len(h.search) && strings.TrimSpace(h.search[lead]) == "" {
			lead++
		}
		replace := h.replace
		if lead > 0 && lead <= len(replace) && blankPrefix(replace, lead) {
			replace = replace[lead:]
		}
		trail := len(h.search) - lead - len(search)
		if trail > 0 && trail <= len(replace) && blankSuffix(replace, trail) {
			replace = replace[:len(replace)-trail]
		}
		at, shift, err := findHunk(lines, search, h, sym)
		if err != nil {
			return nil, err
		}
		for _, s := range spans {
			if at < s.to && s.from < at+len(search) {
				return nil, refuse(ReasonOverlap, name, "%s overlaps another change of the answer; nothing was changed", h.label)
			}
		}
		spans = append(spans, span{at, at + len(search)})
		if shift != nil {
			replace = shift(replace)
		}
		if !sameLines(lines[at:at+len(search)], replace) {
			changed = true
		}
		edits = append(edits, lineEdit(lines, at, at+len(search), replace, nl, file.Text))
	}
	if !changed {
		return nil, refuse(ReasonUnchanged, name, "the answer's changes leave %s as it is; nothing was changed", filepath.Base(file.Path))
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].Range.Start.Line < edits[j].Range.Start.Line })
	return edits, nil
}

func blankPrefix(ls []string, n int) bool {
	for _, l := range ls[:n] {
		if strings.TrimSpace(l) != "" {
			return false
		}
	}
	return true
}

func blankSuffix(ls []string, n int) bool { return blankPrefix(ls[len(ls)-n:], n) }

func sameLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func trimBlankEdges(ls []string) []string {
	for len(ls) > 0 && strings.TrimSpace(ls[0]) == "" {
		ls = ls[1:]
	}
	for len(ls) > 0 && strings.TrimSpace(ls[len(ls)-1]) == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// findHunk returns the line where search matches and, when it matched
// only after ignoring indentation, a function re-indenting the
// replacement.
func findHunk(lines, search []string, h hunk, sym codectx.Symbol) (int, func([]string) []string, error) {
	name := displayName(sym)
	cmps := []func(a, b string) bool{
		func(a, b string) bool { return a == b },
		func(a, b string) bool { return strings.TrimRight(a, " \t") == strings.TrimRight(b, " \t") },
		func(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) },
	}
	for ci, eq := range cmps {
		var matches []int
		for i := 0; i+len(search) <= len(lines); i++ {
			ok := true
			for k := range search {
				if !eq(lines[i+k], search[k]) {
					ok = false
					break
				}
			}
			if ok {
				matches = append(matches, i)
			}
		}
		if len(matches) == 0 {
			continue
		}
		at, err := pickMatch(matches, h, sym, name)
		if err != nil {
			return 0, nil, err
		}
		var shift func([]string) []string
		if ci == 2 {
			shift = indentShift(lines[at:at+len(search)], search, lines)
		}
		return at, shift, nil
	}
	first := strings.TrimSpace(search[0])
	return 0, nil, refuse(ReasonSearchNotFound, name, "the text that %s replaces does not occur in the file (it starts with %q); nothing was changed", h.label, first)
}

// pickMatch chooses among several matching places: the only one, the one
// inside the symbol, or the one nearest the diff's line number.
func pickMatch(matches []int, h hunk, sym codectx.Symbol, name string) (int, error) {
	if len(matches) == 1 {
		return matches[0], nil
	}
	if sym.Range != (codectx.Range{}) {
		var inside []int
		for _, m := range matches {
			if m >= sym.Range.Start.Line && m <= sym.Range.End.Line {
				inside = append(inside, m)
			}
		}
		if len(inside) == 1 {
			return inside[0], nil
		}
	}
	if h.hint >= 0 {
		best := matches[0]
		for _, m := range matches {
			if abs(m-h.hint) < abs(best-h.hint) {
				best = m
			}
		}
		return best, nil
	}
	return 0, refuse(ReasonAmbiguous, name, "the text that %s replaces occurs %d times in the file, so the place to change is ambiguous; nothing was changed", h.label, len(matches))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// indentShift re-indents replacement lines by the difference between the
// file's indentation and the search text's, converting the style.
func indentShift(fileLines, search, all []string) func([]string) []string {
	k := 0
	for k < len(search) && strings.TrimSpace(search[k]) == "" {
		k++
	}
	fileWS, searchWS := syntax.LeadingWS(fileLines[k]), syntax.LeadingWS(search[k])
	to, ok := detectIndent(all)
	from, ok2 := detectIndent(search)
	if !ok {
		to = indentStyle{unit: 4}
	}
	if !ok2 {
		from = to
	}
	return func(rep []string) []string { return reindent(rep, searchWS, fileWS, from, to) }
}

// lineEdit replaces whole lines [from, to) of the file with repl.
func lineEdit(lines []string, from, to int, repl []string, nl, text string) TextEdit {
	newText := strings.Join(repl, nl)
	if len(repl) > 0 {
		newText += nl
	}
	end := codectx.Position{Line: to, Character: 0}
	if to >= len(lines) {
		// The last line: end at its end; a file without a final line
		// break keeps having none.
		end = codectx.Position{Line: len(lines) - 1, Character: utf16Len(lines[len(lines)-1])}
		if !strings.HasSuffix(text, "\n") {
			newText = strings.TrimSuffix(newText, nl)
		} else {
			end = codectx.Position{Line: len(lines), Character: 0}
		}
	}
	return TextEdit{Range: codectx.Range{Start: codectx.Position{Line: from}, End: end}, NewText: newText}
}

// bareDiffHunk reads a diff block without headers as one hunk.
func bareDiffHunk(lines []string, n int) hunk {
	h := hunk{hint: -1, label: fmt.Sprintf("diff hunk %d", n)}
	for _, d := range lines {
		switch {
		case strings.HasPrefix(d, "+"):
			h.replace = append(h.replace, d[1:])
		case strings.HasPrefix(d, "-"):
			h.search = append(h.search, d[1:])
		case strings.HasPrefix(d, " "):
			h.search = append(h.search, d[1:])
			h.replace = append(h.replace, d[1:])
		default:
			h.search = append(h.search, d)
			h.replace = append(h.replace, d)
		}
	}
	return h
}
