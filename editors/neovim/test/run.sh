#!/usr/bin/env bash
# Headless Neovim tests of the lsp-router plugin.
#
#   editors/neovim/test/run.sh [unit] [server] [e2e] [editorctx] [completion]   (default: all five)
#
# unit   : no server needed (options, arguments, statusline, answer window, health).
# server : the real `lsp-router serve` (built here from ./cmd/lsp-router): attach,
#          initialize, code actions, models/cancel commands, :checkhealth.
# e2e    : the full flow with an Ollama double (go run ./tools/fakellm): :LspRouterRefactor
#          edits the buffer, :LspRouterExplain shows the answer in a float.
# editorctx: Explain with context from the user's own gopls (skipped without gopls).
# completion : inline completion ghost text (extmarks) from the double, accepted,
#          accepted word by word, dismissed, toggled.
#
# Environment: NVIM (default nvim), LSP_ROUTER_BIN (skip the build and use this
# binary), LSP_ROUTER_FAKELLM (use this tools/fakellm binary), LSP_ROUTER_TEST_ONLY (run only tests whose name contains it),
# LSP_ROUTER_TEST_TIMEOUT (seconds per suite, default 300).
# Prints "N passed, N failed" at the end; exits non-zero when a test failed or
# a suite could not run.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
nvim="${NVIM:-nvim}"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit server e2e editorctx completion)

if ! command -v "$nvim" >/dev/null 2>&1; then
  echo "neovim not found: apt-get install -y neovim (or set NVIM=/path/to/nvim)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Isolate Neovim and lsp-router from the user's own configuration and state.
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache"
unset LSP_ROUTER_CONFIG
export LSP_ROUTER_TEST_TMP="$tmp" LSP_ROUTER_REPO="$root"
export LSP_ROUTER_TEST_RESULTS="$tmp/results"
: >"$LSP_ROUTER_TEST_RESULTS"

needs_bin=0
for s in "${suites[@]}"; do
  case "$s" in
    unit) ;;
    server|e2e|editorctx|completion) needs_bin=1 ;;
    *) echo "unknown suite $s (want unit, server, e2e, editorctx or completion)" >&2; exit 2 ;;
  esac
done

broken=0
if [ "$needs_bin" = 1 ]; then
  if [ -n "${LSP_ROUTER_BIN:-}" ]; then
    export LSP_ROUTER_BIN
  elif (cd "$root" && go build -o "$tmp/lsp-router" ./cmd/lsp-router) >"$tmp/build.log" 2>&1; then
    export LSP_ROUTER_BIN="$tmp/lsp-router"
  else
    echo "cannot build lsp-router (go build ./cmd/lsp-router):" >&2
    cat "$tmp/build.log" >&2
    broken=1
  fi
  # The LLM double is built once here; without it the e2e suite fails.
  if [ -n "${LSP_ROUTER_FAKELLM:-}" ]; then
    export LSP_ROUTER_FAKELLM
  elif [ -d "$root/tools/fakellm" ]; then
    if (cd "$root" && go build -o "$tmp/fakellm" ./tools/fakellm) >"$tmp/fakellm-build.log" 2>&1; then
      export LSP_ROUTER_FAKELLM="$tmp/fakellm"
    else
      echo "cannot build tools/fakellm:" >&2
      cat "$tmp/fakellm-build.log" >&2
    fi
  fi
fi

timeout_s="${LSP_ROUTER_TEST_TIMEOUT:-300}"
for s in "${suites[@]}"; do
  if [ "$s" != unit ] && [ -z "${LSP_ROUTER_BIN:-}" ]; then
    echo "FAIL - $s: no lsp-router binary (see the build error above)"
    echo "0 1 0" >>"$LSP_ROUTER_TEST_RESULTS"
    continue
  fi
  if { [ "$s" = e2e ] || [ "$s" = editorctx ] || [ "$s" = completion ]; } && [ -z "${LSP_ROUTER_FAKELLM:-}" ]; then
    echo "FAIL - $s: the LLM double tools/fakellm could not be built (see above)"
    echo "0 1 0" >>"$LSP_ROUTER_TEST_RESULTS"
    continue
  fi
  before=$(wc -l <"$LSP_ROUTER_TEST_RESULTS")
  (cd "$tmp" && timeout "$timeout_s" "$nvim" --headless -i NONE -u "$here/minimal_init.lua" \
    -c "lua lsp_router_run_spec([[$here/${s}_spec.lua]])" </dev/null)
  rc=$?
  after=$(wc -l <"$LSP_ROUTER_TEST_RESULTS")
  if [ "$after" = "$before" ]; then
    # The suite died before printing its counts (crash, timeout, syntax error).
    echo "FAIL - $s: suite did not finish (exit $rc)"
    echo "0 1 0" >>"$LSP_ROUTER_TEST_RESULTS"
  fi
done

read -r passed failed skipped < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$LSP_ROUTER_TEST_RESULTS")
[ "$broken" = 1 ] && failed=$((failed + 1))
echo
echo "neovim: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
