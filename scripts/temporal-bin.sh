#!/usr/bin/env bash
# Prints the path of a `temporal` CLI binary, building one offline when needed.
#
# Order: $TEMPORAL_BIN, then `temporal` on PATH, then a project-local build in
# .tools/bin made once from the Go module proxy. v1.5.1 is pinned on purpose:
# v1.6.0 and later carry a `replace` directive in go.mod, which `go install`
# refuses. CGO is off because the dev server's SQLite is pure Go.
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
local_bin="$repo_root/.tools/bin/temporal"

if [[ -n "${TEMPORAL_BIN:-}" ]]; then
  if [[ -x "$TEMPORAL_BIN" ]]; then
    echo "$TEMPORAL_BIN"
    exit 0
  fi
  echo "TEMPORAL_BIN is set to '$TEMPORAL_BIN', but no executable is there. Point it at a temporal CLI binary, or unset it to build one." >&2
  exit 1
fi

if [[ -x "$local_bin" ]]; then
  echo "$local_bin"
  exit 0
fi

if on_path=$(command -v temporal 2>/dev/null); then
  echo "$on_path"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
rs-cleanup needs the Temporal CLI (for its local dev server) and could not find one.
Either install Go >= 1.25 (https://go.dev/dl/) so this script can build it once into
.tools/bin with 'go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION',
or install the Temporal CLI yourself and set TEMPORAL_BIN=/path/to/temporal.
MSG
  exit 1
fi

echo "Building the Temporal CLI $TEMPORAL_CLI_VERSION into .tools/bin (once; a few minutes on a cold Go cache)..." >&2
log="$repo_root/.tools/temporal-build.log"
mkdir -p "$repo_root/.tools/bin"
if ! CGO_ENABLED=0 GOBIN="$repo_root/.tools/bin" GOFLAGS=-mod=mod \
    go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >"$log" 2>&1; then
  cat >&2 <<MSG
Building the Temporal CLI failed; the last lines of the Go output ($log) are:
$(tail -n 5 "$log" | sed 's/^/    /')
Install Go >= 1.25 and make sure the Go module proxy is reachable, or install the
Temporal CLI yourself and set TEMPORAL_BIN=/path/to/temporal.
MSG
  exit 1
fi
echo "$local_bin"
