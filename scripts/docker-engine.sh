#!/usr/bin/env bash
# Usage: scripts/docker-engine.sh start|stop|status
#
# Makes a Docker engine available for `deno task e2e`, idempotently:
#   start   reuse an engine that answers (`docker info`); else install
#           Debian's docker.io, docker-compose and debootstrap where missing
#           and start dockerd in the background, its data in one directory
#           and its pid in a file of ours. Waits until it answers.
#   stop    end the dockerd that `start` started (its pid file), and nothing
#           else: an engine started by anyone else is left alone.
#   status  say which engine answers and whether this script started it.
#
# Settings (environment):
#   PREFLIGHT_ENGINE_DIR   state of a daemon we start: pid file, log, exec root
#                          (default /var/lib/preflight-engine)
#   PREFLIGHT_ENGINE_DATA  its --data-root (default /var/lib/docker, so images
#                          built earlier on this machine are reused)
#   PREFLIGHT_ENGINE_ARGS  extra dockerd arguments. For a second daemon beside
#                          a running one, NOT --bridge=none: dockerd then
#                          deletes the host's docker0, which the first needs
#                          (give it its own --bridge and --iptables=false)
#   DOCKER_HOST            unix:///path/to.sock: the socket to use (default
#                          /var/run/docker.sock)
# Run as root (it installs packages and starts a daemon).
set -euo pipefail

dir="${PREFLIGHT_ENGINE_DIR:-/var/lib/preflight-engine}"
data="${PREFLIGHT_ENGINE_DATA:-/var/lib/docker}"
host="${DOCKER_HOST:-unix:///var/run/docker.sock}"
# Our record of the daemon this script started (dockerd keeps its own pid
# file beside it, which must not exist before it starts).
pidfile="$dir/started-by-docker-engine-sh.pid"
log="$dir/dockerd.log"

say() { echo "docker-engine: $*" >&2; }

answers() { timeout 10 docker -H "$host" info >/dev/null 2>&1; }

# The pid in our pid file, when that process is still a dockerd.
our_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  echo "$pid"
}

install_missing() {
  local missing=() p
  for p in docker.io docker-compose debootstrap; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [[ "${#missing[@]}" -gt 0 ]]; then
    say "installing ${missing[*]}"
    apt-get update
    # The package's service is not started here (no init system in CI);
    # this script starts the daemon itself.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

start() {
  if answers; then
    if our_pid >/dev/null; then
      say "reusing the engine this script started (pid $(our_pid))"
    else
      say "reusing the running engine at $host"
    fi
    return 0
  fi
  install_missing
  if pid="$(our_pid)"; then
    say "dockerd (pid $pid) is starting; waiting for it"
  else
    mkdir -p "$dir" "$data"
    local sock="${host#unix://}"
    # --exec-root and the pid file under our directory, so that a second
    # daemon (another DOCKER_HOST and directories) does not collide with one
    # that runs already. setsid: the daemon outlives this shell and its job.
    setsid dockerd \
      --host "$host" \
      --data-root "$data" \
      --exec-root "$dir/exec" \
      --pidfile "$dir/dockerd.pid" \
      --storage-driver=overlay2 \
      --exec-opt native.cgroupdriver=cgroupfs \
      ${PREFLIGHT_ENGINE_ARGS:-} \
      </dev/null >>"$log" 2>&1 &
    echo "$!" >"$pidfile"
    say "started dockerd (pid $!), socket $sock, data $data, log $log"
  fi
  local i
  for i in $(seq 1 120); do
    if answers; then
      say "engine ready"
      return 0
    fi
    if ! our_pid >/dev/null; then
      say "dockerd exited; the end of $log:"
      tail -n 20 "$log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  say "dockerd did not answer within 60s; see $log"
  return 1
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    say "no engine started by this script is running; nothing stopped"
    rm -f "$pidfile"
    return 0
  fi
  say "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local i
  for i in $(seq 1 60); do
    [[ -d "/proc/$pid" ]] || break
    sleep 0.5
  done
  if [[ -d "/proc/$pid" ]]; then
    say "dockerd (pid $pid) still running after 30s; sending SIGKILL"
    kill -KILL "$pid" || true
  fi
  rm -f "$pidfile"
  say "stopped"
}

status() {
  if answers; then
    if pid="$(our_pid)"; then
      echo "running: started by this script (pid $pid), $host"
    else
      echo "running: not started by this script, $host"
    fi
  else
    echo "not running at $host"
    return 1
  fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
