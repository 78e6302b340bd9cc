#!/usr/bin/env bash
# Makes a Compose implementation available to validate docker-compose.yml
# (`config -q` parses, interpolates and schema-checks the file; no Docker engine
# is needed for that). Does nothing when one is already there; otherwise
# installs Debian's docker-compose package (without docker.io: there is no
# engine to run, and none is needed) with apt-get, updating the package lists
# first when they are empty or stale. It also makes sure Debian's python3 has
# PyYAML (python3-yaml, a dependency of docker-compose anyway): the tests read
# the compose file with it to check it against the compose-spec JSON schema.
#
# Prints the command to run, as one line: `docker compose` or the path of
# docker-compose. Exits non-zero when nothing can be installed.
set -euo pipefail

# The tests read the compose file with Debian's python3 and PyYAML.
have_yaml() {
  /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1
}

# The docker CLI's compose plugin (v2) first, then a standalone docker-compose.
compose_command() {
  if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
    return 0
  fi
  local candidate
  for candidate in "$(command -v docker-compose 2>/dev/null || true)" /usr/bin/docker-compose; do
    if [[ -n "$candidate" && -x "$candidate" ]] && "$candidate" version >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if command=$(compose_command) && have_yaml; then
  echo "$command"
  exit 0
fi

packages=(python3-yaml)
compose_command >/dev/null || packages+=(docker-compose)

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" install-compose-validator "${packages[@]}"

if command=$(compose_command) && have_yaml; then
  echo "$command"
  exit 0
fi
echo "install-compose-validator: installed ${packages[*]}, but Compose or PyYAML still does not run" >&2
exit 1
