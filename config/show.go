package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Value is one effective setting and the layer it came from.
type Value struct {
	Key    string `json:"key"`
	Value  any    `json:"value"`
	Origin Origin `json:"origin"`
	// Line is set for ignored workspace keys.
	Line int `json:"line,omitempty"`
}

// Values lists every setting of c with its origin, in file order (tables
// as in Config, map entries sorted), followed by the workspace keys that
// were ignored.
func Values(c *Config) []Value {
	var out []Value
	origins := map[string]Origin{}
	if c.Provenance != nil {
		origins = c.Provenance.Origins
	}
	var walk func(v reflect.Value, path []string)
	walk = func(v reflect.Value, path []string) {
		t := v.Type()
		if len(path) > 0 && isLeafType(t) {
			key := displayKey(path)
			o, ok := origins[key]
			if !ok {
				o = OriginDefault
			}
			out = append(out, Value{Key: key, Value: plain(v), Origin: o})
			return
		}
		if t.Kind() == reflect.Map {
			keys := make([]string, 0, v.Len())
			for _, k := range v.MapKeys() {
				keys = append(keys, k.String())
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(v.MapIndex(reflect.ValueOf(k)), append(slices.Clone(path), k))
			}
			return
		}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			walk(v.Field(i), append(slices.Clone(path), name))
		}
	}
	walk(reflect.ValueOf(c).Elem(), nil)
	if c.Provenance != nil {
		for _, ig := range c.Provenance.Ignored {
			out = append(out, Value{Key: ig.Key, Value: plainAny(ig.Value), Origin: OriginIgnored, Line: ig.Line})
		}
	}
	return out
}

// plain turns a typed value into the JSON-shaped value its key takes
// (durations as "30s", unset pointers as nil).
func plain(v reflect.Value) any {
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil():
		return nil
	case v.Kind() == reflect.Slice && v.Len() == 0:
		return []any{}
	}
	return plainAny(v.Interface())
}

func plainAny(x any) any {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return fmt.Sprint(x)
	}
	return out
}

// TOMLValue writes a Values value as TOML (lists of tables as inline
// tables), for `config show`.
func TOMLValue(x any) string {
	switch v := x.(type) {
	case nil:
		return "# unset"
	case string:
		b, _ := json.Marshal(v) // JSON string escapes are valid TOML basic-string escapes
		return string(b)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = TOMLValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = displayKey([]string{k}) + " = " + TOMLValue(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(x)
}
