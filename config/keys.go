package config

import (
	"encoding"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Class says what a configuration key can do, and so whether a workspace
// file that nobody trusted may set it.
type Class string

const (
	// ClassSafe keys only steer routing, prompts and limits: they cannot
	// run a program, reach a new host or weaken security.
	ClassSafe Class = "safe"
	// ClassProgram keys name a program to run or a file to read or write.
	ClassProgram Class = "program"
	// ClassEndpoint keys name a server to talk to or a credential for one.
	ClassEndpoint Class = "endpoint"
	// ClassLoosens keys can weaken the air gap, the audit log or a limit.
	ClassLoosens Class = "loosens"
)

// rule is how an untrusted workspace file is treated for one key: safe keys
// apply; other keys apply only when narrows says the value is at least as
// strict as the one it replaces (base is invalid when nothing was set).
type rule struct {
	class   Class
	narrows func(base, ws reflect.Value) bool
}

// keyRules classifies every configuration key. A pattern's "*" stands for
// one map key (a service, language or model name). A key missing here is
// never taken from an untrusted workspace file (TestEveryKeyIsClassified
// names it), so a new setting fails closed until someone classifies it.
var keyRules = map[string]rule{
	"services.*.enabled":     {ClassEndpoint, onlyFalse},
	"services.*.endpoint":    {class: ClassEndpoint},
	"services.*.priority":    {class: ClassSafe},
	"services.*.timeout":     {class: ClassSafe},
	"services.*.max_retries": {class: ClassSafe},
	// A window only sizes prompts: a wrong one makes answers fail or
	// prompts shorter, never sends anything elsewhere.
	"services.*.context_length": {class: ClassSafe},
	"services.*.api_key_env":    {class: ClassEndpoint},
	// A key file is read and sent to the endpoint: a way to send any file.
	"services.*.api_key_file": {class: ClassEndpoint},
	// custom_endpoints is one value: a workspace cannot add endpoints, so
	// their context_length comes with the trusted entry.
	"custom_endpoints": {class: ClassEndpoint},

	"task_routing.*.primary_models":  {class: ClassSafe},
	"task_routing.*.fallback_models": {class: ClassSafe},
	"task_routing.*.min_context":     {class: ClassSafe},
	"task_routing.*.require_serena":  {class: ClassSafe},

	"routing.vram_ceiling_gb": {class: ClassSafe},
	"routing.llm_classifier":  {class: ClassSafe},
	"routing.discovery_ttl":   {class: ClassSafe},
	"routing.probe_timeout":   {class: ClassSafe},
	"routing.catalog_file":    {class: ClassProgram},

	"generation.connect_timeout":     {ClassLoosens, notAbove},
	"generation.first_token_timeout": {ClassLoosens, notAbove},
	"generation.idle_timeout":        {ClassLoosens, notAbove},
	"generation.total_timeout":       {ClassLoosens, notAbove},
	"generation.max_answer_tokens":   {ClassLoosens, notAbove},
	"generation.keep_alive":          {class: ClassSafe},

	"serena.enabled":       {ClassProgram, onlyFalse},
	"serena.command":       {class: ClassProgram},
	"serena.url":           {class: ClassEndpoint},
	"serena.workspace":     {class: ClassProgram},
	"serena.timeout":       {class: ClassSafe},
	"serena.start_timeout": {class: ClassSafe},

	"language_servers.*.command": {class: ClassProgram},
	"language_servers.*.enabled": {ClassProgram, onlyFalse},

	"context.compaction_threshold":     {class: ClassSafe},
	"context.compaction_target":        {class: ClassSafe},
	"context.preserve_recent_messages": {class: ClassSafe},
	"context.max_tool_output_tokens":   {class: ClassSafe},
	"context.max_references":           {class: ClassSafe},
	"context.max_file_bytes":           {ClassLoosens, notAbove},

	// The lean request path (issue 16): how long to wait for the editor's
	// context answers, and when to stop lsp-router's own language servers.
	"context.editor_timeout":                {class: ClassSafe},
	"context.language_servers_idle_timeout": {class: ClassSafe},

	"security.allow_external":   {ClassLoosens, onlyFalse},
	"security.allowed_hosts":    {ClassLoosens, subset},
	"security.allowed_cidrs":    {ClassLoosens, subset},
	"security.allow_proxy":      {ClassLoosens, onlyFalse},
	"security.audit_enabled":    {ClassLoosens, onlyTrue},
	"security.audit_log_path":   {class: ClassLoosens},
	"security.audit_max_bytes":  {class: ClassLoosens},
	"security.audit_on_failure": {ClassLoosens, onlyString("refuse")},
	// "background" lets a power cut lose the last records: not a repository's choice.
	"security.audit_fsync": {ClassLoosens, onlyString("query")},
	// The key proves the log's integrity: a repository must not choose it.
	"security.audit_key_file":        {class: ClassLoosens},
	"security.log_queries":           {ClassLoosens, onlyTrue},
	"security.log_queries_plaintext": {ClassLoosens, onlyFalse},
	"security.log_responses":         {class: ClassLoosens},
	"security.verify_checksums":      {ClassLoosens, onlyTrue},
	"security.model_pins.*":          {class: ClassLoosens},
	"security.redaction.enabled":     {ClassLoosens, onlyTrue},
	// More patterns only hide more; RE2 keeps them linear and they are capped.
	"security.redaction.extra_patterns": {class: ClassSafe},

	"prompts.*": {class: ClassSafe},

	// Writing files on an agent's word is the user's choice alone.
	"mcp.allow_apply": {ClassLoosens, onlyFalse},

	// Completions steer which local model completes and within what
	// limits; none names a server, a program or a file.
	"completion.enabled":              {class: ClassSafe},
	"completion.model":                {class: ClassSafe},
	"completion.max_tokens":           {class: ClassSafe},
	"completion.max_lines":            {class: ClassSafe},
	"completion.context_tokens":       {class: ClassSafe},
	"completion.debounce":             {class: ClassSafe},
	"completion.timeout":              {class: ClassSafe},
	"completion.lsp_completion_items": {class: ClassSafe},

	"agents.*.task_routing.*.primary_models":  {class: ClassSafe},
	"agents.*.task_routing.*.fallback_models": {class: ClassSafe},
	"agents.*.task_routing.*.min_context":     {class: ClassSafe},
	"agents.*.task_routing.*.require_serena":  {class: ClassSafe},

	// A repository must not open a port or choose who may use it.
	"gateway.listen":                 {class: ClassLoosens},
	"gateway.keys_file":              {class: ClassProgram},
	"gateway.max_request_bytes":      {ClassLoosens, notAbove},
	"gateway.max_concurrent_per_key": {ClassLoosens, notAbove},
}

// untrustedVerdict says whether an untrusted workspace may set the key at
// path to ws over base, and the key's class.
func untrustedVerdict(pattern string, base, ws reflect.Value) (Class, bool) {
	r, ok := keyRules[pattern]
	if !ok {
		return ClassLoosens, false
	}
	if r.class == ClassSafe {
		return r.class, true
	}
	return r.class, r.narrows != nil && ws.IsValid() && r.narrows(base, ws)
}

func boolOf(v reflect.Value) (val, set bool) {
	if !v.IsValid() {
		return false, false
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Bool {
		return false, false
	}
	return v.Bool(), true
}

func onlyFalse(_, ws reflect.Value) bool {
	b, set := boolOf(ws)
	return set && !b
}

// onlyString accepts exactly the strict value of a string setting.
func onlyString(strict string) func(_, ws reflect.Value) bool {
	return func(_, ws reflect.Value) bool {
		return ws.IsValid() && ws.Kind() == reflect.String && ws.String() == strict
	}
}

func onlyTrue(_, ws reflect.Value) bool {
	b, set := boolOf(ws)
	return set && b
}

// number reads ints, floats and Durations as one float for comparisons.
func number(v reflect.Value) (float64, bool) {
	if !v.IsValid() {
		return 0, false
	}
	if d, ok := v.Interface().(Duration); ok {
		return float64(d.Duration), true
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return 0, false
}

// notAbove accepts a positive limit no larger than the one it replaces
// (zero means "the built-in default", which may be larger).
func notAbove(base, ws reflect.Value) bool {
	w, ok := number(ws)
	if !ok || w <= 0 {
		return false
	}
	b, ok := number(base)
	return ok && b > 0 && w <= b
}

// subset accepts a list that only drops entries of the one it replaces.
func subset(base, ws reflect.Value) bool {
	if ws.Kind() != reflect.Slice {
		return false
	}
	var have []string
	if base.IsValid() && base.Kind() == reflect.Slice {
		for i := range base.Len() {
			have = append(have, base.Index(i).String())
		}
	}
	for i := range ws.Len() {
		if !slices.Contains(have, ws.Index(i).String()) {
			return false
		}
	}
	return true
}

// ---- paths into Config, by TOML key ----

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// isLeafType reports types whose value is set as a whole: scalars, lists
// and values written as text (durations).
func isLeafType(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(textUnmarshaler) || t == reflect.TypeFor[time.Duration]() {
		return true
	}
	return t.Kind() != reflect.Struct && t.Kind() != reflect.Map
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name != "" && name != "-" && name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// typeAt resolves path against Config and returns the type it names and the
// rule pattern ("services.*.endpoint"); ok is false for no such key.
func typeAt(path []string) (t reflect.Type, pattern string, ok bool) {
	t = reflect.TypeFor[Config]()
	out := make([]string, 0, len(path))
	for _, seg := range path {
		switch {
		case isLeafType(t):
			return nil, "", false
		case t.Kind() == reflect.Struct:
			f, found := fieldByKey(t, seg)
			if !found {
				return nil, "", false
			}
			out = append(out, seg)
			t = f.Type
		default: // map
			out = append(out, "*")
			t = t.Elem()
		}
	}
	return t, strings.Join(out, "."), true
}

// getPath returns the value at path under v, invalid when a map entry on
// the way is absent.
func getPath(v reflect.Value, path []string) reflect.Value {
	for _, seg := range path {
		switch v.Kind() {
		case reflect.Struct:
			f, ok := fieldByKey(v.Type(), seg)
			if !ok {
				return reflect.Value{}
			}
			v = v.FieldByIndex(f.Index)
		case reflect.Map:
			v = v.MapIndex(reflect.ValueOf(seg))
			if !v.IsValid() {
				return v
			}
		default:
			return reflect.Value{}
		}
	}
	return v
}

// setPath stores src at path under dst (addressable), creating map entries
// on the way and keeping the other fields of each entry: that is what makes
// the merge key by key. An invalid src only creates the entries.
func setPath(dst reflect.Value, path []string, src reflect.Value) {
	if len(path) == 0 {
		if src.IsValid() {
			dst.Set(src)
		}
		return
	}
	switch dst.Kind() {
	case reflect.Struct:
		if f, ok := fieldByKey(dst.Type(), path[0]); ok {
			setPath(dst.FieldByIndex(f.Index), path[1:], src)
		}
	case reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		key := reflect.ValueOf(path[0])
		elem := reflect.New(dst.Type().Elem()).Elem()
		if cur := dst.MapIndex(key); cur.IsValid() {
			elem.Set(cur)
		}
		setPath(elem, path[1:], src)
		dst.SetMapIndex(key, elem)
	}
}

// leafPatterns lists every key pattern of Config, for the classification
// test and for reviewers.
func leafPatterns() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		if isLeafType(t) {
			out = append(out, prefix)
			return
		}
		if t.Kind() == reflect.Map {
			walk(t.Elem(), prefix+".*")
			return
		}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			walk(t.Field(i).Type, p)
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

// displayKey joins a path as a TOML dotted key, quoting parts that are not
// bare keys (model names have dots and colons).
func displayKey(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		if p != "" && strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == "" {
			parts[i] = p
		} else {
			parts[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
		}
	}
	return strings.Join(parts, ".")
}
