package serenatest

import (
	"fmt"
	"regexp"
	"strings"
)

func (p *Project) file(rel string) (*File, error) {
	f := p.Files[strings.ReplaceAll(rel, "\\", "/")]
	if f == nil {
		return nil, &toolErr{"FileNotFoundError", fmt.Sprintf("File %s not found in the project", rel)}
	}
	return f, nil
}

// matchNamePath implements Serena's name path matching: a leading "/"
// anchors at the file root, otherwise the pattern matches a suffix of
// whole elements; overload indexes are ignored; substring matching applies
// to the last element.
func matchNamePath(pattern, namePath string, substring bool) bool {
	strip := regexp.MustCompile(`\[\d+\]`)
	pattern, namePath = strip.ReplaceAllString(pattern, ""), strip.ReplaceAllString(namePath, "")
	anchored := strings.HasPrefix(pattern, "/")
	pat := strings.Split(strings.Trim(pattern, "/"), "/")
	np := strings.Split(namePath, "/")
	if len(pat) > len(np) || (anchored && len(pat) != len(np)) {
		return false
	}
	np = np[len(np)-len(pat):]
	for i := range pat {
		last := i == len(pat)-1
		if last && substring {
			if !strings.Contains(np[i], pat[i]) {
				return false
			}
		} else if np[i] != pat[i] {
			return false
		}
	}
	return true
}

func (p *Project) filesUnder(rel string) []string {
	rel = strings.Trim(strings.ReplaceAll(rel, "\\", "/"), "/")
	var out []string
	for _, f := range p.sortedFiles() {
		if rel == "" || f == rel || strings.HasPrefix(f, rel+"/") {
			out = append(out, f)
		}
	}
	return out
}

// toDict is LanguageServerSymbol.to_dict (src/serena/symbol.py at
// 7fcbca7e) for the flags the tools use: the children are full dicts here,
// grouping happens afterwards.
type dictFlags struct {
	namePath, name, kind, relPath, bodyLocation, body bool
	childName, childNamePath                          bool
	depth                                             int
	// onlyContainers is get_symbols_overview's child_inclusion_predicate
	// (not is_low_level()).
	onlyContainers bool
}

func toDict(rel string, f *File, s *Symbol, fl dictFlags) Obj {
	var o Obj
	if fl.namePath {
		o = append(o, Field{"name_path", s.NamePath})
	}
	if fl.name {
		o = append(o, Field{"name", s.Name()})
	}
	if fl.kind {
		o = append(o, Field{"kind", s.Kind})
	}
	if fl.relPath {
		o = append(o, Field{"relative_path", rel})
	}
	if fl.bodyLocation {
		o = append(o, Field{"body_location", Obj{{"start_line", s.StartLine}, {"end_line", s.EndLine}}})
	}
	if fl.body {
		o = append(o, Field{"body", body(f.Text, s)})
	}
	if fl.depth > 0 {
		child := fl
		// children_name_path / children_name apply to every level below;
		// children never carry a relative path or (here) a body.
		child.namePath, child.name, child.relPath, child.body = fl.childNamePath, fl.childName, false, false
		child.depth = fl.depth - 1
		var kids []Obj
		for _, c := range s.Children {
			if fl.onlyContainers && !containerKinds[c.Kind] {
				continue
			}
			kids = append(kids, toDict(rel, f, c, child))
		}
		if len(kids) > 0 {
			o = append(o, Field{"children", kids})
		}
	}
	return o
}

// containerKinds is SymbolKind.is_container
// (src/solidlsp/lsp_protocol_handler/lsp_types.py at 7fcbca7e).
var containerKinds = map[string]bool{
	"File": true, "Module": true, "Namespace": true, "Package": true, "Class": true, "Method": true,
	"Constructor": true, "Enum": true, "Interface": true, "Function": true, "Object": true, "Struct": true,
}

// overview is GetSymbolsOverviewTool.apply (src/serena/tools/symbol_tools.py
// at 7fcbca7e): names grouped by kind, children too, collapsed.
func (p *Project) overview(a args) (string, error) {
	rel := a.str("relative_path")
	f := p.Files[strings.ReplaceAll(rel, "\\", "/")]
	if f == nil {
		return "", &toolErr{"FileNotFoundError", fmt.Sprintf("File or directory %s does not exist in the project.", rel)}
	}
	depth := a.num("depth", -1)
	if depth == -1 {
		depth = 0 // 1 for .java and .kt only
	}
	var dicts []Obj
	var kinds []string
	for _, s := range f.Symbols {
		dicts = append(dicts, toDict(rel, f, s, dictFlags{name: true, childName: true, kind: true, depth: depth, onlyContainers: true}))
		kinds = append(kinds, s.Kind)
	}
	result := PyJSON(groupDicts(dicts, []string{"kind"}, []string{"kind"}, true))
	if len(dicts) == 0 {
		result = "{}"
	}
	return limitLength(result, a.num("max_answer_chars", -1), func() string {
		return "Symbol counts by kind:\n" + PyJSON(counter(kinds))
	}), nil
}

// counter is collections.Counter as json.dumps writes it: first-seen order.
func counter(keys []string) Obj {
	var o Obj
	for _, k := range keys {
		found := false
		for i := range o {
			if o[i].K == k {
				o[i].V = o[i].V.(int) + 1
				found = true
			}
		}
		if !found {
			o = append(o, Field{k, 1})
		}
	}
	return o
}

// findSymbol is FindSymbolTool.apply (src/serena/tools/symbol_tools.py at
// 7fcbca7e; the same since v1.0.0): depth is ignored with include_body,
// info is added only without include_body and never to children, and the
// children are grouped by kind with only their name and body_location.
// Options.LegacyChildren serves Serena 0.1.x's list of full child dicts.
func (p *Project) findSymbol(a args, legacy bool) (string, error) {
	pattern := a.str("name_path_pattern")
	if pattern == "" {
		pattern = a.str("name_path")
	}
	withBody, withInfo := a.flag("include_body"), a.flag("include_info")
	depth := a.num("depth", 0)
	if withBody {
		depth = 0
	}
	type match struct {
		rel string
		s   *Symbol
	}
	var matches []match
	for _, rel := range p.filesUnder(a.str("relative_path")) {
		f := p.Files[rel]
		walk(f.Symbols, func(s *Symbol) {
			if matchNamePath(pattern, s.NamePath, a.flag("substring_matching")) {
				matches = append(matches, match{rel, s})
			}
		})
	}
	shortened := func() string {
		var byFile Obj
		for _, m := range matches {
			byFile = appendToList(byFile, m.rel, m.s.NamePath)
		}
		if byFile == nil {
			byFile = Obj{}
		}
		return "Shortened result:\n" + PyJSON(byFile)
	}
	if mm := a.num("max_matches", -1); mm > 0 && len(matches) > mm {
		return fmt.Sprintf("Matched %d>max_matches=%d symbols.\n", len(matches), mm) + shortened(), nil
	}
	var dicts []Obj
	for _, m := range matches {
		f := p.Files[m.rel]
		fl := dictFlags{kind: true, namePath: true, relPath: true, bodyLocation: true, depth: depth, body: withBody,
			childName: true}
		if legacy {
			fl.childNamePath = true
		}
		d := toDict(m.rel, f, m.s, fl)
		if !withBody && withInfo && m.s.Info != "" {
			d = append(d, Field{"info", m.s.Info})
		}
		dicts = append(dicts, d)
	}
	var result string
	if legacy {
		out := make([]any, len(dicts))
		for i, d := range dicts {
			out[i] = legacyChildren(d)
		}
		result = PyJSON(out)
	} else {
		result = PyJSON(groupDicts(dicts, nil, []string{"kind"}, true))
	}
	return limitLength(result, a.num("max_answer_chars", -1), shortened), nil
}

// legacyChildren leaves the children of d as a list of full dicts, as
// Serena before 1.0.0 sent them (to_dict with name, name_path, kind and
// body_location on every child).
func legacyChildren(d Obj) Obj {
	out := append(Obj(nil), d...)
	for i, f := range out {
		if f.K == "children" {
			kids := f.V.([]Obj)
			list := make([]any, len(kids))
			for j, k := range kids {
				list[j] = legacyChildren(k)
			}
			out[i].V = list
		}
	}
	return out
}

// appendToList appends v to the list under key k, keeping key order.
func appendToList(o Obj, k string, v any) Obj {
	for i := range o {
		if o[i].K == k {
			o[i].V = append(o[i].V.([]any), v)
			return o
		}
	}
	return append(o, Field{k, []any{v}})
}

// resolve finds exactly one symbol, or fails as Serena does.
func (p *Project) resolve(namePath, rel string) (*File, *Symbol, error) {
	f, err := p.file(rel)
	if err != nil {
		return nil, nil, err
	}
	var found []*Symbol
	walk(f.Symbols, func(s *Symbol) {
		if matchNamePath(namePath, s.NamePath, false) {
			found = append(found, s)
		}
	})
	switch len(found) {
	case 0:
		return nil, nil, valueError("No symbol matching '%s' found", namePath)
	case 1:
		return f, found[0], nil
	}
	// LanguageServerSymbolRetriever.find_unique (src/serena/symbol.py at
	// 7fcbca7e): an exact name path among several matches wins, otherwise
	// the candidates are listed with json.dumps(..., indent=2).
	var exact []*Symbol
	for _, s := range found {
		if s.NamePath == namePath {
			exact = append(exact, s)
		}
	}
	if len(exact) == 1 {
		return f, exact[0], nil
	}
	var list strings.Builder
	list.WriteString("[")
	for i, s := range found {
		if i > 0 {
			list.WriteString(",")
		}
		fmt.Fprintf(&list, "\n  {\n    \"name_path\": %s,\n    \"kind\": %s,\n    \"relative_path\": %s\n  }", PyJSON(s.NamePath), PyJSON(s.Kind), PyJSON(rel))
	}
	list.WriteString("\n]")
	return nil, nil, valueError("Found multiple %d symbols matching '%s'. They are: \n%s", len(found), namePath, list.String())
}

func (p *Project) findReferencing(a args) (string, error) {
	rel := strings.ReplaceAll(a.str("relative_path"), "\\", "/")
	_, target, err := p.resolve(a.str("name_path"), rel)
	if err != nil {
		return "", err
	}
	var dicts, summaries []Obj
	for _, r := range p.Refs {
		if r.Target != target.NamePath || r.TargetFile != rel {
			continue
		}
		f := p.Files[r.File]
		var container *Symbol
		walk(f.Symbols, func(s *Symbol) {
			if s.NamePath == r.Container {
				container = s
			}
		})
		d := toDict(r.File, f, container, dictFlags{namePath: true, kind: true, relPath: true, bodyLocation: true})
		dicts = append(dicts, append(d, Field{"content_around_reference", contentAround(f.Text, r.Line)}))
		summaries = append(summaries, Obj{{"name_path", container.NamePath}, {"kind", container.Kind},
			{"relative_path", r.File}, {"reference_line", r.Line}})
	}
	grouper := func(ds []Obj) string {
		g := groupDicts(ds, []string{"relative_path", "kind"}, []string{"kind"}, true).(Obj)
		if g == nil {
			return "{}"
		}
		return PyJSON(g)
	}
	return limitLength(grouper(dicts), a.num("max_answer_chars", -1),
		func() string { return "References without surrounding lines:\n" + grouper(summaries) },
		func() string {
			var files []string
			for _, s := range summaries {
				v, _ := s.get("relative_path")
				files = append(files, v.(string))
			}
			return "Reference counts per file:\n" + PyJSON(counter(files))
		},
		func() string { return fmt.Sprintf("Found %d references.", len(summaries)) }), nil
}

func (p *Project) findDeclaration(a args) (string, error) {
	re, err := regexp.Compile(a.str("regex"))
	if err != nil {
		return "", valueError("invalid regex: %v", err)
	}
	if re.NumSubexp() != 1 {
		return "", valueError("The regex must contain exactly one group, found %d", re.NumSubexp())
	}
	rel := a.str("relative_path")
	f, err := p.file(rel)
	if err != nil {
		return "", err
	}
	m := re.FindStringSubmatch(f.Text)
	if m == nil {
		return "", valueError("No match for regex %q in %s", a.str("regex"), rel)
	}
	ident := m[1]
	for _, frel := range p.sortedFiles() {
		ff := p.Files[frel]
		var hit *Symbol
		walk(ff.Symbols, func(s *Symbol) {
			if hit == nil && s.Name() == ident {
				hit = s
			}
		})
		if hit != nil {
			// FindDeclarationTool._defining_symbol_to_result_dict: info only
			// without the body.
			d := toDict(frel, ff, hit, dictFlags{namePath: true, kind: true, relPath: true, bodyLocation: true, body: a.flag("include_body")})
			if !a.flag("include_body") && a.flag("include_info") && hit.Info != "" {
				d = append(d, Field{"info", hit.Info})
			}
			return PyJSON(d), nil
		}
	}
	return "", valueError("No declaration found for '%s'", ident)
}

var severityRank = map[string]int{"Error": 1, "Warning": 2, "Information": 3, "Hint": 4}

func (p *Project) diagnostics(a args) (string, error) {
	rel := strings.ReplaceAll(a.str("relative_path"), "\\", "/")
	if _, err := p.file(rel); err != nil {
		return "", err
	}
	start, end, minSev := a.num("start_line", 0), a.num("end_line", -1), a.num("min_severity", 4)
	var bySev Obj
	for _, sev := range []string{"Error", "Warning", "Information", "Hint"} {
		if severityRank[sev] > minSev {
			continue
		}
		var owners Obj
		for _, d := range p.Diags {
			if d.File != rel || d.Severity != sev || d.EndLine < start || (end >= 0 && d.StartLine > end) {
				continue
			}
			entry := Obj{{"message", d.Message}, {"range", Obj{
				{"start", Obj{{"line", d.StartLine}, {"character", d.StartChar}}},
				{"end", Obj{{"line", d.EndLine}, {"character", d.EndChar}}}}}}
			if d.Code != nil {
				entry = append(entry, Field{"code", d.Code})
			}
			if d.Source != "" {
				entry = append(entry, Field{"source", d.Source})
			}
			found := false
			for i := range owners {
				if owners[i].K == d.Owner {
					owners[i].V = append(owners[i].V.([]any), entry)
					found = true
				}
			}
			if !found {
				owners = append(owners, Field{d.Owner, []any{entry}})
			}
		}
		if owners != nil {
			bySev = append(bySev, Field{sev, owners})
		}
	}
	if bySev == nil {
		bySev = Obj{}
	}
	return PyJSON(Obj{{rel, bySev}}), nil
}

// edit applies replace_symbol_body and insert_before/after_symbol to the
// file's text and shifts the line numbers the edit moved.
func (p *Project) edit(tool string, a args) (string, error) {
	rel := strings.ReplaceAll(a.str("relative_path"), "\\", "/")
	f, s, err := p.resolve(a.str("name_path"), rel)
	if err != nil {
		return "", err
	}
	ls := lines(f.Text)
	newBody := lines(a.str("body"))
	var out []string
	var at, removed int
	switch tool {
	case "replace_symbol_body":
		first := ls[s.StartLine][:min(s.StartCol, len(ls[s.StartLine]))] + newBody[0]
		out = append(append(append(append([]string{}, ls[:s.StartLine]...), first), newBody[1:]...), ls[s.EndLine+1:]...)
		at, removed = s.StartLine, s.EndLine-s.StartLine+1
		s.EndLine = s.StartLine + len(newBody) - 1
	case "insert_before_symbol":
		out = append(append(append([]string{}, ls[:s.StartLine]...), newBody...), ls[s.StartLine:]...)
		at = s.StartLine
	case "insert_after_symbol":
		out = append(append(append([]string{}, ls[:s.EndLine+1]...), newBody...), ls[s.EndLine+1:]...)
		at = s.EndLine + 1
	}
	delta := len(out) - len(ls)
	f.Text = strings.Join(out, "\n") + "\n"
	shift := func(l *int) {
		if *l >= at+removed || (tool == "insert_before_symbol" && *l >= at) {
			*l += delta
		}
	}
	walk(f.Symbols, func(o *Symbol) {
		if o == s && tool == "replace_symbol_body" {
			return
		}
		if o.StartLine < at && o.EndLine >= at { // an enclosing symbol grows
			o.EndLine += delta
			return
		}
		shift(&o.StartLine)
		shift(&o.EndLine)
	})
	for i := range p.Refs {
		if p.Refs[i].File == rel {
			shift(&p.Refs[i].Line)
		}
	}
	return "OK", nil
}

func (p *Project) rename(a args) (string, error) {
	rel := strings.ReplaceAll(a.str("relative_path"), "\\", "/")
	_, s, err := p.resolve(a.str("name_path"), rel)
	if err != nil {
		return "", err
	}
	old, newName := s.NamePath, a.str("new_name")
	if newName == "" {
		return "", valueError("new_name must not be empty")
	}
	changes := 1
	prefix := old[:len(old)-len(s.Name())]
	s.NamePath = prefix + newName
	for i := range p.Refs {
		if p.Refs[i].Target == old && p.Refs[i].TargetFile == rel {
			p.Refs[i].Target = s.NamePath
			changes++
		}
	}
	return fmt.Sprintf("Successfully renamed '%s' to '%s' (%d changes applied)", old, newName, changes), nil
}
