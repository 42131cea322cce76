#!/usr/bin/env bash
# Makes the code-server installed by `npm ci` (scripts off, see .npmrc) runnable
# offline: what its postinstall would do, minus the downloads. Idempotent and
# quick once done. Needs g++, make, python3 and Debian's ripgrep (rg).
#
#   1. argon2 (code-server's password hashing) built from source;
#   2. VS Code's own dependencies (lib/vscode, pinned by its npm-shrinkwrap.json)
#      installed without scripts, the native ones built with node-gyp against
#      the system Node's headers;
#   3. @vscode/ripgrep's bin/rg: a link to Debian's rg instead of the download;
#   4. node_modules.asar -> node_modules, as the postinstall does.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cs="$here/node_modules/code-server"
vs="$cs/lib/vscode"
if [ ! -f "$cs/package.json" ]; then
  echo "code-server is not installed: run (cd editors/vscode/e2e && npm ci) or make setup" >&2
  exit 1
fi
rg="$(command -v rg || true)"
if [ -z "$rg" ]; then
  echo "ripgrep not found: apt-get install -y ripgrep" >&2
  exit 1
fi
nodedir="${NODE_GYP_NODEDIR:-/usr}"
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "Node headers not found under $nodedir/include/node: install Node's headers (Debian: libnode-dev) or set NODE_GYP_NODEDIR" >&2
  exit 1
fi
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
node_gyp="$npm_dir/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$node_gyp" ] || { echo "node-gyp not found next to npm ($node_gyp)" >&2; exit 1; }

gyp() { # dir: build the addon in dir unless built
  local dir="$1"
  if ls "$dir"/build/Release/*.node >/dev/null 2>&1; then
    return 0
  fi
  echo "prepare: building $(basename "$dir")"
  (cd "$dir" && node "$node_gyp" rebuild --nodedir="$nodedir" >"$dir/.prepare-build.log" 2>&1) || {
    echo "prepare: building $dir failed; see $dir/.prepare-build.log" >&2
    tail -20 "$dir/.prepare-build.log" >&2
    return 1
  }
}

# 1. argon2 keeps its addon where node-pre-gyp puts it.
argon="$here/node_modules/argon2"
if ! ls "$argon"/lib/binding/*/argon2.node >/dev/null 2>&1; then
  echo "prepare: building argon2"
  (cd "$here" && npm_config_build_from_source=true npm rebuild argon2 --nodedir="$nodedir" --ignore-scripts=false >"$argon/.prepare-build.log" 2>&1) || true
  ls "$argon"/lib/binding/*/argon2.node >/dev/null 2>&1 || {
    echo "prepare: building argon2 failed; see $argon/.prepare-build.log" >&2
    tail -20 "$argon/.prepare-build.log" >&2
    exit 1
  }
fi

# 2. VS Code's dependencies.
if [ ! -d "$vs/node_modules/@vscode/spdlog" ]; then
  echo "prepare: installing VS Code's dependencies (lib/vscode)"
  (cd "$vs" && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
fi
# Native addons VS Code's server loads: logging, terminals, the watchdog,
# the machine id. (kerberos, for proxy authentication, needs GSSAPI headers
# and is loaded only behind an authenticating proxy: left out.)
for m in @vscode/spdlog node-pty native-watchdog @vscode/deviceid; do
  gyp "$vs/node_modules/$m"
done

# 3. ripgrep.
mkdir -p "$vs/node_modules/@vscode/ripgrep/bin"
ln -sfn "$rg" "$vs/node_modules/@vscode/ripgrep/bin/rg"

# 4. The asar path VS Code and extensions look in.
ln -sfn node_modules "$vs/node_modules.asar"
echo "prepare: code-server $(node -p "require('$cs/package.json').version") ready"
