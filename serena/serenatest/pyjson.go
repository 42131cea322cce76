package serenatest

import (
	"fmt"
	"strconv"
	"strings"
)

// Field is one key of an ordered JSON object.
type Field struct {
	K string
	V any
}

// Obj is a JSON object whose keys keep their order, as Python dicts do.
type Obj []Field

// PyJSON encodes v exactly as Serena serialises tool answers,
// json.dumps(x, ensure_ascii=False) (Tool._to_json in
// src/serena/tools/tools_base.py, since v1.0.0): ", " and ": " separators,
// keys in insertion order, non-ASCII characters as they are, and only the
// control characters, '"' and '\' escaped. Supported values: nil, bool,
// int, float64, string, Obj, []any, []Obj, []string.
func PyJSON(v any) string {
	var b strings.Builder
	writePy(&b, v)
	return b.String()
}

func writePy(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		writePyString(b, x)
	case Obj:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, f.K)
			b.WriteString(": ")
			writePy(b, f.V)
		}
		b.WriteByte('}')
	case []Obj:
		items := make([]any, len(x))
		for i := range x {
			items[i] = x[i]
		}
		writePy(b, items)
	case []string:
		items := make([]any, len(x))
		for i := range x {
			items[i] = x[i]
		}
		writePy(b, items)
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePy(b, it)
		}
		b.WriteByte(']')
	default:
		panic(fmt.Sprintf("PyJSON: unsupported type %T", v))
	}
}

func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
