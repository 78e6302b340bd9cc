#!/usr/bin/env bash
# Makes the AWS CLI available for the emulator tests and prints every distinct
# working `aws` binary, one path per line: Debian's awscli (v2, /usr/bin/aws),
# installed with apt-get when missing, and any other `aws` on PATH (pip's v1 on
# a fresh machine of this kind). The tests run against each, because v1 and v2
# parse parameters differently. Exits non-zero only when no AWS CLI works.
set -euo pipefail

works() {
  [[ -n "$1" && -x "$1" ]] && "$1" --version >/dev/null 2>&1
}

if ! works /usr/bin/aws; then
  # Not fatal: another aws on PATH may still do.
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" install-awscli awscli ||
    echo "install-awscli: could not install Debian's awscli; using whatever aws is on PATH" >&2
fi

found=0
declare -A seen=()
for candidate in /usr/bin/aws $(type -ap aws 2>/dev/null || true); do
  works "$candidate" || continue
  real=$(readlink -f "$candidate")
  [[ -n "${seen[$real]:-}" ]] && continue
  seen[$real]=1
  echo "$candidate"
  found=1
done

if [[ $found -eq 0 ]]; then
  echo "install-awscli: no working AWS CLI (tried Debian's awscli and aws on PATH)" >&2
  exit 1
fi
