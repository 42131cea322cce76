#!/usr/bin/env bash
# Headless Emacs test of editors/emacs/lsp-router.el: lsp-mode runs gopls and
# lsp-router (as an add-on server) on a Go file; Document, Refactor (from the
# minibuffer's instruction and from a marker comment) and Explain run against
# the Ollama double (tools/fakellm); edits are checked in the buffer, each
# undone by one `undo', and gopls' diagnostics must still reach lsp-mode.
# Explain on a copy of container/list must carry gopls' hover text and
# references, answered by Emacs, while lsp-router starts no gopls itself.
#
#   editors/emacs/test/run.sh
#
# Needs: emacs (Debian: emacs-nox elpa-lsp-mode elpa-go-mode elpa-eglot), go,
# gopls on PATH (or in $(go env GOPATH)/bin). Environment: EMACS (default
# emacs), LSP_ROUTER_BIN / LSP_ROUTER_FAKELLM (skip the builds),
# LSP_ROUTER_TEST_TIMEOUT (seconds, default 120).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
emacs="${EMACS:-emacs}"
if ! command -v "$emacs" >/dev/null 2>&1; then
  echo "emacs not found: apt-get install -y emacs-nox elpa-lsp-mode elpa-go-mode elpa-eglot (or set EMACS=/path/to/emacs)" >&2
  echo "emacs: 0 passed, 1 failed"
  exit 1
fi
for pkg in lsp-mode go-mode; do
  if ! ls -d /usr/share/emacs/site-lisp/elpa/$pkg-* >/dev/null 2>&1; then
    echo "Emacs package $pkg not found in /usr/share/emacs/site-lisp/elpa: apt-get install -y elpa-lsp-mode elpa-go-mode elpa-eglot (make setup does)" >&2
    echo "emacs: 0 passed, 1 failed"
    exit 1
  fi
done
PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v gopls >/dev/null 2>&1; then
  echo "gopls not found: go install golang.org/x/tools/gopls@v0.23.0 (make setup does)" >&2
  echo "emacs: 0 passed, 1 failed"
  exit 1
fi

tmp="$(mktemp -d)"
fakellm_pid=""
echo_pid=""
cleanup() {
  [ -n "$fakellm_pid" ] && kill "$fakellm_pid" 2>/dev/null
  [ -n "$echo_pid" ] && kill "$echo_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# Isolate Emacs and lsp-router from the user's configuration and state; Go
# keeps its build cache (a fresh one would rebuild everything).
export GOCACHE="$(go env GOCACHE)"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache"
unset LSP_ROUTER_CONFIG

if [ -z "${LSP_ROUTER_BIN:-}" ]; then
  if ! (cd "$root" && go build -o "$tmp/lsp-router" ./cmd/lsp-router) >"$tmp/build.log" 2>&1; then
    echo "cannot build lsp-router:" >&2; cat "$tmp/build.log" >&2
    echo "emacs: 0 passed, 1 failed"; exit 1
  fi
  LSP_ROUTER_BIN="$tmp/lsp-router"
fi
if [ -z "${LSP_ROUTER_FAKELLM:-}" ]; then
  if ! (cd "$root" && go build -o "$tmp/fakellm" ./tools/fakellm) >"$tmp/build.log" 2>&1; then
    echo "cannot build tools/fakellm:" >&2; cat "$tmp/build.log" >&2
    echo "emacs: 0 passed, 1 failed"; exit 1
  fi
  LSP_ROUTER_FAKELLM="$tmp/fakellm"
fi

# One answer serves every action: Document takes its doc comment, Refactor
# the whole function, Explain shows it.
cat >"$tmp/reply.txt" <<'REPLY'
The greeting is now built in a variable first:

```go
// Greet returns the greeting for name.
func Greet(name string) string {
	greeting := "Hello, " + name + "!"
	return greeting
}
```
REPLY
"$LSP_ROUTER_FAKELLM" --kind ollama --addr 127.0.0.1:0 --reply-file "$tmp/reply.txt" >"$tmp/fakellm.out" 2>"$tmp/fakellm.err" &
fakellm_pid=$!
url=""
for _ in $(seq 1 200); do
  url="$(head -n1 "$tmp/fakellm.out" 2>/dev/null)"
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the LLM double did not start:" >&2; cat "$tmp/fakellm.err" >&2
  echo "emacs: 0 passed, 1 failed"; exit 1
fi

# A second double answers with the prompt it received: the editor-context
# test reads in it what the editor's gopls contributed.
"$LSP_ROUTER_FAKELLM" --kind ollama --addr 127.0.0.1:0 --echo >"$tmp/echo.out" 2>"$tmp/echo.err" &
echo_pid=$!
echo_url=""
for _ in $(seq 1 200); do
  echo_url="$(head -n1 "$tmp/echo.out" 2>/dev/null)"
  [ -n "$echo_url" ] && break
  sleep 0.1
done
if [ -z "$echo_url" ]; then
  echo "the echoing LLM double did not start:" >&2; cat "$tmp/echo.err" >&2
  echo "emacs: 0 passed, 1 failed"; exit 1
fi

ws="$tmp/ws"
mkdir -p "$ws"
printf 'module example.com/greet\n\ngo 1.22\n' >"$ws/go.mod"
printf 'package greet\n\n// Greet says hello to name. Ünïcødé for UTF-16 columns.\nfunc Greet(name string) string {\n\treturn "Hello, " + name\n}\n' >"$ws/greet.go"

# The package compiles without a warning (Debian's elpa packages on the
# load path, as a user has them); the test loads the compiled file.
cp "$root/editors/emacs/lsp-router.el" "$tmp/lsp-router.el"
elpa="(progn (setq package-directory-list '(\"/usr/share/emacs/site-lisp/elpa\") package-user-dir \"$tmp/elpa\") (package-initialize))"
if ! "$emacs" --batch -Q --eval "$elpa" --eval '(setq byte-compile-error-on-warn t)' \
    -f batch-byte-compile "$tmp/lsp-router.el" >"$tmp/compile.log" 2>&1; then
  echo "lsp-router.el does not compile cleanly:" >&2; cat "$tmp/compile.log" >&2
  echo "emacs: 0 passed, 1 failed"; exit 1
fi

export LSP_ROUTER_BIN LSP_ROUTER_TEST_URL="$url" LSP_ROUTER_TEST_ECHO_URL="$echo_url" LSP_ROUTER_TEST_WS="$ws" LSP_ROUTER_TEST_TMP="$tmp"
timeout "${LSP_ROUTER_TEST_TIMEOUT:-120}" "$emacs" --batch -Q \
  -l "$tmp/lsp-router.elc" -l "$here/lsp-router-test.el" \
  -f ert-run-tests-batch-and-exit
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- lsp-router log (tail)" >&2
  grep -v "method=textDocument/didChange" "$tmp/lsp-router.log" 2>/dev/null | tail -n 40 >&2
  [ $rc -eq 124 ] && echo "emacs test timed out" >&2
  echo "emacs: failed (exit $rc)"
  exit 1
fi
echo "emacs: passed"
