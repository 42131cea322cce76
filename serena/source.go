package serena

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/codectx"
)

var _ codectx.Source = (*Client)(nil)

// Name implements codectx.Source.
func (c *Client) Name() string { return "serena" }

// RelPath converts an absolute path into Serena's project-relative form.
func (c *Client) RelPath(path string) (string, error) {
	if c.cfg.Workspace == "" {
		return "", errors.New("serena: no workspace configured")
	}
	rel, err := filepath.Rel(c.cfg.Workspace, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("serena: %s is outside its project %s", path, c.cfg.Workspace)
	}
	return rel, nil
}

func (c *Client) absPath(rel string) string {
	return filepath.Join(c.cfg.Workspace, filepath.FromSlash(rel))
}

// maxTopLevelTries bounds the find_symbol calls spent looking for the
// top-level symbol around the cursor (Serena runs one call at a time).
const maxTopLevelTries = 4

// symbolDepth is how deep find_symbol returns children: a method in a
// class (1), a closure in it (2), one more for nested classes.
const symbolDepth = 3

// Symbol implements codectx.Source: the innermost symbol whose body
// contains the cursor line. Serena runs one tool call at a time, so the
// calls are planned to be few:
//
//  1. get_symbols_overview, for the file's top-level names;
//  2. find_symbol on the top-level name nearest the cursor, with children
//     and include_info: the hover text comes back for the top-level symbol
//     (Serena gives it for matched symbols only, never for children, and
//     ignores include_info when include_body is set, so the body is never
//     asked for: it is cut from the query's text at the reported lines);
//  3. only when the cursor is in a child (a method of a class), find_symbol
//     on that child with include_info, for its hover text.
//
// The hover text is kept for Hover, which then costs no call.
func (c *Client) Symbol(ctx context.Context, q codectx.Query) (*codectx.Symbol, error) {
	rel, err := c.RelPath(q.Path)
	if err != nil {
		return nil, err
	}
	overview, err := c.GetSymbolsOverview(ctx, rel)
	if err != nil {
		return nil, err
	}
	line := q.Position.Line
	withInfo := c.toolHasArg(ToolFindSymbol, "include_info")
	var found, top *SymbolInfo
	for i, name := range candidatesNearLine(overview, q.Text, line) {
		if i == maxTopLevelTries {
			break
		}
		syms, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "/" + name, RelativePath: rel, Depth: symbolDepth, IncludeInfo: withInfo})
		if err != nil {
			var tm *TooManyMatchesError
			if errors.As(err, &tm) {
				continue
			}
			return nil, err
		}
		if t := enclosing(syms, line); t != nil {
			top, found = t, innermost(t, line)
			break
		}
	}
	if found == nil {
		return nil, fmt.Errorf("serena: no symbol encloses %s:%d", rel, line+1)
	}
	sym := c.toSymbol(*found, q)
	switch {
	case !withInfo:
	case found == top:
		c.cache.put(sym.Path, sym.NamePath, top.Info)
	default:
		// The info of a child needs its own call; a failure here only
		// costs the hover text, which Hover reports.
		if syms, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "/" + found.NamePath, RelativePath: rel, IncludeInfo: true}); err == nil {
			if s := sameSymbol(syms, found.NamePath); s != nil {
				c.cache.put(sym.Path, sym.NamePath, s.Info)
			}
		}
	}
	return sym, nil
}

// sameSymbol picks namePath among an anchored find_symbol's matches: the
// exact name path, else the only match (the overload index we derived for
// a child may differ from Serena's).
func sameSymbol(syms []SymbolInfo, namePath string) *SymbolInfo {
	for i := range syms {
		if syms[i].NamePath == namePath {
			return &syms[i]
		}
	}
	if len(syms) == 1 {
		return &syms[0]
	}
	return nil
}

// candidatesNearLine orders the overview's names by how closely a line
// naming them precedes the cursor, so that the first find_symbol is almost
// always the right one.
func candidatesNearLine(overview map[string][]string, text string, line int) []string {
	seen := map[string]bool{}
	var names []string
	for _, ns := range overview {
		for _, n := range ns {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	lines := codectx.SplitLines(text)
	dist := make(map[string]int, len(names))
	for _, n := range names {
		dist[n] = 1 << 30
		re, err := regexp.Compile(`\b` + regexp.QuoteMeta(n) + `\b`)
		if err != nil {
			continue
		}
		for l := min(line, len(lines)-1); l >= 0; l-- {
			if re.MatchString(lines[l]) {
				dist[n] = line - l
				break
			}
		}
	}
	sort.SliceStable(names, func(i, j int) bool {
		if dist[names[i]] != dist[names[j]] {
			return dist[names[i]] < dist[names[j]]
		}
		return names[i] < names[j]
	})
	return names
}

// containerKinds are the symbol kinds Serena counts as structure rather
// than data (SymbolKind.is_container in
// src/solidlsp/lsp_protocol_handler/lsp_types.py): the cursor on a local
// variable or a struct field means the function or type around it.
var containerKinds = map[string]bool{
	"File": true, "Module": true, "Namespace": true, "Package": true, "Class": true, "Method": true,
	"Constructor": true, "Enum": true, "Interface": true, "Function": true, "Object": true, "Struct": true,
}

// enclosing returns the top-level symbol among syms whose body contains
// line; among overlapping ones the shortest wins.
func enclosing(syms []SymbolInfo, line int) *SymbolInfo {
	var best *SymbolInfo
	for i := range syms {
		s := &syms[i]
		if !s.BodyLocation.valid() || line < s.BodyLocation.StartLine || line > s.BodyLocation.EndLine {
			continue
		}
		if best == nil || span(s) < span(best) {
			best = s
		}
	}
	return best
}

// innermost descends from s into the deepest container child whose body
// contains line.
func innermost(s *SymbolInfo, line int) *SymbolInfo {
	for {
		var kids []SymbolInfo
		for _, k := range s.Children {
			if containerKinds[k.Kind] {
				kids = append(kids, k)
			}
		}
		child := enclosing(kids, line)
		if child == nil {
			return s
		}
		s = child
	}
}

func span(s *SymbolInfo) int { return s.BodyLocation.EndLine - s.BodyLocation.StartLine }

// toSymbol maps Serena's 0-based lines (and the body, which starts at the
// symbol's start column) onto LSP positions in the query's text.
func (c *Client) toSymbol(s SymbolInfo, q codectx.Query) *codectx.Symbol {
	sym := &codectx.Symbol{Name: s.Name(), NamePath: s.NamePath, Kind: s.Kind, Path: c.absPath(s.RelativePath), Body: s.Body}
	if !s.BodyLocation.valid() {
		return sym
	}
	startLine, endLine := s.BodyLocation.StartLine, s.BodyLocation.EndLine
	var lines []string
	if sym.Path == q.Path || s.RelativePath == "" {
		sym.Path = q.Path
		lines = codectx.SplitLines(q.Text)
	}
	if endLine >= len(lines) || startLine < 0 {
		// Without the text, whole lines are the best we can say.
		sym.Range = codectx.Range{Start: codectx.Position{Line: startLine}, End: codectx.Position{Line: endLine + 1}}
		sym.SelectionRange = codectx.Range{Start: sym.Range.Start, End: sym.Range.Start}
		return sym
	}
	first := lines[startLine]
	startByte := len(first) - len(strings.TrimLeft(first, " \t"))
	if s.Body != "" {
		head, _, _ := strings.Cut(s.Body, "\n")
		if i := strings.Index(first, strings.TrimRight(head, "\r")); i >= 0 && head != "" {
			startByte = i
		}
	}
	start := codectx.Position{Line: startLine, Character: codectx.UTF16Len(first[:startByte])}
	end := codectx.Position{Line: endLine, Character: codectx.UTF16Len(lines[endLine])}
	sym.Range = codectx.Range{Start: start, End: end}
	sym.SelectionRange = codectx.Range{Start: start, End: start}
	if name := sym.Name; name != "" {
		if i := strings.Index(first[startByte:], name); i >= 0 {
			b := startByte + i
			sym.SelectionRange = codectx.Range{
				Start: codectx.Position{Line: startLine, Character: codectx.UTF16Len(first[:b])},
				End:   codectx.Position{Line: startLine, Character: codectx.UTF16Len(first[:b+len(name)])},
			}
		}
	}
	if sym.Body == "" {
		sym.Body = codectx.TextInRange(q.Text, sym.Range)
	}
	return sym
}

// Hover implements codectx.Source with find_symbol's info (Serena has no
// hover tool), reusing what Symbol already fetched.
func (c *Client) Hover(ctx context.Context, q codectx.Query, sym *codectx.Symbol) (string, error) {
	if sym == nil {
		return "", errors.New("serena: no symbol to describe")
	}
	if info, ok := c.cache.get(sym.Path, sym.NamePath); ok {
		return info, nil
	}
	if !c.toolHasArg(ToolFindSymbol, "include_info") {
		return "", codectx.ErrUnsupported
	}
	rel, err := c.RelPath(sym.Path)
	if err != nil {
		return "", err
	}
	// Without include_body: Serena ignores include_info when it is set.
	syms, err := c.FindSymbol(ctx, FindSymbolArgs{NamePath: "/" + sym.NamePath, RelativePath: rel, IncludeInfo: true})
	if err != nil {
		return "", err
	}
	s := sameSymbol(syms, sym.NamePath)
	if s == nil {
		return "", nil
	}
	c.cache.put(sym.Path, sym.NamePath, s.Info)
	return s.Info, nil
}

// References implements codectx.Source with find_referencing_symbols.
func (c *Client) References(ctx context.Context, q codectx.Query, sym *codectx.Symbol, limit int) ([]codectx.Reference, error) {
	if sym == nil {
		return nil, errors.New("serena: no symbol to find references of")
	}
	rel, err := c.RelPath(sym.Path)
	if err != nil {
		return nil, err
	}
	refs, err := c.FindReferencingSymbols(ctx, sym.NamePath, rel)
	if err != nil {
		return nil, err
	}
	var out []codectx.Reference
	for _, r := range refs {
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, codectx.Reference{
			Location:  codectx.Location{Path: c.absPath(r.RelativePath), Range: referenceRange(r, sym.Name)},
			Snippet:   r.Snippet,
			Container: r.NamePath,
		})
	}
	return out, nil
}

// referenceRange places the reference on its marked line, at the first
// occurrence of the symbol's name there.
func referenceRange(r ReferenceInfo, name string) codectx.Range {
	line := r.Line
	if line < 0 && r.BodyLocation.valid() {
		line = r.BodyLocation.StartLine
	}
	pos := codectx.Position{Line: max(line, 0)}
	marked := ""
	for _, l := range strings.Split(r.Raw, "\n") {
		if m := refLineRe.FindStringSubmatch(l); m != nil && m[1] == "  >" {
			marked = m[3]
			break
		}
	}
	if i := strings.Index(marked, name); i >= 0 && name != "" {
		pos.Character = codectx.UTF16Len(marked[:i])
		return codectx.Range{Start: pos, End: codectx.Position{Line: pos.Line, Character: pos.Character + codectx.UTF16Len(name)}}
	}
	return codectx.Range{Start: pos, End: pos}
}

// Diagnostics implements codectx.Source with get_diagnostics_for_file.
func (c *Client) Diagnostics(ctx context.Context, q codectx.Query, sym *codectx.Symbol) ([]codectx.Diagnostic, error) {
	if !c.HasTool(ToolGetDiagnosticsForFile) {
		return nil, codectx.ErrUnsupported
	}
	rel, err := c.RelPath(q.Path)
	if err != nil {
		return nil, err
	}
	ds, err := c.GetDiagnosticsForFile(ctx, rel, 0, -1)
	if err != nil {
		return nil, err
	}
	out := make([]codectx.Diagnostic, 0, len(ds))
	for _, d := range ds {
		out = append(out, codectx.Diagnostic{Path: c.absPath(d.RelativePath), Range: d.Range, Severity: d.Severity,
			Message: d.Message, Source: d.Source, Code: d.Code})
	}
	return out, nil
}

// symbolCache keeps hover texts fetched along with symbols for a short
// while, so Hover right after Symbol costs no second call.
type symbolCache struct {
	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	info string
	at   time.Time
}

const cacheTTL = time.Minute

func (sc *symbolCache) put(path, namePath, info string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.m == nil {
		sc.m = map[string]cacheEntry{}
	}
	now := time.Now()
	for k, e := range sc.m {
		if now.Sub(e.at) > cacheTTL {
			delete(sc.m, k)
		}
	}
	sc.m[path+"\x00"+namePath] = cacheEntry{info: info, at: now}
}

func (sc *symbolCache) get(path, namePath string) (string, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.m[path+"\x00"+namePath]
	if !ok || time.Since(e.at) > cacheTTL {
		return "", false
	}
	return e.info, true
}
