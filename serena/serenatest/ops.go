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

func symbolDict(rel string, f *File, s *Symbol, depth int, withBody, withInfo bool) Obj {
	o := Obj{{"name_path", s.NamePath}, {"kind", s.Kind}, {"relative_path", rel},
		{"body_location", Obj{{"start_line", s.StartLine}, {"end_line", s.EndLine}}}}
	if withBody {
		o = append(o, Field{"body", body(f.Text, s)})
	}
	if withInfo {
		o = append(o, Field{"info", s.Info})
	}
	if depth > 0 && len(s.Children) > 0 {
		var kids []Obj
		for _, c := range s.Children {
			kids = append(kids, symbolDict(rel, f, c, depth-1, withBody, withInfo))
		}
		o = append(o, Field{"children", kids})
	}
	return o
}

func (p *Project) overview(a args) (string, error) {
	f, err := p.file(a.str("relative_path"))
	if err != nil {
		return "", err
	}
	var kinds Obj
	idx := map[string]int{}
	for _, s := range f.Symbols {
		i, ok := idx[s.Kind]
		if !ok {
			i = len(kinds)
			idx[s.Kind] = i
			kinds = append(kinds, Field{s.Kind, []any{}})
		}
		var entry any = s.Name()
		if a.num("depth", 0) >= 1 && len(s.Children) > 0 {
			var ck Obj
			for _, c := range s.Children {
				ck = append(ck, Field{c.Kind, []any{c.Name()}})
			}
			entry = Obj{{s.Name(), ck}}
		}
		kinds[i].V = append(kinds[i].V.([]any), entry)
	}
	if kinds == nil {
		return "{}", nil
	}
	return PyJSON(kinds), nil
}

func (p *Project) findSymbol(a args) (string, error) {
	pattern := a.str("name_path_pattern")
	if pattern == "" {
		pattern = a.str("name_path")
	}
	var out []Obj
	for _, rel := range p.filesUnder(a.str("relative_path")) {
		f := p.Files[rel]
		walk(f.Symbols, func(s *Symbol) {
			if matchNamePath(pattern, s.NamePath, a.flag("substring_matching")) {
				out = append(out, symbolDict(rel, f, s, a.num("depth", 0), a.flag("include_body"), a.flag("include_info")))
			}
		})
	}
	if mm := a.num("max_matches", -1); mm > 0 && len(out) > mm {
		return fmt.Sprintf("Matched %d>max_matches=%d symbols. Please refine the name path pattern or the relative path.", len(out), mm), nil
	}
	if out == nil {
		return "[]", nil
	}
	return PyJSON(out), nil
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
	var names []string
	for _, s := range found {
		names = append(names, s.NamePath)
	}
	return nil, nil, valueError("Found multiple symbols matching '%s': %s; use a more specific name path", namePath, strings.Join(names, ", "))
}

func (p *Project) findReferencing(a args) (string, error) {
	rel := strings.ReplaceAll(a.str("relative_path"), "\\", "/")
	_, target, err := p.resolve(a.str("name_path"), rel)
	if err != nil {
		return "", err
	}
	var byFile Obj
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
		entry := Obj{{"name_path", r.Container}, {"body_location", Obj{{"start_line", container.StartLine}, {"end_line", container.EndLine}}},
			{"content_around_reference", contentAround(f.Text, r.Line)}}
		byFile = appendGrouped(byFile, r.File, r.ContainerKd, entry)
	}
	if byFile == nil {
		return "{}", nil
	}
	return PyJSON(byFile), nil
}

// appendGrouped appends entry under byFile[file][kind], keeping order.
func appendGrouped(byFile Obj, file, kind string, entry any) Obj {
	fi := -1
	for i, f := range byFile {
		if f.K == file {
			fi = i
		}
	}
	if fi < 0 {
		byFile = append(byFile, Field{file, Obj{}})
		fi = len(byFile) - 1
	}
	kinds := byFile[fi].V.(Obj)
	ki := -1
	for i, k := range kinds {
		if k.K == kind {
			ki = i
		}
	}
	if ki < 0 {
		kinds = append(kinds, Field{kind, []any{}})
		ki = len(kinds) - 1
	}
	kinds[ki].V = append(kinds[ki].V.([]any), entry)
	byFile[fi].V = kinds
	return byFile
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
			return PyJSON(symbolDict(frel, ff, hit, 0, a.flag("include_body"), a.flag("include_info"))), nil
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
