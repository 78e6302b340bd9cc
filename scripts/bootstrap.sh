#!/usr/bin/env bash
# Installs what the project needs, and nothing when it is already there:
# node_modules from package-lock.json, and the Temporal CLI binary.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# npm ci leaves node_modules/.package-lock.json behind; when it is at least as
# new as package-lock.json, the installed tree matches the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing Node dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch node_modules/.package-lock.json
fi

bash scripts/temporal-bin.sh >/dev/null
