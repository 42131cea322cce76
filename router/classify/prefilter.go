package classify

import (
	"regexp/syntax"
	"strings"
)

// requiredLiterals returns strings of which every match of pattern
// contains at least one, or nil when it cannot tell. Classify skips a rule
// whose literals are all absent from the text: a substring search is a
// hundred times cheaper than running the backtracking matcher, and most
// rules are absent from most requests. It is a necessary condition only,
// so it never changes a result.
func requiredLiterals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	return required(re.Simplify())
}

func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			lits := required(s)
			if lits == nil {
				return nil
			}
			out = append(out, lits...)
		}
		return out
	case syntax.OpConcat:
		// Adjacent literals join (the parser splits "is it" around
		// nothing, but keeps literals whole); otherwise the most selective
		// child decides: the one whose shortest literal is longest.
		var best []string
		bestLen := 0
		for _, s := range re.Sub {
			lits := required(s)
			if lits == nil {
				continue
			}
			if l := shortest(lits); l > bestLen {
				best, bestLen = lits, l
			}
		}
		return best
	}
	return nil
}

func shortest(ss []string) int {
	n := -1
	for _, s := range ss {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

func containsAny(t string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(t, l) {
			return true
		}
	}
	return false
}
