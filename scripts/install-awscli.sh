#!/usr/bin/env bash
# Makes the AWS CLI available for the emulator tests: does nothing when a
# working `aws` is on PATH, otherwise installs Debian's awscli package with
# apt-get (updating the package lists first when they are empty or stale).
# Prints the path of `aws` on success; exits non-zero when it cannot install.
set -euo pipefail

# Debian's package first (what the tests are written against), then any aws on PATH.
working_aws() {
  local candidate
  for candidate in /usr/bin/aws "$(command -v aws 2>/dev/null || true)"; do
    if [[ -n "$candidate" && -x "$candidate" ]] && "$candidate" --version >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if working_aws; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-awscli: aws is missing and apt-get is not available" >&2
  exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "install-awscli: aws is missing and apt-get needs root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-awscli: installing awscli with apt-get..." >&2
if ! "${sudo[@]}" apt-get install -y -q awscli >&2; then
  # Empty or stale package lists: refresh once and try again.
  "${sudo[@]}" apt-get update -q >&2
  "${sudo[@]}" apt-get install -y -q awscli >&2
fi

if working_aws; then
  exit 0
fi
echo "install-awscli: awscli was installed but 'aws --version' does not run" >&2
exit 1
