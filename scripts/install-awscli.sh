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

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" install-awscli awscli

if working_aws; then
  exit 0
fi
echo "install-awscli: awscli was installed but 'aws --version' does not run" >&2
exit 1
