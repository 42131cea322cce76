package serenatest

import (
	"strconv"
	"unicode/utf8"
)

// This file mirrors how Serena turns symbol dicts into answer text. The
// upstream code is oraios/serena at 7fcbca7e (v1.7.0-19-g7fcbca7e,
// 2026-08-20; the grouping is unchanged since v1.0.0):
//   - SymbolDictGrouper._group_by / _transform_item in src/serena/symbol.py;
//   - Tool._limit_length in src/serena/tools/tools_base.py.

// get returns the value of key k in o.
func (o Obj) get(k string) (any, bool) {
	for _, f := range o {
		if f.K == k {
			return f.V, true
		}
	}
	return nil, false
}

// without returns o without key k and k's value ("unknown" when absent,
// as dict.pop(key, "unknown") in _group_by).
func (o Obj) without(k string) (Obj, any) {
	var v any = "unknown"
	out := make(Obj, 0, len(o))
	for _, f := range o {
		if f.K == k {
			v = f.V
			continue
		}
		out = append(out, f)
	}
	return out, v
}

// groupDicts is SymbolDictGrouper._group_by: it groups items by the values
// of keys (removing those keys), recursively, then groups each item's
// "children" by childKeys and collapses items when collapse is set. The
// result is an Obj of groups when keys is not empty, else a list.
func groupDicts(items []Obj, keys, childKeys []string, collapse bool) any {
	if len(keys) > 0 {
		var grouped Obj
		index := map[string]int{}
		var members [][]Obj
		for _, it := range items {
			rest, v := it.without(keys[0])
			key, _ := v.(string)
			i, ok := index[key]
			if !ok {
				i = len(members)
				index[key] = i
				members = append(members, nil)
				grouped = append(grouped, Field{key, nil})
			}
			members[i] = append(members[i], rest)
		}
		for i := range grouped {
			grouped[i].V = groupDicts(members[i], keys[1:], childKeys, collapse)
		}
		return grouped
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		it = append(Obj(nil), it...)
		for i, f := range it {
			if f.K == "children" {
				it[i].V = groupDicts(f.V.([]Obj), childKeys, childKeys, collapse)
			}
		}
		out = append(out, transformItem(it, collapse))
	}
	return out
}

// transformItem is SymbolDictGrouper._transform_item: with collapse, an
// item left with one key becomes that key's value ({"name": "foo"} ->
// "foo"), and an item left with one key besides "children" becomes
// {<value>: <children>}.
func transformItem(it Obj, collapse bool) any {
	if !collapse {
		return it
	}
	if len(it) == 1 {
		return it[0].V
	}
	if _, ok := it.get("children"); ok && len(it) == 2 {
		other, children := it[0], it[1]
		if other.K == "children" {
			other, children = it[1], it[0]
		}
		name, _ := other.V.(string)
		return Obj{{name, children.V}}
	}
	return it
}

// defaultMaxAnswerChars is SerenaConfig.default_max_tool_answer_chars.
const defaultMaxAnswerChars = 150000

// limitLength is Tool._limit_length: an answer longer than max characters
// (Python counts code points) is replaced by the too-long message followed
// by the first shortened form that fits, or by the message alone.
func limitLength(result string, max int, shorter ...func() string) string {
	if max <= 0 {
		max = defaultMaxAnswerChars
	}
	n := utf8.RuneCountInString(result)
	if n <= max {
		return result
	}
	msg := "The answer is too long (" + strconv.Itoa(n) + " characters). You can adjust your query or raise the max_answer_chars parameter."
	for _, f := range shorter {
		if c := msg + "\n" + f(); utf8.RuneCountInString(c) <= max {
			return c
		}
	}
	return msg
}
