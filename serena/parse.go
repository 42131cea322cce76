package serena

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// ToolError is a tool result with isError set. Serena formats these as
// "Error executing tool <name>: <ExcClass>: <msg>".
type ToolError struct {
	Tool    string
	Class   string // Python exception class, e.g. "ValueError"; may be empty
	Message string
}

func (e *ToolError) Error() string {
	if e.Class != "" {
		return fmt.Sprintf("serena %s failed: %s: %s", e.Tool, e.Class, e.Message)
	}
	return fmt.Sprintf("serena %s failed: %s", e.Tool, e.Message)
}

// AnswerTooLongError is Serena's "The answer is too long (N characters)..."
// reply, which replaces the JSON answer with a summary.
type AnswerTooLongError struct {
	Tool    string
	Chars   int    // size of the answer Serena refused to send
	Summary string // the whole text Serena sent instead
}

func (e *AnswerTooLongError) Error() string {
	return fmt.Sprintf("serena %s: answer too long (%d characters); narrow the request (a smaller file or symbol) or raise max_answer_chars", e.Tool, e.Chars)
}

// TooManyMatchesError is find_symbol's "Matched N>max_matches=K symbols..."
// reply.
type TooManyMatchesError struct {
	Tool             string
	Matched, Allowed int
	Text             string
}

func (e *TooManyMatchesError) Error() string {
	return fmt.Sprintf("serena %s: %d symbols matched, more than max_matches=%d; use a longer name path", e.Tool, e.Matched, e.Allowed)
}

// ToolTimeoutError is Serena's own "Tool execution timed out after N
// seconds." reply (its --tool-timeout), as opposed to our per-call timeout.
type ToolTimeoutError struct {
	Tool    string
	Seconds float64
}

func (e *ToolTimeoutError) Error() string {
	return fmt.Sprintf("serena %s timed out inside Serena after %g s (Serena's --tool-timeout); its language server may still be indexing", e.Tool, e.Seconds)
}

// ErrNoActiveProject is Serena's "No active project." reply: it was started
// without --project or the project failed to load.
var ErrNoActiveProject = errors.New("serena has no active project: start it with --project <workspace> (see the serena command in the configuration)")

var (
	tooLongRe    = regexp.MustCompile(`^The answer is too long \((\d+) characters\)`)
	matchedRe    = regexp.MustCompile(`^Matched (\d+)\s*>\s*max_matches\s*=\s*(\d+)`)
	timedOutRe   = regexp.MustCompile(`^Tool execution timed out after ([0-9.]+) seconds`)
	toolErrorRe  = regexp.MustCompile(`^Error executing tool ([^:]+): (?:([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)): )?`)
	renamedRe    = regexp.MustCompile(`\((\d+) changes? applied\)`)
	refLineRe    = regexp.MustCompile(`^(  >|\.\.\.)\s*(\d+):(.*)$`)
	nameIndexRe  = regexp.MustCompile(`\[\d+\]$`)
	noProjectStr = "No active project"
)

// classifyText turns Serena's non-JSON, non-error replies that mean failure
// into typed errors. Other text (JSON, "OK", rename messages) passes.
func classifyText(tool, text string) error {
	t := strings.TrimSpace(text)
	if m := tooLongRe.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &AnswerTooLongError{Tool: tool, Chars: n, Summary: text}
	}
	if m := matchedRe.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1])
		k, _ := strconv.Atoi(m[2])
		return &TooManyMatchesError{Tool: tool, Matched: n, Allowed: k, Text: text}
	}
	if m := timedOutRe.FindStringSubmatch(t); m != nil {
		s, _ := strconv.ParseFloat(m[1], 64)
		return &ToolTimeoutError{Tool: tool, Seconds: s}
	}
	if strings.HasPrefix(t, noProjectStr) {
		return ErrNoActiveProject
	}
	return nil
}

// parseToolError parses the text of an isError result.
func parseToolError(tool, text string) error {
	t := strings.TrimSpace(text)
	if m := toolErrorRe.FindStringSubmatchIndex(t); m != nil {
		e := &ToolError{Tool: t[m[2]:m[3]], Message: t[m[1]:]}
		if m[4] >= 0 {
			e.Class = t[m[4]:m[5]]
		}
		return e
	}
	if err := classifyText(tool, t); err != nil {
		return err
	}
	return &ToolError{Tool: tool, Message: t}
}

// decodeJSON decodes a tool's JSON answer, saying what came instead when it
// is not JSON (Serena's answers are not always JSON).
func decodeJSON(tool, text string, v any) error {
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("serena %s: unexpected answer %q: %w", tool, abbreviate(text, 120), err)
	}
	return nil
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// BodyLocation is the 0-based, inclusive line span of a symbol.
type BodyLocation struct {
	StartLine int `json:"start_line"`
	EndLine   int `json:"end_line"`
}

// SymbolInfo is one symbol dict of find_symbol, find_declaration and
// find_implementations.
type SymbolInfo struct {
	NamePath     string        `json:"name_path"`
	Kind         string        `json:"kind"`
	RelativePath string        `json:"relative_path"`
	BodyLocation *BodyLocation `json:"body_location"`
	Body         string        `json:"body"`
	// Info is the hover text (include_info=true).
	Info     string       `json:"info"`
	Children []SymbolInfo `json:"children"`
}

// Name is the last element of the name path, without an overload index.
func (s SymbolInfo) Name() string { return lastName(s.NamePath) }

func lastName(namePath string) string {
	np := strings.TrimSuffix(namePath, "/")
	if i := strings.LastIndex(np, "/"); i >= 0 {
		np = np[i+1:]
	}
	return nameIndexRe.ReplaceAllString(np, "")
}

// ParseSymbols parses find_symbol's answer: a JSON list of symbol dicts.
func ParseSymbols(tool, text string) ([]SymbolInfo, error) {
	if err := classifyText(tool, text); err != nil {
		return nil, err
	}
	var out []SymbolInfo
	if err := decodeJSON(tool, text, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseSymbol parses find_declaration's answer: one symbol dict.
func ParseSymbol(tool, text string) (*SymbolInfo, error) {
	if err := classifyText(tool, text); err != nil {
		return nil, err
	}
	var out SymbolInfo
	if err := decodeJSON(tool, text, &out); err != nil {
		return nil, err
	}
	if out.NamePath == "" {
		return nil, fmt.Errorf("serena %s: answer %q names no symbol", tool, abbreviate(text, 120))
	}
	return &out, nil
}

// ParseOverview parses get_symbols_overview's answer into kind -> names,
// keeping only the top-level names when nested dicts (depth >= 1) appear.
func ParseOverview(tool, text string) (map[string][]string, error) {
	if err := classifyText(tool, text); err != nil {
		return nil, err
	}
	var raw map[string][]json.RawMessage
	if err := decodeJSON(tool, text, &raw); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(raw))
	for kind, items := range raw {
		for _, it := range items {
			var name string
			if json.Unmarshal(it, &name) == nil {
				out[kind] = append(out[kind], name)
				continue
			}
			// Nested form: {"Name": {"Kind": [children...]}}.
			var nested map[string]json.RawMessage
			if json.Unmarshal(it, &nested) == nil {
				for n := range nested {
					out[kind] = append(out[kind], n)
				}
			}
		}
		sort.Strings(out[kind])
	}
	return out, nil
}

// ReferenceInfo is one referencing symbol of find_referencing_symbols.
type ReferenceInfo struct {
	RelativePath string
	Kind         string
	NamePath     string // the referencing (containing) symbol
	BodyLocation *BodyLocation
	// Line is the 0-based line of the reference, from the "  >" marker
	// (-1 when there is none).
	Line int
	// Snippet is content_around_reference with the markers and line
	// numbers removed: plain source lines.
	Snippet string
	// Raw is content_around_reference as Serena sent it.
	Raw string
}

// ParseReferences parses find_referencing_symbols' answer:
// {"<path>": {"<Kind>": [{name_path, body_location, content_around_reference}]}}.
// The result is sorted by path and line.
func ParseReferences(tool, text string) ([]ReferenceInfo, error) {
	if err := classifyText(tool, text); err != nil {
		return nil, err
	}
	var raw map[string]map[string][]struct {
		NamePath string        `json:"name_path"`
		Body     *BodyLocation `json:"body_location"`
		Content  string        `json:"content_around_reference"`
	}
	if err := decodeJSON(tool, text, &raw); err != nil {
		return nil, err
	}
	var out []ReferenceInfo
	for path, kinds := range raw {
		for kind, refs := range kinds {
			for _, r := range refs {
				line, snippet := parseContentAround(r.Content)
				out = append(out, ReferenceInfo{RelativePath: path, Kind: kind, NamePath: r.NamePath,
					BodyLocation: r.Body, Line: line, Snippet: snippet, Raw: r.Content})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RelativePath != out[j].RelativePath {
			return out[i].RelativePath < out[j].RelativePath
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

// parseContentAround strips Serena's "  >  61:" and "...  60:" prefixes
// (1-based numbers) and returns the 0-based line of the marked one.
func parseContentAround(s string) (line int, snippet string) {
	line = -1
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		m := refLineRe.FindStringSubmatch(l)
		if m == nil {
			b.WriteString(l)
			continue
		}
		if m[1] == "  >" && line < 0 {
			n, _ := strconv.Atoi(m[2])
			line = n - 1
		}
		b.WriteString(m[3])
	}
	return line, b.String()
}

// DiagnosticInfo is one entry of get_diagnostics_for_file's answer.
type DiagnosticInfo struct {
	RelativePath string
	Severity     codectx.Severity
	// Owner is the symbol name path the diagnostic belongs to, or "<file>".
	Owner   string
	Message string
	Range   codectx.Range
	Code    string
	Source  string
}

var severityNames = map[string]codectx.Severity{
	"error": codectx.SeverityError, "warning": codectx.SeverityWarning,
	"information": codectx.SeverityInfo, "info": codectx.SeverityInfo, "hint": codectx.SeverityHint,
}

// ParseDiagnostics parses get_diagnostics_for_file's answer:
// {"<path>": {"Error"/"Warning"/...: {"<name_path or <file>>": [{message, range, code?, source?}]}}}.
func ParseDiagnostics(tool, text string) ([]DiagnosticInfo, error) {
	if err := classifyText(tool, text); err != nil {
		return nil, err
	}
	var raw map[string]map[string]map[string][]struct {
		Message string          `json:"message"`
		Range   codectx.Range   `json:"range"`
		Code    json.RawMessage `json:"code"`
		Source  string          `json:"source"`
	}
	if err := decodeJSON(tool, text, &raw); err != nil {
		return nil, err
	}
	var out []DiagnosticInfo
	for path, sevs := range raw {
		for sevName, owners := range sevs {
			sev, ok := severityNames[strings.ToLower(sevName)]
			if !ok {
				sev = codectx.SeverityInfo
			}
			for owner, ds := range owners {
				for _, d := range ds {
					out = append(out, DiagnosticInfo{RelativePath: path, Severity: sev, Owner: owner,
						Message: d.Message, Range: d.Range, Code: codeString(d.Code), Source: d.Source})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RelativePath != out[j].RelativePath {
			return out[i].RelativePath < out[j].RelativePath
		}
		return out[i].Range.Start.Before(out[j].Range.Start)
	})
	return out, nil
}

// codeString renders an LSP diagnostic code, a string or a number.
func codeString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// ParseOK checks an edit tool's "OK".
func ParseOK(tool, text string) error {
	if err := classifyText(tool, text); err != nil {
		return err
	}
	if strings.TrimSpace(text) != "OK" {
		return fmt.Errorf("serena %s: expected OK, got %q", tool, abbreviate(text, 200))
	}
	return nil
}

// ParseRename parses rename_symbol's "Successfully renamed '<np>' to
// '<new>' (N changes applied)" and returns N.
func ParseRename(tool, text string) (int, error) {
	if err := classifyText(tool, text); err != nil {
		return 0, err
	}
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "Successfully renamed") {
		return 0, fmt.Errorf("serena %s: rename not confirmed: %q", tool, abbreviate(t, 200))
	}
	if m := renamedRe.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, nil
	}
	return 0, nil
}
