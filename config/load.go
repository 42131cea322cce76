package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/lsp-router/lsp-router/security/redact"
)

// FileName is the per-workspace configuration file name.
const FileName = ".lsp-router.toml"

// EnvVar names the environment variable that points at a configuration file.
const EnvVar = "LSP_ROUTER_CONFIG"

// Problem is one thing wrong in a configuration file.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	loc := p.File
	if loc == "" {
		loc = "settings"
	}
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Line)
	}
	if p.Key == "" {
		return fmt.Sprintf("%s: %s", loc, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Key, p.Message)
}

// Error lists every problem found in a configuration.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Find returns the configuration file to use: explicit, then $LSP_ROUTER_CONFIG,
// then .lsp-router.toml in workspace, then $XDG_CONFIG_HOME/lsp-router/config.toml
// (~/.config when unset). It returns "" when there is none, which means defaults.
// An explicit path or $LSP_ROUTER_CONFIG that does not exist is an error: the user
// asked for that file.
func Find(explicit, workspace string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("config file %s: %w (check --config)", explicit, err)
		}
		return explicit, nil
	}
	if env := os.Getenv(EnvVar); env != "" {
		if _, err := os.Stat(env); err != nil {
			return "", fmt.Errorf("config file %s from $%s: %w", env, EnvVar, err)
		}
		return env, nil
	}
	if workspace != "" {
		p := filepath.Join(workspace, FileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p := UserPath(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", nil
}

// UserPath is $XDG_CONFIG_HOME/lsp-router/config.toml, or ~/.config/... when unset.
func UserPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "lsp-router", "config.toml")
}

// Load finds and reads the configuration (see Find). With no file it returns
// the defaults.
func Load(explicit, workspace string) (*Config, error) {
	path, err := Find(explicit, workspace)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return Default(), nil
	}
	return LoadFile(path)
}

// LoadFile reads and validates one TOML file on top of the defaults. Every
// problem is reported with file, line and key; a file with problems yields an
// *Error and no config.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes TOML data (named path in messages) on top of the defaults.
func Parse(path string, data []byte) (*Config, error) {
	cfg := Default()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Problems: []Problem{{File: path, Line: pe.Position.Line, Key: pe.LastKey, Message: pe.Message}}}
		}
		return nil, &Error{Problems: []Problem{{File: path, Message: err.Error()}}}
	}
	cfg.Source = path
	lines := keyLines(data)
	var problems []Problem
	for _, k := range md.Undecoded() {
		key := k.String()
		// A key under a table whose parent is unknown is reported once, at the parent.
		if parentReported(problems, key) {
			continue
		}
		problems = append(problems, Problem{File: path, Line: lines.find(key), Key: key, Message: unknownKeyMessage(k)})
	}
	for _, p := range cfg.validate() {
		p.File = path
		p.Line = lines.find(p.Key)
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return cfg, nil
}

func parentReported(ps []Problem, key string) bool {
	for _, p := range ps {
		if strings.HasPrefix(key, p.Key+".") {
			return true
		}
	}
	return false
}

// sections lists the valid keys of each table, for "did you mean" messages.
var sections = map[string][]string{
	"":                   {"services", "custom_endpoints", "task_routing", "routing", "generation", "serena", "language_servers", "context", "security", "prompts"},
	"services.*":         {"enabled", "endpoint", "priority", "timeout", "max_retries", "api_key_env", "api_key_file"},
	"custom_endpoints":   {"name", "endpoint", "priority", "api_style", "api_key_env", "api_key_file"},
	"task_routing.*":     {"primary_models", "fallback_models", "min_context", "require_serena"},
	"routing":            {"vram_ceiling_gb", "llm_classifier", "discovery_ttl", "probe_timeout"},
	"generation":         {"connect_timeout", "first_token_timeout", "idle_timeout", "max_answer_tokens", "keep_alive"},
	"serena":             {"enabled", "command", "url", "workspace", "timeout"},
	"language_servers.*": {"command", "enabled"},
	"context":            {"compaction_threshold", "compaction_target", "preserve_recent_messages", "max_tool_output_tokens", "max_references"},
	"security":           {"allow_external", "allowed_hosts", "allowed_cidrs", "allow_proxy", "audit_enabled", "audit_log_path", "audit_max_bytes", "log_queries", "log_queries_plaintext", "log_responses", "verify_checksums", "model_pins", "redaction"},
	"security.redaction": {"enabled", "extra_patterns"},
}

func unknownKeyMessage(k toml.Key) string {
	parent := ""
	if len(k) > 1 {
		parent = strings.Join(k[:len(k)-1], ".")
		if len(k) == 3 {
			parent = k[0] + ".*"
		}
	}
	valid, ok := sections[parent]
	if !ok {
		return "unknown key"
	}
	return fmt.Sprintf("unknown key; valid keys here: %s", strings.Join(valid, ", "))
}

var digestRE = regexp.MustCompile(`^(sha256:)?[0-9a-f]{64}$`)

// validate checks values; Key is the dotted TOML key of each problem.
func (c *Config) validate() []Problem {
	var ps []Problem
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		key := "services." + name
		if !slices.Contains(ServiceKinds, name) {
			bad(key, "unknown service %q; valid services: %s (use [[custom_endpoints]] for others)", name, strings.Join(ServiceKinds, ", "))
			continue
		}
		if s.Endpoint != "" {
			if err := checkEndpoint(s.Endpoint); err != nil {
				bad(key+".endpoint", "%v", err)
			}
		}
		if s.MaxRetries < 0 || s.MaxRetries > 10 {
			bad(key+".max_retries", "must be between 0 and 10, got %d", s.MaxRetries)
		}
		if s.APIKeyEnv != "" && s.APIKeyFile != "" {
			bad(key+".api_key_file", "set api_key_env or api_key_file, not both")
		}
	}
	names := map[string]bool{}
	for i, e := range c.CustomEndpoints {
		key := "custom_endpoints"
		if e.Name == "" {
			bad(key, "entry %d has no name; give each custom endpoint a unique name", i+1)
		} else if names[e.Name] {
			bad(key, "name %q is used twice; names must be unique", e.Name)
		}
		names[e.Name] = true
		if err := checkEndpoint(e.Endpoint); err != nil {
			bad(key, "%s: %v", orIndex(e.Name, i), err)
		}
		if e.APIStyle != "" && !slices.Contains(APIStyles, e.APIStyle) {
			bad(key, "%s: api_style %q is not one of %s (or leave it out to detect it)", orIndex(e.Name, i), e.APIStyle, strings.Join(APIStyles, ", "))
		}
	}
	for _, cat := range sortedKeys(c.TaskRouting) {
		if !slices.Contains(Categories, cat) {
			bad("task_routing."+cat, "unknown category %q; valid categories: %s", cat, strings.Join(Categories, ", "))
		}
		if c.TaskRouting[cat].MinContext < 0 {
			bad("task_routing."+cat+".min_context", "must not be negative")
		}
	}
	for _, a := range sortedKeys(c.Prompts) {
		if !slices.Contains(Actions, a) {
			bad("prompts."+a, "unknown action %q; valid actions: %s", a, strings.Join(Actions, ", "))
		}
	}
	ctx := c.Context
	if ctx.CompactionThreshold <= 0 || ctx.CompactionThreshold > 1 {
		bad("context.compaction_threshold", "must be in (0, 1], got %v", ctx.CompactionThreshold)
	}
	if ctx.CompactionTarget <= 0 || ctx.CompactionTarget >= ctx.CompactionThreshold {
		bad("context.compaction_target", "must be above 0 and below compaction_threshold (%v), got %v", ctx.CompactionThreshold, ctx.CompactionTarget)
	}
	if ctx.PreserveRecentMessages < 0 {
		bad("context.preserve_recent_messages", "must not be negative")
	}
	if ctx.MaxToolOutputTokens < 0 {
		bad("context.max_tool_output_tokens", "must not be negative")
	}
	if c.Serena.Enabled && len(c.Serena.Command) == 0 && c.Serena.URL == "" {
		bad("serena.command", "serena is enabled but has neither command nor url")
	}
	if c.Serena.URL != "" {
		if err := checkEndpoint(c.Serena.URL); err != nil {
			bad("serena.url", "%v", err)
		}
	}
	for _, lang := range sortedKeys(c.LanguageServers) {
		ls := c.LanguageServers[lang]
		if (ls.Enabled == nil || *ls.Enabled) && len(ls.Command) == 0 {
			bad("language_servers."+lang+".command", "empty command; give the program and its arguments, e.g. [\"gopls\"]")
		}
	}
	for _, cidr := range c.Security.AllowedCIDRs {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			bad("security.allowed_cidrs", "%q is not a CIDR; write it like \"10.0.0.0/8\" or \"fd00::/8\"", cidr)
		}
	}
	for _, h := range c.Security.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/: ") && net.ParseIP(h) == nil {
			bad("security.allowed_hosts", "%q is not a host name or IP address (ports and schemes do not belong here)", h)
		}
	}
	for _, m := range sortedKeys(c.Security.ModelPins) {
		if !digestRE.MatchString(strings.ToLower(c.Security.ModelPins[m])) {
			bad("security.model_pins", "pin for %q is not a SHA-256 digest (64 hex digits, optionally prefixed sha256:)", m)
		}
	}
	if err := redact.ValidatePatterns(c.Security.Redaction.ExtraPatterns); err != nil {
		bad("security.redaction.extra_patterns", "%v", err)
	}
	if c.Generation.MaxAnswerTokens < 0 {
		bad("generation.max_answer_tokens", "must not be negative")
	}
	return ps
}

func orIndex(name string, i int) string {
	if name != "" {
		return name
	}
	return fmt.Sprintf("entry %d", i+1)
}

func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q is not an http(s) URL; write it like \"http://127.0.0.1:11434\"", raw)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lineIndex maps dotted keys to the line where they are set.
type lineIndex map[string]int

// find returns the line of key, or of its nearest ancestor that has a line.
func (li lineIndex) find(key string) int {
	for key != "" {
		if n, ok := li[key]; ok {
			return n
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

var (
	headerRE = regexp.MustCompile(`^\s*\[\[?\s*([^\]]+?)\s*\]\]?`)
	assignRE = regexp.MustCompile(`^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-" ]+?)\s*=`)
)

// keyLines is a line scanner good enough to locate keys for messages: the
// decoder already validated the syntax, so tables and assignments are all
// that needs recognising. Multi-line strings are skipped.
func keyLines(data []byte) lineIndex {
	li := lineIndex{}
	table := ""
	inMultiline := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if inMultiline != "" {
			if strings.Contains(line, inMultiline) {
				inMultiline = ""
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if m := headerRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(trimmed, "[") {
			table = normalizeKey(m[1])
			if _, ok := li[table]; !ok {
				li[table] = n
			}
			continue
		}
		if m := assignRE.FindStringSubmatch(line); m != nil {
			key := normalizeKey(m[1])
			if table != "" {
				key = table + "." + key
			}
			if _, ok := li[key]; !ok {
				li[key] = n
			}
			for _, q := range []string{`"""`, `'''`} {
				if strings.Count(line, q) == 1 {
					inMultiline = q
				}
			}
		}
	}
	return li
}

func normalizeKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// Overlay returns a copy of base with the editor's settings (JSON with the
// same structure as the TOML file) applied on top. Unknown keys and bad
// values are reported as problems and the base is returned unchanged.
func Overlay(base *Config, settings json.RawMessage) (*Config, error) {
	trimmed := bytes.TrimSpace(settings)
	if len(trimmed) == 0 || string(trimmed) == "null" || string(trimmed) == "{}" {
		return base, nil
	}
	// Editors often nest settings under their section name.
	var wrapper map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &wrapper); err != nil {
		return base, &Error{Problems: []Problem{{Message: fmt.Sprintf("settings are not a JSON object: %v", err)}}}
	}
	if inner, ok := wrapper["lsp-router"]; ok && len(wrapper) == 1 {
		trimmed = inner
	}
	out := base.Clone()
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return base, &Error{Problems: []Problem{{Message: fmt.Sprintf("settings: %v", err)}}}
	}
	if ps := out.validate(); len(ps) > 0 {
		return base, &Error{Problems: ps}
	}
	return out, nil
}
