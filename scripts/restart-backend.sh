#!/bin/sh
# Usage: scripts/restart-backend.sh [--no-logs] [--tail-lines N] [OPTIONS...]
#
# The old restart helper's interface, kept so that existing runbooks keep
# working: restarts the Compose service `backend` with
# `preflight restart backend`, which waits until it is healthy *after* this
# restart, then shows its log lines since the restart and the doctor summary.
#
#   --no-logs         do not show the backend's log lines
#   --logs            show them (the default; accepted for old runbooks)
#   --tail-lines N    how many log lines since the restart to show (default 50)
#   OPTIONS           passed to `preflight restart` as they are, e.g.
#                     --timeout 3m, -f docker-compose.yml, --project-directory DIR
#
# preflight is found on PATH, or set PREFLIGHT_BIN to its path. Exit codes are
# preflight's: 0 healthy, 1 not healthy in time, 2 invalid option or no docker.
set -eu

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

bin="${PREFLIGHT_BIN:-preflight}"

# Rebuild the arguments without the wrapper's own words; the rest goes to
# preflight unchanged (same names: --no-logs, --tail-lines N).
n=$#
while [ "$n" -gt 0 ]; do
  arg="$1"
  shift
  n=$((n - 1))
  case "$arg" in
    -h | --help)
      usage
      exit 0
      ;;
    --logs) ;;
    *) set -- "$@" "$arg" ;;
  esac
done

if ! command -v "$bin" >/dev/null 2>&1; then
  echo "restart-backend.sh: '$bin' not found: put preflight on PATH or set PREFLIGHT_BIN to its path" >&2
  exit 127
fi

exec "$bin" restart backend "$@"
