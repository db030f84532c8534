#!/usr/bin/env bash
# Usage: scripts/check-compose.sh [COMPOSE_FILE]
#
# Validates the Compose file (default: docker-compose.yml at the repo root)
# without a Docker engine: `docker compose config` (or the v1 `docker-compose
# config`) with .env.example standing in for .env, then the dclint linter
# (npx -y dclint@3, or DCLINT_VERSION), warnings included. Exits non-zero
# when either fails or is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="$(cd "$(dirname "${1:-$root/docker-compose.yml}")" && pwd)/$(basename "${1:-docker-compose.yml}")"
env_example="$root/.env.example"

if [[ ! -f "$file" ]]; then
  echo "check-compose: no compose file '$file'" >&2
  exit 2
fi

# The compose file's env_file (.env) is a user's secret file, absent from the
# repo: validate a copy in a temp dir where .env.example is the .env, so a
# real .env is neither needed nor read nor created.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$file" "$tmp/docker-compose.yml"
cp "$env_example" "$tmp/.env"
# Build contexts are resolved (and must exist) relative to the copy.
cp "$root/Dockerfile" "$tmp/Dockerfile" 2>/dev/null || true

status=0

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "check-compose: neither 'docker compose' nor 'docker-compose' found (apt-get install docker-compose)" >&2
  exit 2
fi

echo "== ${compose[*]} config"
if (cd "$tmp" && "${compose[@]}" -f docker-compose.yml --project-directory "$tmp" config -q); then
  echo "ok"
else
  echo "check-compose: '${compose[*]} config' rejected $file" >&2
  status=1
fi

echo "== dclint"
# Rule settings: ports in double quotes (as `deno fmt` writes YAML), and no
# top-level `name:`, which docker-compose v1 (still Debian's) rejects.
cat >"$tmp/dclintrc.json" <<'JSON'
{
  "rules": {
    "require-quotes-in-ports": [1, { "quoteType": "double" }],
    "require-project-name-field": 0
  }
}
JSON
if (cd "$root" && npx -y "dclint@${DCLINT_VERSION:-3}" "$file" --max-warnings 0 -c "$tmp/dclintrc.json"); then
  echo "ok"
else
  echo "check-compose: dclint reported problems in $file" >&2
  status=1
fi

exit "$status"
