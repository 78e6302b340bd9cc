#!/usr/bin/env bash
# The README's test command: installs what is missing, typechecks, runs every
# test on Node >= 22 (vitest's forked workers inherit its node binary), and
# ends with a plain "N passed, N failed" line.
set -uo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

bash scripts/bootstrap.sh || exit 1
node_bin_dir=$(bash scripts/install-node.sh) || exit 1
if [[ -n $node_bin_dir ]]; then
  export PATH="$node_bin_dir:$PATH"
fi
echo "Node $(node --version) ($(command -v node))"
echo "Typechecking (tsc --noEmit)..."
node node_modules/typescript/bin/tsc --noEmit || { echo "0 passed, 1 failed: typecheck"; exit 1; }

report=$(mktemp)
# Every temporary directory the tests make (run directories, data directories,
# chaos runs: some 120 MB a run) goes under one root, removed when the run
# passes and kept, with its path printed, when it fails.
suite_tmp=$(mktemp -d -t rs-cleanup-suite-XXXXXX)
export TMPDIR=$suite_tmp
node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" 2>/dev/null || echo "0 passed, 1 failed: vitest wrote no report"
rm -f "$report"
if [[ $status -eq 0 ]]; then
  rm -rf "$suite_tmp" 2>/dev/null
else
  echo "The tests' temporary files are kept in $suite_tmp"
fi
exit $status
