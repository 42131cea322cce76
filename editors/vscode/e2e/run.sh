#!/usr/bin/env bash
# The lsp-router extension in a real VS Code: code-server (VS Code 1.100 in
# the browser) driven by headless Chromium through puppeteer-core, with the
# real `lsp-router serve` and the Ollama double (tools/fakellm) answering.
#
#   editors/vscode/e2e/run.sh
#
# Needs: `npm ci` in this directory (make setup), Debian's chromium and
# ripgrep, Go. Screenshots and logs go to editors/vscode/test-results/.
# Environment: LSP_ROUTER_VSIX (use this .vsix instead of packaging one),
# CHROMIUM (default /usr/bin/chromium), LSP_ROUTER_E2E_TIMEOUT (seconds,
# default 280).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext="$(cd "$here/.." && pwd)"
root="$(cd "$ext/../.." && pwd)"
results="$ext/test-results"
chromium="${CHROMIUM:-/usr/bin/chromium}"
start=$(date +%s)

fail() { echo "vscode e2e: $*" >&2; echo "vscode e2e: 0 passed, 1 failed"; exit 1; }
[ -x "$chromium" ] || fail "chromium not found at $chromium: apt-get install -y chromium (or set CHROMIUM)"
command -v rg >/dev/null || fail "ripgrep not found: apt-get install -y ripgrep"
[ -d "$here/node_modules/code-server" ] && [ -d "$here/node_modules/puppeteer-core" ] ||
  fail "e2e dependencies missing: run make setup (or cd editors/vscode/e2e && npm ci)"
bash "$here/prepare.sh" >/dev/null || fail "code-server could not be prepared (see above)"

tmp="$(mktemp -d)"
pids=()   # process groups we started (setsid): code-server's extension host, lsp-router, gopls go with it
cleanup() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for p in "${pids[@]}"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp" 2>/dev/null || { sleep 1; rm -rf "$tmp"; }
}
trap cleanup EXIT
rm -rf "$results" && mkdir -p "$results"

# The binaries. lsp-router goes to ~/.local/bin of a scratch HOME and not on
# PATH: the extension must find it there by itself, as after
# `go build -o ~/.local/bin/lsp-router` on a desktop whose VS Code has a short PATH.
gopath="$(go env GOPATH)"
export GOPATH="$gopath" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)"
home="$tmp/home"
mkdir -p "$home/.local/bin"
(cd "$root" && go build -o "$home/.local/bin/lsp-router" ./cmd/lsp-router && go build -o "$tmp/fakellm" ./tools/fakellm) ||
  fail "cannot build lsp-router or tools/fakellm"
# gopls checks the edits. VS Code takes PATH from a login shell of the scratch
# HOME, so the settings name it by its full path, as a user would.
export PATH="$gopath/bin:$PATH"
gopls="$(command -v gopls)" || fail "gopls not found: make setup installs it"
if command -v lsp-router >/dev/null; then
  fail "an lsp-router is on PATH ($(command -v lsp-router)): the test must find its own in ~/.local/bin; remove it from PATH for this run"
fi

# The extension, packaged as users install it.
vsix="${LSP_ROUTER_VSIX:-}"
if [ -z "$vsix" ]; then
  vsix="$tmp/lsp-router.vsix"
  (cd "$ext" && npm run compile >/dev/null && npx --no-install vsce package --skip-license -o "$vsix" >"$tmp/vsce.log" 2>&1) ||
    { cat "$tmp/vsce.log" >&2; fail "cannot package the extension (npm ci in editors/vscode first)"; }
fi

# The LLM double: one answer that explains and carries the rewritten,
# documented function, so Explain, Document and Refactor all use it. The
# first token comes late enough for the status bar to be seen waiting.
cat >"$tmp/reply.md" <<'REPLY'
`Greet` joins "Hello, " and the name; the greeting is built first.

```go
// Greet returns the greeting "Hello, " followed by name and "!".
func Greet(name string) string {
	greeting := "Hello, " + name + "!"
	return greeting
}
```
REPLY
setsid "$tmp/fakellm" --kind ollama --addr 127.0.0.1:0 --reply-file "$tmp/reply.md" --first-token-delay 1500ms \
  >"$tmp/fakellm.out" 2>"$tmp/fakellm.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/fakellm.out" ] && break; sleep 0.1; done
llm_url="$(head -1 "$tmp/fakellm.out")"
[[ "$llm_url" == http://127.0.0.1:* ]] || fail "fakellm did not start: $(cat "$tmp/fakellm.err")"

# A second double whose rewrite calls an undefined function: gopls finds the
# error, so lsp-router sends the edit marked as still broken.
cat >"$tmp/broken.md" <<'REPLY'
```go
// Greet returns the greeting.
func Greet(name string) string {
	return greeting(name)
}
```
REPLY
setsid "$tmp/fakellm" --kind ollama --addr 127.0.0.1:0 --reply-file "$tmp/broken.md" >"$tmp/broken.out" 2>"$tmp/broken.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/broken.out" ] && break; sleep 0.1; done
broken_url="$(head -1 "$tmp/broken.out")"
[[ "$broken_url" == http://127.0.0.1:* ]] || fail "the second fakellm did not start: $(cat "$tmp/broken.err")"

# The workspace: a Go module with one file, settings that point lsp-router at
# the double only (every other service off, so no real local server is
# probed), no Serena, logs inside the scratch directory.
ws="$tmp/ws"
mkdir -p "$ws/.vscode"
# No go directive: VS Code's login-shell PATH may reach an older go than ours.
printf 'module greet\n' >"$ws/go.mod"
cp "$root/editors/neovim/test/testdata/greet.go" "$ws/greet.go"
node -e '
const [ws, url, tmp, gopls] = process.argv.slice(1);
const services = {};
for (const k of ["ollama","lmstudio","jan","openwebui","localai","vllm","llamacpp","koboldcpp","gpt4all","textgenwebui","tgi","sglang"]) services[k] = { enabled: false };
services.ollama = { endpoint: url };
require("fs").writeFileSync(ws + "/.vscode/settings.json", JSON.stringify({
  "lspRouter.args": ["--log-level", "debug", "--log-file", tmp + "/lsp-router.log"],
  "lspRouter.services": services,
  "lspRouter.serena": { enabled: false },
  "lspRouter.languageServers": { go: { command: [gopls] } },
  "lspRouter.security": { audit_log_path: tmp + "/audit.log" },
}, null, 2));
' "$ws" "$llm_url" "$tmp" "$gopls"

# VS Code's user settings: no welcome page, tips, trust prompt or update checks.
data="$tmp/code-data"
mkdir -p "$data/User"
cat >"$data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "editor.minimap.enabled": false,
  "editor.quickSuggestions": { "other": false, "comments": false, "strings": false },
  "chat.commandCenter.enabled": false,
  "files.autoSave": "off"
}
JSON
export HOME="$home" XDG_CONFIG_HOME="$tmp/xdg-config" XDG_DATA_HOME="$tmp/xdg-data" XDG_CACHE_HOME="$tmp/xdg-cache"
unset LSP_ROUTER_CONFIG
cs="$here/node_modules/.bin/code-server"
common=(--user-data-dir "$data" --extensions-dir "$tmp/code-ext")
"$cs" "${common[@]}" --install-extension "$vsix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "code-server --install-extension failed"; }
grep -q "successfully installed" "$tmp/install.log" || { cat "$tmp/install.log" >&2; fail "the .vsix was not installed"; }

setsid "$cs" "${common[@]}" --auth none --bind-addr 127.0.0.1:0 --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override --disable-proxy "$ws" >"$tmp/code-server.log" 2>&1 &
pids+=($!)
cs_url=""
for _ in $(seq 300); do
  cs_url="$(sed -n 's/.*HTTP server listening on \(http:\/\/127\.0\.0\.1:[0-9]*\/\).*/\1/p' "$tmp/code-server.log" | head -1)"
  [ -n "$cs_url" ] && break
  sleep 0.1
done
[ -n "$cs_url" ] || { cat "$tmp/code-server.log" >&2; fail "code-server did not start"; }

rc=0
CODE_URL="$cs_url" BROKEN_LLM_URL="$broken_url" WORKSPACE="$ws" RESULTS="$results" CHROMIUM="$chromium" LSP_ROUTER_LOG="$tmp/lsp-router.log" \
  timeout "${LSP_ROUTER_E2E_TIMEOUT:-280}" node "$here/e2e.test.mjs" || rc=$?
cp "$tmp/code-server.log" "$tmp/lsp-router.log" "$results/" 2>/dev/null || true
find "$data/logs" -name '*.log' -path '*lsp-router*' -exec cp {} "$results/" \; 2>/dev/null || true
echo "vscode e2e: $(( $(date +%s) - start ))s; screenshots and logs in ${results#"$root"/}/"
[ "$rc" -eq 124 ] && echo "vscode e2e: timed out" >&2
exit "$rc"
