#!/usr/bin/env bash
# Runs a command with Node.js >= 22 first on PATH (scripts/install-node.sh
# installs it into .tools/node when the node on PATH is older). Every npm script
# that runs project code goes through it, so tsx, vitest and their child
# processes all run on the same Node.
set -euo pipefail
node_bin_dir=$(bash "$(dirname "${BASH_SOURCE[0]}")/install-node.sh")
if [[ -n $node_bin_dir ]]; then
  export PATH="$node_bin_dir:$PATH"
fi
exec "$@"
