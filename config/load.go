package config

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

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

// UserFile returns the user's configuration file: explicit (--config), then
// $LSP_ROUTER_CONFIG, then $XDG_CONFIG_HOME/lsp-router/config.toml
// (~/.config when unset). It returns "" when there is none, which means the
// defaults. An explicit path or $LSP_ROUTER_CONFIG that does not exist is an
// error: the user asked for that file.
func UserFile(explicit string) (string, error) {
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
	if p := UserPath(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", nil
}

// workspaceCandidate is where the workspace file of dir would be: the
// directory with its symbolic links resolved, so one workspace has one key
// in the trust store however it is reached.
func workspaceCandidate(dir string) string {
	if dir == "" {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return filepath.Join(abs, FileName)
}

// WorkspaceFile returns dir's .lsp-router.toml, or "" when it has none. A
// symbolic link counts (reading it resolves it and checks the target).
func WorkspaceFile(dir string) string {
	p := workspaceCandidate(dir)
	if p == "" {
		return ""
	}
	if _, err := os.Lstat(p); err != nil {
		return ""
	}
	return p
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

// Load reads the layered configuration for workspace with the user's trust
// store; see Loader.
func Load(explicit, workspace string) (*Config, error) {
	return Loader{Explicit: explicit}.Load(workspace)
}

// Loader reads the layered configuration: the defaults, the user's file
// over them, then the workspace's .lsp-router.toml merged over that key by
// key. The workspace file is untrusted until `lsp-router trust` recorded
// its SHA-256: until then only the keys keyRules calls safe (or narrowing)
// apply, and the others are listed in Provenance.Ignored.
type Loader struct {
	// Explicit is --config; empty means $LSP_ROUTER_CONFIG, then the XDG file.
	Explicit string
	// Trust is the trust store; nil means the user's (DefaultTrustStore).
	Trust *TrustStore
}

func (l Loader) trust() *TrustStore {
	if l.Trust != nil {
		return l.Trust
	}
	return DefaultTrustStore()
}

// Load reads and validates every layer. Every problem is reported with
// file, line and key; a configuration with problems yields an *Error and
// no config.
func (l Loader) Load(workspace string) (*Config, error) {
	userPath, err := UserFile(l.Explicit)
	if err != nil {
		return nil, err
	}
	m := newMerger(Default())
	var problems []Problem
	var files []string
	if userPath != "" {
		m.prov.UserFile = userPath
		files = append(files, userPath)
		data, err := readConfigFile(userPath)
		if err != nil {
			return nil, &Error{Problems: []Problem{{File: userPath, Message: err.Error()}}}
		}
		ly, ps := decodeTOML(userPath, data, OriginUser)
		problems = append(problems, ps...)
		if ly != nil {
			m.apply(ly, true)
		}
	}
	if wsPath := WorkspaceFile(workspace); wsPath != "" && !sameFile(wsPath, userPath) {
		m.prov.WorkspaceFile = wsPath
		data, err := readConfigFile(wsPath)
		if err != nil {
			return nil, &Error{Problems: append(problems, Problem{File: wsPath, Message: err.Error()})}
		}
		ly, ps := decodeTOML(wsPath, data, OriginWorkspace)
		problems = append(problems, ps...)
		m.prov.WorkspaceSHA256 = sumHex(sha256.Sum256(data))
		trusted, terr := l.trust().Trusted(wsPath, m.prov.WorkspaceSHA256)
		if terr != nil {
			m.prov.TrustProblem = terr.Error()
		}
		m.prov.WorkspaceTrusted = trusted
		if ly != nil {
			m.apply(ly, trusted)
		}
		if trusted {
			files = append(files, wsPath+" (trusted)")
		} else {
			files = append(files, wsPath+" (untrusted)")
		}
	}
	problems = append(problems, m.validate()...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	m.cfg.Source = strings.Join(files, " + ")
	return m.cfg, nil
}

// Stamp is a cheap fingerprint (size, time, mode) of every file Load would
// read for workspace, present or not, and of the trust store: a server
// compares it before each command to know when to load again.
func (l Loader) Stamp(workspace string) string {
	user := l.Explicit
	if user == "" {
		user = os.Getenv(EnvVar)
	}
	if user == "" {
		user = UserPath()
	}
	var b strings.Builder
	for _, p := range []string{user, workspaceCandidate(workspace), l.trust().Path} {
		if p == "" {
			continue
		}
		fmt.Fprintf(&b, "%s|", p)
		if st, err := os.Lstat(p); err == nil {
			fmt.Fprintf(&b, "%d|%d|%v|", st.Size(), st.ModTime().UnixNano(), st.Mode())
		}
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%d|%d|%v", st.Size(), st.ModTime().UnixNano(), st.Mode())
		}
		b.WriteByte(';')
	}
	return b.String()
}

func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// maxConfigBytes bounds a configuration file: real ones are a few KB.
const maxConfigBytes = 1 << 20

// readConfigFile reads a configuration file, following symbolic links to
// the real content, which must be a regular file of at most maxConfigBytes
// (a FIFO or a device would hang or never end).
func readConfigFile(path string) ([]byte, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if st, err := os.Stat(real); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v); a configuration must be a plain file", real, st.Mode().Type())
	}
	f, err := openNoBlock(real)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; a configuration must be a plain file", real)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes; a configuration is a few KB", real, maxConfigBytes)
	}
	return data, nil
}

// LoadFile reads and validates one TOML file on top of the defaults, as
// the user's own file. Every problem is reported with file, line and key;
// a file with problems yields an *Error and no config.
func LoadFile(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes TOML data (named path in messages) on top of the defaults,
// as the user's own file.
func Parse(path string, data []byte) (*Config, error) {
	m := newMerger(Default())
	ly, problems := decodeTOML(path, data, OriginUser)
	if ly == nil {
		return nil, &Error{Problems: problems}
	}
	m.prov.UserFile = path
	m.apply(ly, true)
	problems = append(problems, m.validate()...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	m.cfg.Source = path
	return m.cfg, nil
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
	"":                        {"services", "custom_endpoints", "task_routing", "routing", "generation", "serena", "language_servers", "context", "security", "prompts", "mcp", "agents", "gateway", "completion"},
	"services.*":              {"enabled", "endpoint", "priority", "timeout", "max_retries", "api_key_env", "api_key_file", "context_length"},
	"custom_endpoints":        {"name", "endpoint", "priority", "api_style", "api_key_env", "api_key_file", "context_length"},
	"task_routing.*":          {"primary_models", "fallback_models", "min_context", "require_serena"},
	"routing":                 {"vram_ceiling_gb", "llm_classifier", "discovery_ttl", "probe_timeout", "catalog_file"},
	"generation":              {"connect_timeout", "first_token_timeout", "idle_timeout", "total_timeout", "max_answer_tokens", "keep_alive"},
	"serena":                  {"enabled", "command", "url", "workspace", "timeout", "start_timeout"},
	"language_servers.*":      {"command", "enabled"},
	"context":                 {"compaction_threshold", "compaction_target", "preserve_recent_messages", "max_tool_output_tokens", "max_references", "max_file_bytes", "editor_timeout", "language_servers_idle_timeout"},
	"mcp":                     {"allow_apply"},
	"gateway":                 {"listen", "keys_file", "max_request_bytes", "max_concurrent_per_key"},
	"completion":              {"enabled", "model", "max_tokens", "max_lines", "context_tokens", "debounce", "timeout", "lsp_completion_items"},
	"agents.*":                {"task_routing"},
	"agents.*.task_routing.*": {"primary_models", "fallback_models", "min_context", "require_serena"},
	"security":                {"allow_external", "allowed_hosts", "allowed_cidrs", "allow_proxy", "audit_enabled", "audit_log_path", "audit_max_bytes", "audit_on_failure", "audit_key_file", "audit_fsync", "log_queries", "log_queries_plaintext", "log_responses", "verify_checksums", "model_pins", "redaction"},
	"security.redaction":      {"enabled", "extra_patterns"},
}

func unknownKeyMessage(k toml.Key) string {
	parent := ""
	if len(k) > 1 {
		parent = strings.Join(k[:len(k)-1], ".")
		if len(k) == 3 {
			parent = k[0] + ".*"
		}
		if len(k) == 5 && k[0] == "agents" && k[2] == "task_routing" {
			parent = "agents.*.task_routing.*"
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
// The checks run section by section, in the order of the file.
func (c *Config) validate() []Problem {
	var ps problems
	for _, check := range []func(*Config, *problems){
		validateServices, validateCustomEndpoints, validateRouting, validatePrompts,
		validateContext, validateSerena, validateLanguageServers, validateSecurity, validateGeneration,
	} {
		check(c, &ps)
	}
	ps = append(ps, c.Gateway.validate()...)
	ps = append(ps, c.Completion.validate()...)
	return ps
}

// problems collects what validate finds.
type problems []Problem

func (ps *problems) bad(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

func validateServices(c *Config, ps *problems) {
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		key := "services." + name
		if !slices.Contains(ServiceKinds, name) {
			ps.bad(key, "unknown service %q; valid services: %s (use [[custom_endpoints]] for others)", name, strings.Join(ServiceKinds, ", "))
			continue
		}
		if s.Endpoint != "" {
			if err := checkEndpoint(s.Endpoint); err != nil {
				ps.bad(key+".endpoint", "%v", err)
			}
		}
		if s.MaxRetries < 0 || s.MaxRetries > 10 {
			ps.bad(key+".max_retries", "must be between 0 and 10, got %d", s.MaxRetries)
		}
		if s.APIKeyEnv != "" && s.APIKeyFile != "" {
			ps.bad(key+".api_key_file", "set api_key_env or api_key_file, not both")
		}
		if msg := checkContextLength(s.ContextLength); msg != "" {
			ps.bad(key+".context_length", "%s", msg)
		}
	}
}

func validateCustomEndpoints(c *Config, ps *problems) {
	names := map[string]bool{}
	for i, e := range c.CustomEndpoints {
		key := "custom_endpoints"
		if e.Name == "" {
			ps.bad(key, "entry %d has no name; give each custom endpoint a unique name", i+1)
		} else if names[e.Name] {
			ps.bad(key, "name %q is used twice; names must be unique", e.Name)
		}
		names[e.Name] = true
		if err := checkEndpoint(e.Endpoint); err != nil {
			ps.bad(key, "%s: %v", orIndex(e.Name, i), err)
		}
		if msg := checkContextLength(e.ContextLength); msg != "" {
			ps.bad(key, "%s: context_length %s", orIndex(e.Name, i), msg)
		}
		if e.APIStyle != "" && !slices.Contains(APIStyles, e.APIStyle) {
			ps.bad(key, "%s: api_style %q is not one of %s (or leave it out to detect it)", orIndex(e.Name, i), e.APIStyle, strings.Join(APIStyles, ", "))
		}
	}
}

// validateRouting checks task_routing and each agent's own.
func validateRouting(c *Config, ps *problems) {
	validateTaskRouting(ps, "task_routing", c.TaskRouting)
	for _, name := range sortedKeys(c.Agents) {
		key := "agents." + displayKey([]string{name})
		if name != strings.ToLower(name) || strings.TrimSpace(name) != name || name == "" {
			ps.bad(key, "agent names are lower case, as lsp-router reads them from the agent (e.g. [agents.qwen-code]); write %q", strings.ToLower(strings.TrimSpace(name)))
		}
		validateTaskRouting(ps, key+".task_routing", c.Agents[name].TaskRouting)
	}
}

func validateTaskRouting(ps *problems, prefix string, routing map[string]TaskRouting) {
	for _, cat := range sortedKeys(routing) {
		if !slices.Contains(Categories, cat) {
			ps.bad(prefix+"."+cat, "unknown category %q; valid categories: %s", cat, strings.Join(Categories, ", "))
		}
		if routing[cat].MinContext < 0 {
			ps.bad(prefix+"."+cat+".min_context", "must not be negative")
		}
	}
}

func validatePrompts(c *Config, ps *problems) {
	for _, a := range sortedKeys(c.Prompts) {
		if !slices.Contains(Actions, a) {
			ps.bad("prompts."+a, "unknown action %q; valid actions: %s", a, strings.Join(Actions, ", "))
		}
	}
}

func validateContext(c *Config, ps *problems) {
	ctx := c.Context
	if ctx.CompactionThreshold <= 0 || ctx.CompactionThreshold > 1 {
		ps.bad("context.compaction_threshold", "must be in (0, 1], got %v", ctx.CompactionThreshold)
	}
	if ctx.CompactionTarget <= 0 || ctx.CompactionTarget >= ctx.CompactionThreshold {
		ps.bad("context.compaction_target", "must be above 0 and below compaction_threshold (%v), got %v", ctx.CompactionThreshold, ctx.CompactionTarget)
	}
	if ctx.PreserveRecentMessages < 0 {
		ps.bad("context.preserve_recent_messages", "must not be negative")
	}
	if ctx.MaxToolOutputTokens < 0 {
		ps.bad("context.max_tool_output_tokens", "must not be negative")
	}
	if ctx.MaxFileBytes < 0 || ctx.MaxFileBytes > 1<<30 {
		ps.bad("context.max_file_bytes", "must be between 0 (the default, 8 MB) and 1073741824, got %d", ctx.MaxFileBytes)
	}
	if d := ctx.EditorTimeout.Duration; d < 0 || d > time.Minute {
		ps.bad("context.editor_timeout", "must be between 0 (the default, 2s) and 1m, got %s", d)
	}
	if d := ctx.LanguageServersIdleTimeout.Duration; d < 0 || d > 0 && d < time.Second {
		ps.bad("context.language_servers_idle_timeout", "must be 0 (the default, 10m) or at least 1s, got %s", d)
	}
}

func validateSerena(c *Config, ps *problems) {
	if c.Serena.Enabled && len(c.Serena.Command) == 0 && c.Serena.URL == "" {
		ps.bad("serena.command", "serena is enabled but has neither command nor url")
	}
	if c.Serena.StartTimeout.Duration < 0 {
		ps.bad("serena.start_timeout", "must not be negative")
	}
	if c.Serena.URL != "" {
		if err := checkEndpoint(c.Serena.URL); err != nil {
			ps.bad("serena.url", "%v", err)
		}
	}
}

func validateLanguageServers(c *Config, ps *problems) {
	for _, lang := range sortedKeys(c.LanguageServers) {
		ls := c.LanguageServers[lang]
		if (ls.Enabled == nil || *ls.Enabled) && len(ls.Command) == 0 {
			ps.bad("language_servers."+lang+".command", "empty command; give the program and its arguments, e.g. [\"gopls\"]")
		}
	}
}

func validateSecurity(c *Config, ps *problems) {
	for _, cidr := range c.Security.AllowedCIDRs {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			ps.bad("security.allowed_cidrs", "%q is not a CIDR; write it like \"10.0.0.0/8\" or \"fd00::/8\"", cidr)
		}
	}
	for _, h := range c.Security.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/: ") && net.ParseIP(h) == nil {
			ps.bad("security.allowed_hosts", "%q is not a host name or IP address (ports and schemes do not belong here)", h)
		}
	}
	for _, m := range sortedKeys(c.Security.ModelPins) {
		if !digestRE.MatchString(strings.ToLower(c.Security.ModelPins[m])) {
			ps.bad("security.model_pins", "pin for %q is not a SHA-256 digest (64 hex digits, optionally prefixed sha256:)", m)
		}
	}
	if v := c.Security.AuditOnFailure; v != "" && v != "refuse" && v != "warn" {
		ps.bad("security.audit_on_failure", "%q is not \"refuse\" or \"warn\"", v)
	}
	if v := c.Security.AuditFsync; v != "" && v != "query" && v != "background" {
		ps.bad("security.audit_fsync", "%q is not \"query\" or \"background\"", v)
	}
	if err := redact.ValidatePatterns(c.Security.Redaction.ExtraPatterns); err != nil {
		ps.bad("security.redaction.extra_patterns", "%v", err)
	}
}

func validateGeneration(c *Config, ps *problems) {
	if c.Generation.MaxAnswerTokens < 0 {
		ps.bad("generation.max_answer_tokens", "must not be negative")
	}
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
// same structure as the TOML file, optionally under "lsp-router") merged
// over it key by key. The editor's settings are the user's own: every key
// applies. Unknown keys and bad values are reported as problems and base is
// returned unchanged.
func Overlay(base *Config, settings json.RawMessage) (*Config, error) {
	ly, problems := decodeJSON(settings)
	if ly == nil {
		return base, &Error{Problems: problems}
	}
	if len(ly.keys) == 0 && len(ly.tables) == 0 {
		return base, nil
	}
	m := newMerger(base)
	m.apply(ly, true)
	if ps := m.validate(); len(ps) > 0 {
		return base, &Error{Problems: ps}
	}
	return m.cfg, nil
}

// SettingsEmpty reports editor settings that set nothing (empty, null,
// {}, {"lsp-router": {}}): eglot sends such a change on connect, and it
// must not drop the settings sent before.
func SettingsEmpty(settings json.RawMessage) bool {
	ly, _ := decodeJSON(settings)
	return ly != nil && len(ly.keys) == 0 && len(ly.tables) == 0
}

// Bounds of a configured context_length: below MinContextLength nothing
// useful fits beside the answer; above MaxContextLength no model runs.
const (
	MinContextLength = 512
	MaxContextLength = 1 << 24
)

// checkContextLength returns what is wrong with a context_length, or "".
func checkContextLength(n int) string {
	if n == 0 || (n >= MinContextLength && n <= MaxContextLength) {
		return ""
	}
	return fmt.Sprintf("must be between %d and %d tokens (or left out to use what the server reports), got %d", MinContextLength, MaxContextLength, n)
}

// validate checks [completion]: each limit within a range that keeps
// completions fast and bounded.
func (c Completion) validate() []Problem {
	var ps []Problem
	check := func(key string, v, lo, hi int, unit string) {
		if v < lo || v > hi {
			ps = append(ps, Problem{Key: "completion." + key, Message: fmt.Sprintf("must be between %d and %d %s, got %d", lo, hi, unit, v)})
		}
	}
	check("max_tokens", c.MaxTokens, 1, 2048, "tokens")
	check("max_lines", c.MaxLines, 1, 500, "lines")
	check("context_tokens", c.ContextTokens, 128, 32768, "tokens")
	if c.Debounce.Duration > 2*time.Second {
		ps = append(ps, Problem{Key: "completion.debounce", Message: fmt.Sprintf("must be at most 2s (it delays every suggestion), got %s", c.Debounce.Duration)})
	}
	if d := c.Timeout.Duration; d < 100*time.Millisecond || d > time.Minute {
		ps = append(ps, Problem{Key: "completion.timeout", Message: fmt.Sprintf("must be between 100ms and 1m, got %s", d)})
	}
	return ps
}
