package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Origin says where an effective value came from.
type Origin string

// The layers of a configuration, lowest first.
const (
	OriginDefault   Origin = "default"
	OriginUser      Origin = "user file"
	OriginWorkspace Origin = "workspace file"
	// OriginIgnored marks a workspace value that was not applied.
	OriginIgnored Origin = "workspace file (ignored: untrusted)"
	OriginEditor  Origin = "editor settings"
)

// Provenance records which files made a configuration and where each value
// came from, for `config show` and the untrusted-workspace notice.
type Provenance struct {
	UserFile         string `json:"user_file,omitempty"`
	WorkspaceFile    string `json:"workspace_file,omitempty"`
	WorkspaceTrusted bool   `json:"workspace_trusted"`
	WorkspaceSHA256  string `json:"workspace_sha256,omitempty"`
	// TrustProblem says why trust could not be checked (then the
	// workspace file counts as untrusted).
	TrustProblem string `json:"trust_problem,omitempty"`
	// Origins maps each key a layer set (displayKey form) to that layer;
	// keys not listed are defaults.
	Origins map[string]Origin `json:"origins,omitempty"`
	// Ignored lists the workspace keys that were not applied.
	Ignored []IgnoredKey `json:"ignored,omitempty"`
}

// IgnoredKey is one workspace key an untrusted file may not set.
type IgnoredKey struct {
	Key   string `json:"key"`
	Line  int    `json:"line,omitempty"`
	Class Class  `json:"class"`
	Value any    `json:"value"`
}

func (p *Provenance) clone() *Provenance {
	if p == nil {
		return nil
	}
	out := *p
	out.Origins = make(map[string]Origin, len(p.Origins))
	for k, v := range p.Origins {
		out.Origins[k] = v
	}
	out.Ignored = slices.Clone(p.Ignored)
	return &out
}

// IgnoredNotice is the one line that tells the user how many workspace keys
// were ignored and how to trust the file; "" when none was.
func (p *Provenance) IgnoredNotice() string {
	if p == nil || len(p.Ignored) == 0 {
		return ""
	}
	keys := "keys"
	if len(p.Ignored) == 1 {
		keys = "key"
	}
	why := ""
	if p.TrustProblem != "" {
		why = " (" + p.TrustProblem + ")"
	}
	return fmt.Sprintf("lsp-router: %d %s in %s ignored: the file is not trusted%s and they run programs, name endpoints or loosen security; review it, then run: lsp-router trust %s",
		len(p.Ignored), keys, p.WorkspaceFile, why, shellQuote(dirOf(p.WorkspaceFile)))
}

func dirOf(file string) string {
	if i := strings.LastIndexAny(file, `/\`); i > 0 {
		return file[:i]
	}
	return "."
}

// shellQuote quotes s for a POSIX shell when it needs it, so the printed
// command can be pasted.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// layer is one source of settings: its keys, typed values and lines.
type layer struct {
	file   string // "" for editor settings
	origin Origin
	typed  *Config    // the source decoded onto a zero Config
	keys   [][]string // leaf keys set, in source order
	tables [][]string // map entries named without a value ([services.x])
	lines  lineIndex  // nil for editor settings
	sum    [32]byte   // SHA-256 of the bytes decoded
}

// decodeErrRE takes apart the decoder's type errors ("toml: line 2 (last
// key "a.b"): incompatible types: ..."), which are not ParseErrors, so they
// read like every other problem: file:line: key: message.
var decodeErrRE = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// decodeTOML reads one TOML source. Syntax and type errors stop it (no
// layer); unknown keys are problems but the rest still applies, so every
// problem of a file is reported at once.
func decodeTOML(path string, data []byte, origin Origin) (*layer, []Problem) {
	ly := &layer{file: path, origin: origin, typed: &Config{}, lines: keyLines(data), sum: sha256.Sum256(data)}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(ly.typed)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, []Problem{{File: path, Line: pe.Position.Line, Key: pe.LastKey, Message: pe.Message}}
		}
		if m := decodeErrRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			if line == 0 {
				line = ly.lines.find(m[2])
			}
			return nil, []Problem{{File: path, Line: line, Key: m[2], Message: m[3]}}
		}
		return nil, []Problem{{File: path, Message: err.Error()}}
	}
	var problems []Problem
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		key := k.String()
		undecoded[key] = true
		if parentReported(problems, key) {
			continue
		}
		problems = append(problems, Problem{File: path, Line: ly.lines.find(key), Key: key, Message: unknownKeyMessage(k)})
	}
	var leafPrefixes []string
	for _, k := range md.Keys() {
		key := k.String()
		if undecoded[key] || slices.ContainsFunc(leafPrefixes, func(p string) bool { return strings.HasPrefix(key, p+".") }) {
			continue
		}
		t, _, ok := typeAt(k)
		if !ok {
			continue
		}
		if isLeafType(t) {
			ly.keys = append(ly.keys, slices.Clone([]string(k)))
			leafPrefixes = append(leafPrefixes, key)
		} else {
			ly.tables = append(ly.tables, slices.Clone([]string(k)))
		}
	}
	return ly, problems
}

// decodeJSON reads the editor's settings (the TOML structure as JSON,
// optionally under "lsp-router"). A layer with no keys means "no settings".
func decodeJSON(settings json.RawMessage) (*layer, []Problem) {
	ly := &layer{origin: OriginEditor, typed: &Config{}}
	trimmed := bytes.TrimSpace(settings)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return ly, nil
	}
	var wrapper map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &wrapper); err != nil {
		return nil, []Problem{{Message: fmt.Sprintf("settings are not a JSON object: %v", err)}}
	}
	if inner, ok := wrapper["lsp-router"]; ok && len(wrapper) == 1 {
		trimmed = bytes.TrimSpace(inner)
		if string(trimmed) == "null" {
			return ly, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(ly.typed); err != nil {
		return nil, []Problem{{Message: fmt.Sprintf("settings: %v", err)}}
	}
	var generic map[string]any
	if err := json.Unmarshal(trimmed, &generic); err != nil {
		return nil, []Problem{{Message: fmt.Sprintf("settings: %v", err)}}
	}
	var walk func(m map[string]any, path []string)
	walk = func(m map[string]any, path []string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := append(slices.Clone(path), k)
			t, _, ok := typeAt(p)
			if !ok {
				continue
			}
			if sub, isObj := m[k].(map[string]any); isObj && !isLeafType(t) {
				if len(sub) == 0 {
					ly.tables = append(ly.tables, p)
				}
				walk(sub, p)
				continue
			}
			if m[k] == nil {
				continue // null: leave the value to the files
			}
			ly.keys = append(ly.keys, p)
		}
	}
	walk(generic, nil)
	return ly, nil
}

// merger builds a configuration layer over layer.
type merger struct {
	cfg  *Config
	prov *Provenance
	// setBy remembers the layer of each key, to place validation problems.
	setBy map[string]*layer
	last  *layer
}

func newMerger(base *Config) *merger {
	cfg := base.Clone()
	prov := cfg.Provenance
	if prov == nil {
		prov = &Provenance{}
	}
	if prov.Origins == nil {
		prov.Origins = map[string]Origin{}
	}
	cfg.Provenance = prov
	return &merger{cfg: cfg, prov: prov, setBy: map[string]*layer{}}
}

// apply merges ly over the configuration; with trusted false each key
// passes the untrusted-workspace rules first.
func (m *merger) apply(ly *layer, trusted bool) {
	dst := reflect.ValueOf(m.cfg).Elem()
	src := reflect.ValueOf(ly.typed).Elem()
	for _, t := range ly.tables {
		if trusted {
			setPath(dst, t, reflect.Value{})
		}
	}
	for _, path := range ly.keys {
		_, pattern, _ := typeAt(path)
		ws := getPath(src, path)
		key := displayKey(path)
		if !trusted {
			class, ok := untrustedVerdict(pattern, getPath(dst, path), ws)
			if !ok {
				ki := IgnoredKey{Key: key, Class: class, Value: plain(ws)}
				if ly.lines != nil {
					ki.Line = ly.lines.find(strings.Join(path, "."))
				}
				m.prov.Ignored = append(m.prov.Ignored, ki)
				continue
			}
		}
		setPath(dst, path, ws)
		m.prov.Origins[key] = ly.origin
		m.setBy[strings.Join(path, ".")] = ly
	}
	if ly.file != "" {
		m.last = ly
	}
}

// validate checks the merged configuration and places each problem in the
// file (and line) that set the key.
func (m *merger) validate() []Problem {
	ps := m.cfg.validate()
	for i, p := range ps {
		ly := m.layerOf(p.Key)
		if ly == nil {
			continue
		}
		ps[i].File = ly.file
		if ly.lines != nil {
			ps[i].Line = ly.lines.find(p.Key)
		}
	}
	return ps
}

func (m *merger) layerOf(key string) *layer {
	if ly, ok := m.setBy[key]; ok {
		return ly
	}
	var best *layer
	bestLen := -1
	for k, ly := range m.setBy {
		if strings.HasPrefix(k, key+".") || strings.HasPrefix(key, k+".") {
			if len(k) > bestLen {
				best, bestLen = ly, len(k)
			}
		}
	}
	if best == nil {
		// A problem with a default value comes from a related key the
		// last file changed (compaction_target below a new threshold).
		return m.last
	}
	return best
}

func sumHex(sum [32]byte) string { return hex.EncodeToString(sum[:]) }
