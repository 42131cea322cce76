#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in package.json; `make setup` installs it) against
# `lsp-router mcp --http` on a free loopback port.
#
# Usage: tools/mcp-conformance/run.sh path/to/lsp-router
#
# The selected scenarios are the ones that test a server in general:
# the handshake, ping, tools/list (our five tools and their schemas),
# several SSE streams at once, and DNS-rebinding protection. The others
# call the reference "everything" server's fixture tools, prompts and
# resources (test_simple_text, test_image_content, test_tool_with_progress,
# test_sampling, resources/read of test:// URIs...), or need features
# lsp-router does not offer (completion, sampling, elicitation, resources,
# prompts, logging); progress, tool errors and cancellation of our own tools
# are tested in cmd/lsp-router/mcp_test.go instead.
#
# 0.1.13 is the newest suite that runs on Node 20 (0.1.14 and later import
# fs.globSync, Node 22).
set -euo pipefail

SCENARIOS="server-initialize ping tools-list server-sse-multiple-streams dns-rebinding-protection"

here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$(dirname "${1:?usage: run.sh path/to/lsp-router}")" && pwd)/$(basename "$1")
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
if [ ! -f "$suite" ]; then
	echo "run.sh: the conformance suite is not installed: run 'make setup' (npm install in tools/mcp-conformance)" >&2
	exit 1
fi

work=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# A private configuration and state: no user file, no default audit log.
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" LSP_ROUTER_CONFIG=
mkdir -p "$work/project"
"$bin" mcp --http 127.0.0.1:0 --workspace "$work/project" 2>"$work/server.log" &
pid=$!

# The server prints its address once it listens (port 0: the kernel picks).
url=""
for _ in $(seq 1 300); do
	url=$(sed -n 's|^lsp-router mcp: serving MCP at \(http://[^ ]*\) .*|\1|p' "$work/server.log")
	[ -n "$url" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
	sleep 0.1
done
if [ -z "$url" ]; then
	echo "run.sh: lsp-router mcp did not start:" >&2
	cat "$work/server.log" >&2
	exit 1
fi

failed=""
for s in $SCENARIOS; do
	if ! (cd "$work" && node "$suite" server --url "$url" --scenario "$s"); then
		failed="$failed $s"
	fi
done
if [ -n "$failed" ]; then
	echo "MCP conformance: failed:$failed (server log below)" >&2
	cat "$work/server.log" >&2
	exit 1
fi
echo "MCP conformance: all selected scenarios passed ($SCENARIOS)"
