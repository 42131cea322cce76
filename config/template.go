package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// Template is the commented default file `lsp-router config init` writes.
// Every line that sets a value repeats the built-in default, so deleting a
// line changes nothing.
const Template = `# lsp-router configuration. Every value shown is the built-in default.
# Check it with: lsp-router config validate

# Local LLM servers probed at start-up. Leave endpoint out to use the server's
# default address; set enabled = false to skip one.
# Known: ollama lmstudio jan openwebui localai vllm llamacpp koboldcpp gpt4all
#        textgenwebui tgi sglang
[services.ollama]
# endpoint = "http://127.0.0.1:11434"
# priority = 10         # lower wins when two services offer the same model
# timeout = "30s"
# max_retries = 2       # only before the first token, never a started generation
# api_key_env = ""      # name of the environment variable holding the key
# api_key_file = ""     # or a file holding the key (keys never go in this file)
# context_length = 0    # window (tokens) to size prompts for; 0 = what the server reports

# [services.lmstudio]
# enabled = false

# Servers that report no window get a small one (GPT4All 2048, Open WebUI
# 2048, Jan/LocalAI/text-generation-webui 4096); set yours if it is larger:
# [services.gpt4all]
# context_length = 4096

# Servers the defaults do not cover, e.g. a team's inference hosts. Their
# addresses must also be allowed under [security].
# [[custom_endpoints]]
# name = "team-vllm-1"
# endpoint = "http://10.0.0.5:8000"
# priority = 10
# api_style = "openai"  # or "ollama"; detected when left out
# context_length = 8192  # optional: the window its models run with
# api_key_env = "TEAM_VLLM_KEY"

# Model preference per task category: coding, reasoning, analysis, documentation.
# Models are matched against what the services really have.
# [task_routing.coding]
# primary_models = ["qwen2.5-coder:32b", "qwen2.5-coder:7b"]
# fallback_models = ["llama3.1:8b"]
# min_context = 16384
# require_serena = false

[routing]
# vram_ceiling_gb = 0      # skip catalog models needing more memory (0: no limit)
# llm_classifier = false   # let the smallest local model classify unclear requests
# discovery_ttl = "30s"
# probe_timeout = "400ms"
# catalog_file = ""        # extra or corrected model entries: [[model]] tables as in the built-in catalog

[generation]
# connect_timeout = "2s"
# first_token_timeout = "5m0s"  # generous: a cold model loads for a long time
# idle_timeout = "1m0s"         # longest gap between two tokens
# total_timeout = "10m0s"       # longest a whole answer may take
# max_answer_tokens = 2048
# keep_alive = "30m"            # how long Ollama keeps the model loaded

# Serena (MCP) gives the richest code context. "{workspace}" is replaced by the
# workspace root. Without it, lsp-router runs the language servers below itself.
[serena]
# enabled = false
# command = ["serena", "start-mcp-server", "--project", "{workspace}", "--context", "ide",
#            "--transport", "stdio", "--enable-web-dashboard", "false", "--open-web-dashboard", "false"]
# url = ""              # or a running Serena: "http://127.0.0.1:8000/mcp"
# timeout = "30s"
# start_timeout = "1m0s"  # how long a request waits for a starting Serena

# Language servers the built-in backend starts, per language id.
# [language_servers.go]
# command = ["gopls"]
# [language_servers.python]
# command = ["pyright-langserver", "--stdio"]

[context]
# compaction_threshold = 0.8     # compact a conversation above this share of the context
# compaction_target = 0.5        # ... down to this share
# preserve_recent_messages = 4
# max_tool_output_tokens = 2000
# max_references = 10
# max_file_bytes = 8388608      # largest workspace file read for context (8 MB)
# editor_timeout = "2s"         # wait for each context answer from the editor's own language servers
# language_servers_idle_timeout = "10m"  # stop a language server lsp-router started after this idle time

[security]
# allow_external = false         # only loopback unless listed below
# allowed_hosts = []             # e.g. ["gpu1.internal"]
# allowed_cidrs = []             # e.g. ["10.0.0.0/24"]
# allow_proxy = false            # honour HTTP(S)_PROXY variables
# audit_enabled = true
# audit_log_path = ""            # default: $XDG_STATE_HOME/lsp-router/audit.jsonl
# audit_max_bytes = 10485760     # rotate after this size; the hash chain continues
# audit_on_failure = "refuse"    # no audit record, no query; "warn" sends queries unrecorded
# audit_key_file = ""            # HMAC key of the chain; default: $XDG_STATE_HOME/lsp-router/audit.key
# audit_fsync = "query"          # fsync each query's record; "background": fsync right after (a power cut may lose the last ms)
# log_queries = true             # as SHA-256 hashes
# log_queries_plaintext = false
# log_responses = false
# verify_checksums = false       # refuse models not pinned below
# [security.redaction]           # secrets are replaced before a prompt leaves
# enabled = true                 # turning it off loosens security
# extra_patterns = []            # RE2 regexes, e.g. ["ACME-[0-9a-f]{32}"]
# [security.model_pins]          # print yours with: lsp-router models --pin
# "qwen2.5-coder:7b" = "sha256:..."

# Prompt templates per action (explain refactor document fix tests ask), in Go
# text/template syntax; see lsp-router ask --dry-run for what they receive.
# [prompts]
# explain = """..."""

# Inline completions (ghost text) from a small local fill-in-the-middle model.
# [completion]
# enabled = true
# model = ""                     # empty: a small, loaded FIM-capable coding model
# max_tokens = 128
# max_lines = 12
# context_tokens = 1536          # text around the cursor plus snippets of open files
# debounce = "75ms"              # a newer keystroke within it replaces the request
# timeout = "5s"
# lsp_completion_items = false   # also answer textDocument/completion
`

// WriteTemplate writes the commented default file to path, refusing to
// overwrite an existing file unless force is set.
func WriteTemplate(path string, force bool) error {
	if !force {
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s already exists; use --force to overwrite it", path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(Template), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// Encode writes c as TOML, as `config show` prints it.
func Encode(c *Config) ([]byte, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return buf.Bytes(), nil
}
