#!/usr/bin/env bash
# Installs Debian packages for the test suite's independent tools:
#   scripts/apt-install.sh WHO PACKAGE...
# As root, or with passwordless sudo; refreshes the package lists once when the
# install fails on empty or stale ones. WHO prefixes the messages.
set -euo pipefail
who=$1
shift

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$who: $* missing and apt-get is not available" >&2
  exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "$who: $* missing and apt-get needs root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "$who: installing $* with apt-get..." >&2
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >&2; then
  "${sudo[@]}" apt-get update -q >&2
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >&2
fi
