// Package config loads, validates and writes lsp-router's TOML configuration.
//
// A configuration is built in layers, each merged over the one below key by
// key: the built-in defaults; the user's file (--config, else
// $LSP_ROUTER_CONFIG, else $XDG_CONFIG_HOME/lsp-router/config.toml); the
// workspace's .lsp-router.toml; the editor's initializationOptions and
// workspace/didChangeConfiguration (Overlay). The user's file and the
// editor's settings are the user's own. The workspace file comes with a
// cloned repository: until the user trusts that exact file (TrustStore),
// only the keys keys.go classifies as safe, or values that narrow, apply.
package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole configuration. Field tags give the TOML (and JSON, for
// editor settings) key of each field.
type Config struct {
	Services        map[string]Service     `toml:"services" json:"services,omitempty"`
	CustomEndpoints []CustomEndpoint       `toml:"custom_endpoints" json:"custom_endpoints,omitempty"`
	TaskRouting     map[string]TaskRouting `toml:"task_routing" json:"task_routing,omitempty"`
	Routing         Routing                `toml:"routing" json:"routing"`
	Generation      Generation             `toml:"generation" json:"generation"`
	Serena          Serena                 `toml:"serena" json:"serena"`
	LanguageServers map[string]LangServer  `toml:"language_servers" json:"language_servers,omitempty"`
	Context         Context                `toml:"context" json:"context"`
	Security        Security               `toml:"security" json:"security"`
	Prompts         map[string]string      `toml:"prompts" json:"prompts,omitempty"`
	MCP             MCP                    `toml:"mcp" json:"mcp"`
	Completion      Completion             `toml:"completion" json:"completion"`
	// Agents tunes routing per coding agent, by the name the agent gives
	// over MCP (clientInfo), lower-cased: [agents.qwen-code.task_routing.coding].
	Agents  map[string]Agent `toml:"agents" json:"agents,omitempty"`
	Gateway Gateway          `toml:"gateway" json:"gateway"`

	// Source names the files the configuration was read from ("" for defaults).
	Source string `toml:"-" json:"-"`
	// Provenance says where each value came from; nil for Default().
	Provenance *Provenance `toml:"-" json:"-"`
}

// Service configures one of the known local LLM servers.
type Service struct {
	Enabled *bool `toml:"enabled" json:"enabled,omitempty"`
	// Endpoint overrides the server's default address; empty keeps the default.
	Endpoint   string   `toml:"endpoint" json:"endpoint,omitempty"`
	Priority   int      `toml:"priority" json:"priority,omitempty"`
	Timeout    Duration `toml:"timeout" json:"timeout,omitzero"`
	MaxRetries int      `toml:"max_retries" json:"max_retries,omitempty"`
	APIKeyEnv  string   `toml:"api_key_env" json:"api_key_env,omitempty"`
	APIKeyFile string   `toml:"api_key_file" json:"api_key_file,omitempty"`
	// ContextLength, when set, is the window (tokens) prompts are sized for
	// on this server, whatever it reports: for servers that report none
	// (GPT4All, Jan, LocalAI, text-generation-webui, Open WebUI) or run a
	// model with less than it says.
	ContextLength int `toml:"context_length" json:"context_length,omitempty"`
}

// IsEnabled reports whether the service is probed; services are enabled
// unless the configuration says otherwise.
func (s Service) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// CustomEndpoint is an extra server the user names, e.g. a team's vLLM host.
type CustomEndpoint struct {
	Name     string `toml:"name" json:"name"`
	Endpoint string `toml:"endpoint" json:"endpoint"`
	Priority int    `toml:"priority" json:"priority,omitempty"`
	// APIStyle is detected when empty.
	APIStyle   string `toml:"api_style" json:"api_style,omitempty"`
	APIKeyEnv  string `toml:"api_key_env" json:"api_key_env,omitempty"`
	APIKeyFile string `toml:"api_key_file" json:"api_key_file,omitempty"`
	// ContextLength, when set, is the window (tokens) prompts are sized for
	// on this endpoint, whatever it reports.
	ContextLength int `toml:"context_length" json:"context_length,omitempty"`
}

// TaskRouting is the user's model preference for one task category.
type TaskRouting struct {
	PrimaryModels  []string `toml:"primary_models" json:"primary_models,omitempty"`
	FallbackModels []string `toml:"fallback_models" json:"fallback_models,omitempty"`
	MinContext     int      `toml:"min_context" json:"min_context,omitempty"`
	RequireSerena  bool     `toml:"require_serena" json:"require_serena,omitempty"`
}

// MCP configures `lsp-router mcp`, the server coding agents call.
type MCP struct {
	// AllowApply lets the propose_edit tool write files when the agent asks
	// with apply: true. Off, edits are only proposed (a diff to review).
	AllowApply bool `toml:"allow_apply" json:"allow_apply,omitempty"`
}

// Completion is [completion]: inline completions (fill-in-the-middle)
// from a local model as the user types.
type Completion struct {
	// Enabled offers inline completions to the editor.
	Enabled bool `toml:"enabled" json:"enabled"`
	// Model names the model to complete with; empty picks a small, loaded
	// FIM-capable coding model.
	Model string `toml:"model" json:"model,omitempty"`
	// MaxTokens caps one completion; MaxLines cuts it after that many lines.
	MaxTokens int `toml:"max_tokens" json:"max_tokens,omitempty"`
	MaxLines  int `toml:"max_lines" json:"max_lines,omitempty"`
	// ContextTokens is the budget of the prefix and suffix around the cursor.
	ContextTokens int `toml:"context_tokens" json:"context_tokens,omitempty"`
	// Debounce is waited after a request before the model is asked: a newer
	// request for the same document in that time replaces it.
	Debounce Duration `toml:"debounce" json:"debounce,omitzero"`
	// Timeout bounds one completion, model call included.
	Timeout Duration `toml:"timeout" json:"timeout,omitzero"`
	// LSPCompletionItems also answers textDocument/completion, for editors
	// without inline completion (off by default).
	LSPCompletionItems bool `toml:"lsp_completion_items" json:"lsp_completion_items,omitempty"`
}

// Agent is the routing of one coding agent: its task_routing entries
// replace the top-level ones for the same category.
type Agent struct {
	TaskRouting map[string]TaskRouting `toml:"task_routing" json:"task_routing,omitempty"`
}

// Routing holds selection-wide settings.
type Routing struct {
	// VRAMCeilingGB excludes catalog models needing more memory (0: no limit).
	VRAMCeilingGB float64 `toml:"vram_ceiling_gb" json:"vram_ceiling_gb,omitempty"`
	// LLMClassifier lets the smallest local model classify low-confidence
	// free-text requests.
	LLMClassifier bool `toml:"llm_classifier" json:"llm_classifier,omitempty"`
	// DiscoveryTTL is how long discovered services are trusted.
	DiscoveryTTL Duration `toml:"discovery_ttl" json:"discovery_ttl,omitzero"`
	// ProbeTimeout bounds each discovery probe.
	ProbeTimeout Duration `toml:"probe_timeout" json:"probe_timeout,omitzero"`
	// CatalogFile adds or overrides model catalog entries ([[model]] tables).
	CatalogFile string `toml:"catalog_file" json:"catalog_file,omitempty"`
}

// Generation holds the generation timeouts (connect, first token, idle gap,
// whole answer) and the answer size.
type Generation struct {
	ConnectTimeout    Duration `toml:"connect_timeout" json:"connect_timeout,omitzero"`
	FirstTokenTimeout Duration `toml:"first_token_timeout" json:"first_token_timeout,omitzero"`
	IdleTimeout       Duration `toml:"idle_timeout" json:"idle_timeout,omitzero"`
	TotalTimeout      Duration `toml:"total_timeout" json:"total_timeout,omitzero"`
	MaxAnswerTokens   int      `toml:"max_answer_tokens" json:"max_answer_tokens,omitempty"`
	KeepAlive         string   `toml:"keep_alive" json:"keep_alive,omitempty"`
}

// Serena configures the Serena MCP server used for code context.
type Serena struct {
	Enabled bool `toml:"enabled" json:"enabled"`
	// Command starts Serena over stdio; "{workspace}" is replaced by the
	// workspace root.
	Command []string `toml:"command" json:"command,omitempty"`
	// URL connects to a running Serena over streamable HTTP instead.
	URL       string   `toml:"url" json:"url,omitempty"`
	Workspace string   `toml:"workspace" json:"workspace,omitempty"`
	Timeout   Duration `toml:"timeout" json:"timeout,omitzero"`
	// StartTimeout is how long requests wait for a starting Serena before
	// gathering context without it (or failing, with require_serena).
	StartTimeout Duration `toml:"start_timeout" json:"start_timeout,omitzero"`
}

// LangServer names the language server the built-in backend runs for a language.
type LangServer struct {
	Command []string `toml:"command" json:"command,omitempty"`
	Enabled *bool    `toml:"enabled" json:"enabled,omitempty"`
}

// Context controls conversation compaction.
type Context struct {
	CompactionThreshold    float64 `toml:"compaction_threshold" json:"compaction_threshold,omitempty"`
	CompactionTarget       float64 `toml:"compaction_target" json:"compaction_target,omitempty"`
	PreserveRecentMessages int     `toml:"preserve_recent_messages" json:"preserve_recent_messages,omitempty"`
	MaxToolOutputTokens    int     `toml:"max_tool_output_tokens" json:"max_tool_output_tokens,omitempty"`
	MaxReferences          int     `toml:"max_references" json:"max_references,omitempty"`
	// MaxFileBytes caps every workspace file read for context (8 MB).
	MaxFileBytes int64 `toml:"max_file_bytes" json:"max_file_bytes,omitempty"`
	// EditorTimeout bounds each context answer from an editor that offers
	// its own language servers (2s when zero).
	EditorTimeout Duration `toml:"editor_timeout" json:"editor_timeout,omitzero"`
	// LanguageServersIdleTimeout stops a language server lsp-router started
	// itself after this long without a request (10m when zero).
	LanguageServersIdleTimeout Duration `toml:"language_servers_idle_timeout" json:"language_servers_idle_timeout,omitzero"`
}

// Security holds the air-gap settings.
type Security struct {
	AllowExternal       bool              `toml:"allow_external" json:"allow_external"`
	AllowedHosts        []string          `toml:"allowed_hosts" json:"allowed_hosts,omitempty"`
	AllowedCIDRs        []string          `toml:"allowed_cidrs" json:"allowed_cidrs,omitempty"`
	AllowProxy          bool              `toml:"allow_proxy" json:"allow_proxy,omitempty"`
	AuditEnabled        bool              `toml:"audit_enabled" json:"audit_enabled"`
	AuditLogPath        string            `toml:"audit_log_path" json:"audit_log_path,omitempty"`
	AuditMaxBytes       int64             `toml:"audit_max_bytes" json:"audit_max_bytes,omitempty"`
	AuditOnFailure      string            `toml:"audit_on_failure" json:"audit_on_failure,omitempty"` // "refuse" ("" too) or "warn"
	AuditKeyFile        string            `toml:"audit_key_file" json:"audit_key_file,omitempty"`     // HMAC key; default in the state dir
	AuditFsync          string            `toml:"audit_fsync" json:"audit_fsync,omitempty"`           // "query" ("" too) or "background"
	LogQueries          bool              `toml:"log_queries" json:"log_queries"`
	LogQueriesPlaintext bool              `toml:"log_queries_plaintext" json:"log_queries_plaintext,omitempty"`
	LogResponses        bool              `toml:"log_responses" json:"log_responses,omitempty"`
	VerifyChecksums     bool              `toml:"verify_checksums" json:"verify_checksums,omitempty"`
	ModelPins           map[string]string `toml:"model_pins" json:"model_pins,omitempty"`
	Redaction           Redaction         `toml:"redaction" json:"redaction"`
}

// Redaction is [security.redaction]: secrets are replaced in every prompt
// before it leaves the process. Turning it off loosens security.
type Redaction struct {
	Enabled bool `toml:"enabled" json:"enabled"`
	// ExtraPatterns are Go (RE2) regular expressions replaced as
	// "[REDACTED:custom]" in addition to the built-in rules.
	ExtraPatterns []string `toml:"extra_patterns" json:"extra_patterns,omitempty"`
}

// Gateway configures `lsp-router gateway`, the OpenAI-compatible endpoint
// for coding agents and teams. Only the user's own file may set the
// listening address and the keys file: a repository must not open a port or
// choose who may use it.
type Gateway struct {
	// Listen is the address to serve on (default 127.0.0.1:4000); an address
	// beyond loopback requires KeysFile.
	Listen string `toml:"listen" json:"listen,omitempty"`
	// KeysFile holds the bearer tokens' SHA-256 digests and owners, one
	// "sha256:HEX OWNER" per line.
	KeysFile string `toml:"keys_file" json:"keys_file,omitempty"`
	// MaxRequestBytes caps a request body (default 4 MiB).
	MaxRequestBytes int64 `toml:"max_request_bytes" json:"max_request_bytes,omitempty"`
	// MaxConcurrentPerKey caps the requests one key has open at once
	// (default 8); more get 429 with Retry-After.
	MaxConcurrentPerKey int `toml:"max_concurrent_per_key" json:"max_concurrent_per_key,omitempty"`
}

// Duration is a time.Duration written as "30s" in TOML and JSON.
type Duration struct{ time.Duration }

// UnmarshalText parses "1m30s" style durations.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like \"30s\" or \"2m\"", string(b))
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as "30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// IsZero lets encoders omit unset durations.
func (d Duration) IsZero() bool { return d.Duration == 0 }

// Or returns d, or def when d is unset.
func (d Duration) Or(def time.Duration) time.Duration {
	if d.Duration == 0 {
		return def
	}
	return d.Duration
}

// ServiceKinds are the names accepted under [services.<name>], in the order
// they are probed and listed.
var ServiceKinds = []string{
	"ollama", "lmstudio", "jan", "openwebui", "localai", "vllm", "llamacpp",
	"koboldcpp", "gpt4all", "textgenwebui", "tgi", "sglang",
}

// APIStyles are the accepted custom endpoint api_style values.
var APIStyles = []string{"openai", "ollama"}

// Categories are the task categories accepted under [task_routing.<name>].
var Categories = []string{"coding", "reasoning", "analysis", "documentation"}

// Actions are the editor actions whose prompts can be overridden under [prompts].
var Actions = []string{"explain", "refactor", "document", "fix", "tests", "ask"}

// Default returns the built-in configuration.
func Default() *Config {
	return &Config{
		Services:    map[string]Service{},
		TaskRouting: map[string]TaskRouting{},
		Routing: Routing{
			DiscoveryTTL: Duration{30 * time.Second},
			ProbeTimeout: Duration{400 * time.Millisecond},
		},
		Generation: Generation{
			ConnectTimeout:    Duration{2 * time.Second},
			FirstTokenTimeout: Duration{5 * time.Minute},
			IdleTimeout:       Duration{60 * time.Second},
			TotalTimeout:      Duration{10 * time.Minute},
			MaxAnswerTokens:   2048,
			KeepAlive:         "30m",
		},
		Serena: Serena{
			Enabled: false,
			Command: []string{"serena", "start-mcp-server", "--project", "{workspace}",
				"--context", "ide", "--transport", "stdio",
				"--enable-web-dashboard", "false", "--open-web-dashboard", "false"},
			Timeout:      Duration{30 * time.Second},
			StartTimeout: Duration{60 * time.Second},
		},
		LanguageServers: map[string]LangServer{},
		Context: Context{
			CompactionThreshold:    0.8,
			CompactionTarget:       0.5,
			PreserveRecentMessages: 4,
			MaxToolOutputTokens:    2000,
			MaxReferences:          10,
			MaxFileBytes:           8 << 20,
		},
		Security: Security{
			AllowExternal: false,
			AuditEnabled:  true,
			AuditMaxBytes: 10 << 20,
			LogQueries:    true,
			Redaction:     Redaction{Enabled: true},
		},
		Prompts: map[string]string{},
		Completion: Completion{
			Enabled: true, MaxTokens: 128, MaxLines: 12, ContextTokens: 1536,
			Debounce: Duration{75 * time.Millisecond}, Timeout: Duration{5 * time.Second},
		},
	}
}

// Clone returns a deep copy, so overlays never modify a shared config.
func (c *Config) Clone() *Config {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("config: clone: %v", err)) // every field is JSON-safe
	}
	out := &Config{}
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("config: clone: %v", err))
	}
	out.Source = c.Source
	out.Provenance = c.Provenance.clone()
	return out
}

// AuditPath is where the audit log is written: security.audit_log_path, or
// $XDG_STATE_HOME/lsp-router/audit.jsonl (~/.local/state when unset).
func (c *Config) AuditPath() string {
	if c.Security.AuditLogPath != "" {
		return c.Security.AuditLogPath
	}
	dir := StateDir()
	if dir == "" {
		return filepath.Join(os.TempDir(), "lsp-router-audit.jsonl")
	}
	return filepath.Join(dir, "audit.jsonl")
}

// StateDir is $XDG_STATE_HOME/lsp-router (~/.local/state/lsp-router when
// unset): the audit log and the trust store live there. "" when there is
// no home directory.
func StateDir() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "lsp-router")
}
