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

// ToolError is a tool failure Serena reported: since 1.6.0 an isError
// result "Error executing tool <name>: <ExcClass>: <msg>", in 1.0-1.5 a
// plain answer "Error executing tool: <ExcClass> - <msg>".
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

// ToolTimeoutError is Serena's own tool timeout (its --tool-timeout,
// default 240 s), as opposed to our per-call timeout: "Tool execution timed
// out after N seconds." since 1.6.0, "Error: TimeoutError - " before.
type ToolTimeoutError struct {
	Tool    string
	Seconds float64 // 0 when Serena did not say (1.0-1.5)
}

func (e *ToolTimeoutError) Error() string {
	after := ""
	if e.Seconds > 0 {
		after = fmt.Sprintf(" after %g s", e.Seconds)
	}
	return fmt.Sprintf("serena %s timed out inside Serena%s: its language server may still be indexing; retry later, or raise --tool-timeout in serena.command", e.Tool, after)
}

// ErrNoActiveProject is Serena's "No active project." reply: it was started
// without --project or the project failed to load.
var ErrNoActiveProject = errors.New("serena has no active project: start it with --project <workspace> or set serena.command")

// Serena's failure texts. Each pattern matches the text after the
// "Error executing tool <name>: " prefix of Serena >= 1.6 (isError results)
// and the plain answers of 1.0-1.5; the upstream lines are in
// src/serena/tools/tools_base.py (Tool.apply_ex) of each version.
var (
	tooLongRe  = regexp.MustCompile(`^The answer is too long \((\d+) characters\)`)
	matchedRe  = regexp.MustCompile(`^Matched (\d+)\s*>\s*max_matches\s*=\s*(\d+)`)
	timedOutRe = regexp.MustCompile(`^Tool execution timed out after ([0-9.]+) seconds`)
	// 1.0-1.5: "Error: TimeoutError - " (concurrent.futures' empty message).
	oldTimeoutRe = regexp.MustCompile(`^Error: (?:concurrent\.futures\.)?TimeoutError\b`)
	// >= 1.6, isError: the MCP SDK's "Error executing tool <name>: " prefix.
	toolErrorRe = regexp.MustCompile(`^Error executing tool ([A-Za-z_][\w]*): `)
	// >= 1.6, after the prefix: Serena's "<ExcClass>: <msg>".
	excClassRe = regexp.MustCompile(`^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)): `)
	// 1.0-1.5, a plain answer: "Error executing tool: <ExcClass> - <msg>"
	// from the tool, "Error: <ExcClass> - <msg>" from the task executor.
	oldToolErrorRe = regexp.MustCompile(`^Error(?: executing tool)?: ([A-Za-z_][\w.]*) - `)
	// 1.0-1.5: "Error: Tool 'x' is not active. Active tools: [...]";
	// >= 1.6 the same text without "Error: ", under the prefix.
	notActiveRe = regexp.MustCompile(`^(?:Error: )?Tool '([^']+)' is not active`)
	renamedRe   = regexp.MustCompile(`\((\d+) changes? applied\)`)
	refLineRe   = regexp.MustCompile(`^(  >|\.\.\.)\s*(\d+):(.*)$`)
	nameIndexRe = regexp.MustCompile(`\[\d+\]$`)
)

// classifyText turns Serena's non-JSON answers that mean failure into typed
// errors: the texts Serena 1.0-1.5 sends as plain answers, and the bodies of
// the isError results of later versions. Other text (JSON, "OK", rename
// messages) passes.
func classifyText(tool, text string) error {
	t := strings.TrimSpace(text)
	if t == "" || t[0] == '[' || t[0] == '{' {
		return nil // JSON: the common case
	}
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
	if oldTimeoutRe.MatchString(t) {
		return &ToolTimeoutError{Tool: tool}
	}
	if strings.HasPrefix(t, "No active project") || strings.HasPrefix(t, "Error: No active project") {
		return fmt.Errorf("serena %s: %w", tool, ErrNoActiveProject)
	}
	if m := notActiveRe.FindStringSubmatch(t); m != nil {
		return fmt.Errorf("serena %s: %w (Serena says: %s)", tool, ErrToolUnavailable, abbreviate(t, 200))
	}
	if m := oldToolErrorRe.FindStringSubmatchIndex(t); m != nil {
		return &ToolError{Tool: tool, Class: t[m[2]:m[3]], Message: t[m[1]:]}
	}
	if strings.HasPrefix(t, "Error: ") || strings.HasPrefix(t, "Error executing tool") {
		return &ToolError{Tool: tool, Message: strings.TrimPrefix(t, "Error: ")}
	}
	return nil
}

// parseToolError parses the text of an isError result (Serena >= 1.6).
func parseToolError(tool, text string) error {
	t := strings.TrimSpace(text)
	if m := toolErrorRe.FindStringSubmatchIndex(t); m != nil {
		tool, t = t[m[2]:m[3]], t[m[1]:]
	}
	if err := classifyText(tool, t); err != nil {
		return err
	}
	e := &ToolError{Tool: tool, Message: t}
	if m := excClassRe.FindStringSubmatchIndex(t); m != nil {
		e.Class, e.Message = t[m[2]:m[3]], t[m[1]:]
	}
	return e
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

// BodyLocation is the 0-based, inclusive line span of a symbol. Serena
// sends null for a line it could not determine; such a line decodes as -1.
type BodyLocation struct {
	StartLine int `json:"start_line"`
	EndLine   int `json:"end_line"`
}

// UnmarshalJSON keeps a null line apart from line 0.
func (b *BodyLocation) UnmarshalJSON(data []byte) error {
	var raw struct {
		StartLine *int `json:"start_line"`
		EndLine   *int `json:"end_line"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	b.StartLine, b.EndLine = -1, -1
	if raw.StartLine != nil {
		b.StartLine = *raw.StartLine
	}
	if raw.EndLine != nil {
		b.EndLine = *raw.EndLine
	}
	return nil
}

// valid reports whether both lines are known and in order.
func (b *BodyLocation) valid() bool {
	return b != nil && b.StartLine >= 0 && b.EndLine >= b.StartLine
}

// SymbolInfo is one symbol dict of find_symbol, find_declaration and
// find_implementations.
type SymbolInfo struct {
	NamePath     string        `json:"name_path"`
	Kind         string        `json:"kind"`
	RelativePath string        `json:"relative_path"`
	BodyLocation *BodyLocation `json:"body_location"`
	Body         string        `json:"body"`
	// Info is the hover text (include_info=true without include_body;
	// Serena never sends it for children).
	Info string `json:"info"`
	// Children are the symbol's children (depth > 0), with full name
	// paths, the parent's relative path, and their kind, whichever form
	// Serena sent them in (see decodeChildren).
	Children []SymbolInfo `json:"children"`
}

// UnmarshalJSON decodes a symbol dict and its children.
func (s *SymbolInfo) UnmarshalJSON(data []byte) error {
	type plain SymbolInfo // without this method
	var raw struct {
		plain
		Name     string          `json:"name"`
		Children json.RawMessage `json:"children"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*s = SymbolInfo(raw.plain)
	if s.NamePath == "" {
		s.NamePath = raw.Name // a child of the pre-1.0 form without name_path
	}
	children, err := decodeChildren(raw.Children, *s, 0)
	if err != nil {
		return fmt.Errorf("children of %s: %w", s.NamePath, err)
	}
	s.Children = children
	return nil
}

// maxChildDepth bounds the nesting decodeChildren follows; find_symbol is
// called with a small depth, and a hostile answer must not recurse forever
// (encoding/json already bounds nesting, this keeps the work small too).
const maxChildDepth = 32

// decodeChildren decodes a symbol's "children" in the forms Serena sends:
//
//   - 1.0.0 and later (src/serena/tools/symbol_tools.py, FindSymbolTool's
//     LanguageServerSymbolDictGrouper([], ["kind"], collapse_singleton=True)
//     over to_dict(children_name=True, children_name_path=False)): grouped
//     by kind, each child only {"name", "body_location"[, "children"]}:
//     {"Method": [{"name": "create_user", "body_location": {...}}]}. The
//     grouper collapses a child left with one key to that value (a bare
//     name string) and a child left with a name and children only to
//     {"<name>": <children>}; both are accepted.
//   - before 1.0.0: a list of full symbol dicts with name_path and kind.
//
// Children get their full name paths (parent/child, with Serena's overload
// index [i] when siblings share a name), the parent's relative path, and
// their kind from the group.
func decodeChildren(raw json.RawMessage, parent SymbolInfo, depth int) ([]SymbolInfo, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if depth > maxChildDepth {
		return nil, errors.New("nested too deeply")
	}
	var out []SymbolInfo
	switch raw[0] {
	case '[': // pre-1.0: full dicts (or, defensively, names)
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			c, err := decodeChild(it, "", parent, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, c...)
		}
	case '{': // 1.0+: grouped by kind
		var groups map[string]json.RawMessage
		if err := json.Unmarshal(raw, &groups); err != nil {
			return nil, err
		}
		for kind, g := range groups {
			var items []json.RawMessage
			if err := json.Unmarshal(g, &items); err != nil {
				return nil, fmt.Errorf("group %q: %w", kind, err)
			}
			for _, it := range items {
				c, err := decodeChild(it, kind, parent, depth)
				if err != nil {
					return nil, err
				}
				out = append(out, c...)
			}
		}
		indexOverloads(out, parent.NamePath)
	default:
		return nil, fmt.Errorf("unexpected %q", abbreviate(string(raw), 60))
	}
	sort.SliceStable(out, func(i, j int) bool { return startLine(out[i]) < startLine(out[j]) })
	return out, nil
}

// decodeChild decodes one child item of kind (empty for the pre-1.0 form,
// which carries its kind).
func decodeChild(raw json.RawMessage, kind string, parent SymbolInfo, depth int) ([]SymbolInfo, error) {
	child := SymbolInfo{Kind: kind, RelativePath: parent.RelativePath}
	var name string
	if json.Unmarshal(raw, &name) == nil { // collapsed to its name
		child.NamePath = name
		return []SymbolInfo{withParent(child, parent)}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("child %q: %w", abbreviate(string(raw), 60), err)
	}
	if n, ok := fields["name"]; !ok || json.Unmarshal(n, &name) != nil {
		// Collapsed {"<name>": <children>}: a child with only a name and children.
		if len(fields) != 1 {
			return nil, fmt.Errorf("child without a name: %q", abbreviate(string(raw), 60))
		}
		for n, kids := range fields {
			child.NamePath = n
			child = withParent(child, parent)
			var err error
			if child.Children, err = decodeChildren(kids, child, depth+1); err != nil {
				return nil, err
			}
		}
		return []SymbolInfo{child}, nil
	}
	var full struct {
		NamePath     string        `json:"name_path"`
		Kind         string        `json:"kind"`
		BodyLocation *BodyLocation `json:"body_location"`
		Body         string        `json:"body"`
	}
	if err := json.Unmarshal(raw, &full); err != nil {
		return nil, fmt.Errorf("child %s: %w", name, err)
	}
	child.BodyLocation, child.Body = full.BodyLocation, full.Body
	if full.Kind != "" {
		child.Kind = full.Kind
	}
	if full.NamePath != "" {
		child.NamePath = full.NamePath // pre-1.0: already the full path
	} else {
		child.NamePath = name
		child = withParent(child, parent)
	}
	var err error
	if child.Children, err = decodeChildren(fields["children"], child, depth+1); err != nil {
		return nil, err
	}
	return []SymbolInfo{child}, nil
}

// withParent prefixes a child's bare name with its parent's name path.
func withParent(child, parent SymbolInfo) SymbolInfo {
	if parent.NamePath != "" {
		child.NamePath = parent.NamePath + "/" + child.NamePath
	}
	return child
}

// indexOverloads appends Serena's overload index [i] to children sharing a
// name: Serena numbers same-named siblings in document order
// (src/solidlsp/ls.py, convert_symbols_with_common_parent), but the names
// it sends for children carry no index, and grouping by kind loses the
// order, which the start lines restore.
func indexOverloads(children []SymbolInfo, parentPath string) {
	byName := map[string][]int{}
	for i, c := range children {
		if strings.HasPrefix(c.NamePath, parentPath+"/") && !nameIndexRe.MatchString(c.NamePath) {
			byName[c.NamePath] = append(byName[c.NamePath], i)
		}
	}
	for _, idx := range byName {
		if len(idx) < 2 {
			continue
		}
		sort.SliceStable(idx, func(a, b int) bool { return startLine(children[idx[a]]) < startLine(children[idx[b]]) })
		for n, i := range idx {
			children[i].NamePath += "[" + strconv.Itoa(n) + "]"
		}
	}
}

func startLine(s SymbolInfo) int {
	if s.BodyLocation == nil {
		return 1 << 30
	}
	return s.BodyLocation.StartLine
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

type referenceDict struct {
	NamePath string        `json:"name_path"`
	Body     *BodyLocation `json:"body_location"`
	Content  string        `json:"content_around_reference"`
	// Only in the flat list of Serena before 1.0.0.
	Kind     string `json:"kind"`
	Location struct {
		RelativePath string `json:"relative_path"`
	} `json:"location"`
	RelativePath string `json:"relative_path"`
}

// ParseReferences parses find_referencing_symbols' answer. Serena 1.0.0 and
// later group the referencing symbols by path and kind
// (LanguageServerSymbolDictGrouper(["relative_path", "kind"], ...) in
// src/serena/tools/symbol_tools.py):
// {"<path>": {"<Kind>": [{name_path, body_location, content_around_reference}]}};
// earlier versions sent a flat list of dicts that carry their kind and
// location. The result is sorted by path and line.
func ParseReferences(tool, text string) ([]ReferenceInfo, error) {
	if err := classifyText(tool, text); err != nil {
		return nil, err
	}
	var out []ReferenceInfo
	add := func(path, kind string, r referenceDict) {
		line, snippet := parseContentAround(r.Content)
		out = append(out, ReferenceInfo{RelativePath: filepathToSlash(path), Kind: kind, NamePath: r.NamePath,
			BodyLocation: r.Body, Line: line, Snippet: snippet, Raw: r.Content})
	}
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "[") {
		var flat []referenceDict
		if err := decodeJSON(tool, text, &flat); err != nil {
			return nil, err
		}
		for _, r := range flat {
			path := r.RelativePath
			if path == "" {
				path = r.Location.RelativePath
			}
			add(path, r.Kind, r)
		}
	} else {
		var grouped map[string]map[string][]referenceDict
		if err := decodeJSON(tool, text, &grouped); err != nil {
			return nil, err
		}
		for path, kinds := range grouped {
			for kind, refs := range kinds {
				for _, r := range refs {
					add(path, kind, r)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].RelativePath != out[j].RelativePath {
			return out[i].RelativePath < out[j].RelativePath
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

// filepathToSlash turns Serena's OS-separated relative path (backslashes
// when Serena runs on Windows) into the slash form used for matching.
func filepathToSlash(p string) string { return strings.ReplaceAll(p, "\\", "/") }

// parseContentAround strips Serena's "  >  61:" and "...  60:" prefixes and
// returns the line of the marked one. The numbers are 0-based:
// TextLine.format_line in src/serena/util/text_utils.py prints
// line_number, which MatchedConsecutiveLines.from_file_contents fills with
// the 0-based index, in every Serena version.
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
			line, _ = strconv.Atoi(m[2])
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
