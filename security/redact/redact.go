// Package redact removes secrets from text before it leaves the process: a
// prompt carries the user's code, and code carries private keys, cloud and
// VCS tokens, passwords in URLs and credentials assigned in configuration.
// Each secret is replaced by a placeholder naming its rule
// ("[REDACTED:github-token]"), so the model still sees that a value was
// there, and the caller counts what was replaced without ever seeing or
// storing the secret.
//
// Every rule is an RE2 regular expression (linear in the input, no
// backtracking) guarded by literal keywords: a rule runs only on text that
// contains one of them, so typical code pays a few substring searches per
// rule.
package redact

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
)

// Limits on configured extra patterns: they are compiled once and run on
// every prompt.
const (
	MaxExtraPatterns  = 32
	MaxPatternLength  = 512
	placeholderPrefix = "[REDACTED:"
)

// Assignment thresholds: a value assigned to a secret-looking name is
// redacted when it is at least MinSecretLength bytes long, mixes letters
// and digits, and its Shannon entropy is at least MinEntropy bits per byte.
// Random keys of 16+ characters score 3.5-6; words, identifiers and
// repeated placeholders score below.
const (
	MinSecretLength = 16
	MinEntropy      = 3.5
)

// Finding is one replaced secret: the rule that found it and the SHA-256 of
// the secret, so a caller can count distinct secrets without keeping them.
type Finding struct {
	Rule string
	Sum  [sha256.Size]byte
}

// rule is one kind of secret.
type rule struct {
	name string
	re   *regexp.Regexp
	// keywords: the rule runs only when the text contains one of them.
	// Empty: always.
	keywords []string
	// fold rules match their keywords and their (lower-case) expression
	// against the text with ASCII letters lower-cased, which is much faster
	// than a case-insensitive expression; the secret is taken from the
	// original text at the same offsets.
	fold bool
	// group is the submatch replaced; 0 replaces the whole match.
	group int
	// multiline rules run on the whole text; the others only on the lines
	// that contain a keyword, which keeps a large prompt fast.
	multiline bool
	// find, when set, replaces the expression: it returns the secret spans.
	find func(s string) [][2]int
	// extend continues an anchored match's group past the window: it
	// reports whether a byte belongs to the value.
	extend func(c byte) bool
	// anchored rules run their expression (which starts with ^) right
	// after each keyword, up to the end of its line: the keyword is the
	// start of the match, so no other position is tried.
	anchored bool
	// accept, when set, decides whether the replaced text is really a secret.
	accept func(secret string) bool
}

// Redactor applies a fixed set of rules. It is safe for concurrent use.
type Redactor struct {
	rules []rule
}

// New returns a Redactor with the built-in rules followed by the extra
// patterns (config security.redaction.extra_patterns), which are replaced as
// "[REDACTED:custom]". It fails on a pattern ValidatePatterns refuses.
func New(extra []string) (*Redactor, error) {
	if err := ValidatePatterns(extra); err != nil {
		return nil, err
	}
	r := &Redactor{rules: builtin()}
	for _, p := range extra {
		r.rules = append(r.rules, rule{name: "custom", re: regexp.MustCompile(p)})
	}
	return r, nil
}

// Default returns a Redactor with the built-in rules only.
func Default() *Redactor { return &Redactor{rules: builtin()} }

// ValidatePatterns checks extra patterns and returns one error naming the
// first bad one and what to do, or nil.
func ValidatePatterns(patterns []string) error {
	if len(patterns) > MaxExtraPatterns {
		return fmt.Errorf("%d patterns: at most %d are allowed; merge some with |", len(patterns), MaxExtraPatterns)
	}
	for i, p := range patterns {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("pattern %d is empty: remove it", i+1)
		}
		if len(p) > MaxPatternLength {
			return fmt.Errorf("pattern %d is %d bytes long: at most %d are allowed", i+1, len(p), MaxPatternLength)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			var se *syntax.Error
			if errors.As(err, &se) {
				return fmt.Errorf("pattern %d %q is not a valid regular expression (%s: %q): use Go RE2 syntax, e.g. \"ACME-[0-9a-f]{32}\"", i+1, p, se.Code, se.Expr)
			}
			return fmt.Errorf("pattern %d %q is not a valid regular expression: %v", i+1, p, err)
		}
		if re.MatchString("") {
			return fmt.Errorf("pattern %d %q matches the empty string, so it would match everywhere: make it require at least one character", i+1, p)
		}
	}
	return nil
}

// Placeholder is the text that replaces a secret found by rule.
func Placeholder(rule string) string { return placeholderPrefix + rule + "]" }

// Redact returns s with every secret replaced by its placeholder and the
// findings, in rule order. s is returned unchanged (and no allocation made)
// when nothing is found. The time is linear in len(s) for each rule.
func (r *Redactor) Redact(s string) (string, []Finding) {
	return r.redact(s, nil)
}

// Restore undoes Redact in a model's rewrite of original: each placeholder
// in edited gets back the secret it stands for, so applying an edit never
// writes "[REDACTED:...]" over the user's key. Per rule, the placeholders
// are matched in order to the secrets found in original. ok is false, and
// edited is returned unchanged, when that is ambiguous (the model added,
// dropped or copied a placeholder from elsewhere in the prompt).
func (r *Redactor) Restore(original, edited string) (string, bool) {
	if r == nil || !strings.Contains(edited, placeholderPrefix) {
		return edited, true
	}
	secrets := map[string][]string{}
	r.redact(original, secrets)
	out := edited
	for name, list := range secrets {
		ph := Placeholder(name)
		n := strings.Count(out, ph)
		if n == 0 {
			continue
		}
		same := true
		for _, v := range list {
			same = same && v == list[0]
		}
		if n != len(list) && !same {
			return edited, false
		}
		var b strings.Builder
		rest := out
		for i := 0; i < n; i++ {
			j := strings.Index(rest, ph)
			b.WriteString(rest[:j])
			b.WriteString(list[min(i, len(list)-1)])
			rest = rest[j+len(ph):]
		}
		b.WriteString(rest)
		out = b.String()
	}
	if strings.Contains(out, placeholderPrefix) {
		// A placeholder of a rule that found nothing in original.
		for i := range r.rules {
			if strings.Contains(out, Placeholder(r.rules[i].name)) {
				return edited, false
			}
		}
	}
	return out, true
}

// redact is Redact; when keep is not nil it also collects each rule's
// secrets in the order they appear.
func (r *Redactor) redact(s string, keep map[string][]string) (string, []Finding) {
	if r == nil || s == "" {
		return s, nil
	}
	var findings []Finding
	lower := ""
	for i := range r.rules {
		ru := &r.rules[i]
		hay := s
		if ru.fold {
			if lower == "" {
				lower = asciiLower(s)
			}
			hay = lower
		}
		var secrets [][2]int
		switch {
		case ru.find != nil:
			if containsAny(hay, ru.keywords) {
				secrets = ru.find(s)
			}
		case ru.anchored:
			secrets = ru.afterKeywords(hay)
		case len(ru.keywords) == 0:
			secrets = ru.matches(hay, [][2]int{{0, len(s)}})
		case ru.multiline:
			if containsAny(hay, ru.keywords) {
				secrets = ru.matches(hay, [][2]int{{0, len(s)}})
			}
		default:
			secrets = ru.matches(hay, keywordLines(s, hay, ru.keywords))
		}
		if len(secrets) == 0 {
			continue
		}
		out, f := ru.replace(s, secrets, keep)
		if len(f) > 0 {
			findings = append(findings, f...)
			s, lower = out, ""
		}
	}
	return s, findings
}

// keywordLines returns the lines of s (start, end without the newline)
// whose text in hay contains one of words, in order, each once. Each
// keyword's search skips to the end of the line it found, so the work is
// linear in len(s) per keyword.
func keywordLines(s, hay string, words []string) [][2]int {
	var spans [][2]int
	for _, w := range words {
		for off := 0; off < len(hay); {
			i := strings.Index(hay[off:], w)
			if i < 0 {
				break
			}
			p := off + i
			// off is always a line start, so the line starts after the
			// last newline between off and p.
			start := strings.LastIndexByte(s[off:p], '\n') + 1 + off
			end := lineEnd(s, p)
			spans = append(spans, [2]int{start, end})
			off = end + 1
		}
	}
	if len(spans) < 2 {
		return spans
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	out := spans[:1]
	for _, sp := range spans[1:] {
		if sp[0] == out[len(out)-1][0] {
			continue
		}
		out = append(out, sp)
	}
	return out
}

func lineEnd(s string, p int) int {
	if j := strings.IndexByte(s[p:], '\n'); j >= 0 {
		return p + j
	}
	return len(s)
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
// It returns s itself when there is nothing to lower, and otherwise makes
// one copy (a large prompt is hundreds of kilobytes).
func asciiLower(s string) string {
	i := indexUpper(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		b.WriteByte(s[i] + 'a' - 'A')
		s = s[i+1:]
		i = indexUpper(s)
	}
	b.WriteString(s)
	return b.String()
}

// indexUpper is the index of the first ASCII capital in s, or -1.
func indexUpper(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return i
		}
	}
	return -1
}

// matches returns the spans of the rule's group inside spans of hay, in
// order.
func (ru *rule) matches(hay string, spans [][2]int) [][2]int {
	var out [][2]int
	for _, sp := range spans {
		for _, loc := range ru.re.FindAllStringSubmatchIndex(hay[sp[0]:sp[1]], -1) {
			if start := loc[2*ru.group]; start >= 0 {
				out = append(out, [2]int{start + sp[0], loc[2*ru.group+1] + sp[0]})
			}
		}
	}
	return out
}

// maxAnchoredWindow bounds the text an anchored expression may read after
// its keyword: a name, an operator and the start of a value. A value that
// reaches the window's end is extended byte by byte (extend), and the
// keyword search resumes after it, so every byte is read a bounded number
// of times.
const maxAnchoredWindow = 256

// afterKeywords matches the anchored expression after every keyword
// occurrence and returns the group spans sorted by start.
func (ru *rule) afterKeywords(hay string) [][2]int {
	var out [][2]int
	for _, w := range ru.keywords {
		for off := 0; off < len(hay); {
			i := strings.Index(hay[off:], w)
			if i < 0 {
				break
			}
			from := off + i + len(w)
			// A bounded window keeps a long line with many keywords linear.
			to := min(len(hay), from+maxAnchoredWindow)
			if j := strings.IndexByte(hay[from:to], '\n'); j >= 0 {
				to = from + j
			}
			off = from
			if loc := ru.re.FindStringSubmatchIndex(hay[from:to]); loc != nil && loc[2*ru.group] >= 0 {
				start, end := loc[2*ru.group]+from, loc[2*ru.group+1]+from
				if end == to && ru.extend != nil {
					for end < len(hay) && ru.extend(hay[end]) {
						end++
					}
				}
				out = append(out, [2]int{start, end})
				off = max(off, end)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// replace puts the placeholder over each accepted secret span (in order,
// overlaps skipped) and returns the findings.
func (ru *rule) replace(s string, secrets [][2]int, keep map[string][]string) (string, []Finding) {
	var b strings.Builder
	var findings []Finding
	last := 0
	ph := Placeholder(ru.name)
	for _, sp := range secrets {
		start, end := sp[0], sp[1]
		if start < last || start == end {
			continue
		}
		secret := s[start:end]
		if strings.Contains(secret, placeholderPrefix) || (ru.accept != nil && !ru.accept(secret)) {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:start])
		b.WriteString(ph)
		last = end
		findings = append(findings, Finding{Rule: ru.name, Sum: sha256.Sum256([]byte(secret))})
		if keep != nil {
			keep[ru.name] = append(keep[ru.name], secret)
		}
	}
	if len(findings) == 0 {
		return s, nil
	}
	b.WriteString(s[last:])
	return b.String(), findings
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// Entropy is the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func hasDigitAndLetter(s string) bool {
	digit, letter := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		}
	}
	return digit && letter
}

// highEntropy accepts a value assigned to a secret-looking name.
func highEntropy(v string) bool {
	if len(v) < MinSecretLength || !hasDigitAndLetter(v) {
		return false
	}
	// References to a secret are not the secret: ${VAR}, {{ .Var }},
	// <your-key>, $VAR, %VAR%.
	if strings.ContainsAny(v[:1], "$<{%") || strings.Contains(v, "${") || strings.Contains(v, "{{") {
		return false
	}
	// A URL is not the secret (a password inside one is url-password's).
	if strings.Contains(v, "://") {
		return false
	}
	return Entropy(v) >= MinEntropy
}

// urlPassword accepts a password written in a URL unless it is a reference
// or a mask.
func urlPassword(p string) bool {
	if strings.ContainsAny(p[:1], "$<{%") || strings.Trim(p, "*x") == "" {
		return false
	}
	return true
}

var (
	pemBegin = regexp.MustCompile(`^-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----`)
	pemEnd   = regexp.MustCompile(`^-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----`)
	// pemTail is what follows a header whose END marker is missing (a block
	// cut off by the prompt's budget): base64 lines.
	pemTail = regexp.MustCompile(`^(?:\s*[A-Za-z0-9+/=]{16,})*`)
)

// privateKeys finds PEM private key blocks, from BEGIN to the matching END,
// or to the end of the base64 body when the END is missing. It is a scan,
// not one expression: "BEGIN ... lazily up to END" would rescan the rest of
// the text for every BEGIN without an END, which is quadratic.
func privateKeys(s string) [][2]int {
	var ends []int // offsets just past each END marker, ascending
	for off := 0; ; {
		i := strings.Index(s[off:], "-----END")
		if i < 0 {
			break
		}
		p := off + i
		if loc := pemEnd.FindStringIndex(s[p:min(len(s), p+80)]); loc != nil {
			ends = append(ends, p+loc[1])
		}
		off = p + len("-----END")
	}
	var out [][2]int
	next := 0 // index into ends
	for off := 0; ; {
		i := strings.Index(s[off:], "-----BEGIN")
		if i < 0 {
			break
		}
		start := off + i
		loc := pemBegin.FindStringIndex(s[start:min(len(s), start+80)])
		if loc == nil {
			off = start + len("-----BEGIN")
			continue
		}
		hdrEnd := start + loc[1]
		for next < len(ends) && ends[next] <= hdrEnd {
			next++
		}
		end := hdrEnd
		if next < len(ends) {
			end = ends[next]
		} else {
			body := pemTail.FindStringIndex(s[hdrEnd:])
			end += body[1]
		}
		out = append(out, [2]int{start, end})
		off = end
	}
	return out
}

// valueByte is the class of an assigned value's bytes, as in the
// secret-assignment expression.
func valueByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', '`', ',', ';', '(', ')', '[', ']', '{', '}', '<', '>':
		return false
	}
	return true
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// builtin returns the built-in rules in the order they run: whole blocks
// first, then token formats with a fixed prefix, then URL passwords, then
// generic assignments (which skip what an earlier rule replaced).
func builtin() []rule {
	return []rule{
		{name: "private-key", keywords: []string{"PRIVATE KEY"}, find: privateKeys},
		{name: "aws-access-key-id", keywords: []string{"AKIA", "ASIA", "ABIA", "ACCA", "A3T"},
			re: regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b`)},
		{name: "aws-secret-access-key", keywords: []string{"secret"}, fold: true, group: 1,
			re:     regexp.MustCompile(`aws_?(?:secret_?access_?key|secret_?key)["']?\s*(?::=|=>|=|:)\s*["']?([a-z0-9/+]{40})(?:[^a-z0-9/+=]|$)`),
			accept: hasDigit},
		{name: "github-token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
			re: regexp.MustCompile(`\b(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b`)},
		{name: "gitlab-token", keywords: []string{"glpat-", "gldt-", "glrt-", "glptt-"},
			re: regexp.MustCompile(`\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_\-.]{20,}`)},
		{name: "slack-token", keywords: []string{"xox"},
			re: regexp.MustCompile(`\bxox[abposre]-[A-Za-z0-9-]{10,}`), accept: hasDigit},
		{name: "google-api-key", keywords: []string{"AIza"},
			re: regexp.MustCompile(`\bAIza[0-9A-Za-z_\-]{35}`)},
		{name: "openai-key", keywords: []string{"sk-"},
			re:     regexp.MustCompile(`\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20,}`),
			accept: func(s string) bool { return hasDigitAndLetter(s) && Entropy(s) >= 3 }},
		{name: "jwt", keywords: []string{"eyJ"},
			re: regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)},
		{name: "url-password", keywords: []string{"://"}, group: 1, accept: urlPassword,
			re: regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:@/?#"'<>]+:([^\s@/?#"'<>]+)@`)},
		{name: "secret-assignment", fold: true, anchored: true, group: 1, accept: highEntropy, extend: valueByte,
			// Each keyword starts a name that ends there or continues after
			// a separator (auth_token, password.prod; not tokenizer).
			keywords: []string{"password", "passwd", "pwd", "secret", "token", "credential", "credentials",
				"apikey", "api_key", "api-key", "accesskey", "access_key", "access-key",
				"authkey", "auth_key", "auth-key", "privatekey", "private_key", "private-key"},
			re: regexp.MustCompile("^(?:[_.-][a-z0-9_.-]*)?[\"'`]?\\s*(?::=|=>|=|:)\\s*[\"'`]?([^\\s\"'`,;()\\[\\]{}<>]+)")},
	}
}
