#!/usr/bin/env bash
# Usage: scripts/standin-images.sh
#
# Builds local stand-ins for the upstream images that the Dockerfile and
# docker-compose.yml name, for an engine that cannot pull images:
#   python:3.12-slim, denoland/deno:2.9.6, postgres:15, redis:7,
#   nginxinc/nginx-unprivileged:1.27-alpine
# Each is a Debian bookworm root filesystem (debootstrap --variant=minbase,
# imported as preflight-standin/debian:bookworm) plus what the image needs
# from Debian (e2e/standins/*.Dockerfile), tagged with the upstream name, so
# the project's own files build and run unchanged. Idempotent and cached: the
# root filesystem is kept in PREFLIGHT_STANDIN_CACHE (default
# /var/cache/preflight-standins), the images in the engine; a rerun only
# checks. An image of that name that is not a stand-in (a real pulled image)
# is left alone and used. Run as root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PREFLIGHT_STANDIN_CACHE:-/var/cache/preflight-standins}"
mirror="${PREFLIGHT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
base=preflight-standin/debian:bookworm
# Bumped whenever the root filesystem is made differently: a base image of an
# older version is rebuilt (and the stand-ins with it).
version=2
say() { echo "standin-images: $*" >&2; }

# The label a stand-in carries ("" when the image is absent or has none).
standin_label() {
  docker image inspect --format '{{ index .Config.Labels "preflight.standin" }}' "$1" 2>/dev/null || true
}
exists() { docker image inspect "$1" >/dev/null 2>&1; }

base_version() {
  docker image inspect --format '{{ index .Config.Labels "preflight.standin.version" }}' "$base" 2>/dev/null || true
}
if [[ "$(base_version)" != "$version" ]]; then
  tar="$cache/bookworm-minbase-v$version.tar"
  if [[ ! -s "$tar" ]]; then
    command -v debootstrap >/dev/null || {
      apt-get update
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
    }
    mkdir -p "$cache"
    rm -rf "$cache/rootfs.tmp"
    say "debootstrap --variant=minbase bookworm (about a minute)"
    debootstrap --variant=minbase bookworm "$cache/rootfs.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
      tail -n 20 "$cache/debootstrap.log" >&2
      exit 1
    }
    # As the official debian image: apt keeps no package caches or binary
    # caches in layers (its docker-clean), no recommends.
    rm -rf "$cache/rootfs.tmp/var/cache/apt/"*.bin "$cache/rootfs.tmp/var/cache/apt/archives/"*.deb \
      "$cache/rootfs.tmp/var/lib/apt/lists/"*
    cat >"$cache/rootfs.tmp/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
      >"$cache/rootfs.tmp/etc/apt/apt.conf.d/90preflight-standin"
    tar -C "$cache/rootfs.tmp" -cf "$tar.tmp" .
    mv "$tar.tmp" "$tar"
    rm -rf "$cache/rootfs.tmp" "$cache"/bookworm-minbase.tar "$cache"/bookworm-minbase-v[0-9]*.tar.tmp
  fi
  say "importing $base"
  docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' \
    --change "LABEL preflight.standin.version=$version" "$tar" "$base" >/dev/null
fi

# name -> Dockerfile under e2e/standins
declare -A files=(
  ["python:3.12-slim"]=python
  ["denoland/deno:2.9.6"]=deno
  ["postgres:15"]=postgres
  ["redis:7"]=redis
  ["nginxinc/nginx-unprivileged:1.27-alpine"]=nginx
)

build() {
  local image="$1" name="$2" ctx
  if exists "$image" && [[ -z "$(standin_label "$image")" ]]; then
    say "$image exists and is not a stand-in: using it as it is"
    return 0
  fi
  local before
  before="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  ctx="$(mktemp -d)"
  cp "$root/e2e/standins/"* "$ctx/"
  if [[ "$name" == deno ]]; then
    cp "$(readlink -f "$(command -v deno)")" "$ctx/deno"
    cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  fi
  # The layer cache makes a rebuild of an unchanged stand-in a no-op.
  if docker build -q -f "$ctx/$name.Dockerfile" --build-arg "BASE=$base" -t "$image" "$ctx" >"$ctx/build.log" 2>&1; then
    say "$image ready"
    # A stand-in it replaces, now untagged, is removed (when nothing uses it).
    if [[ -n "$before" && "$before" != "$(docker image inspect --format '{{.Id}}' "$image")" ]]; then
      docker rmi "$before" >/dev/null 2>&1 || true
    fi
  else
    say "building $image failed:"
    tail -n 30 "$ctx/build.log" >&2
    rm -rf "$ctx"
    return 1
  fi
  rm -rf "$ctx"
}

# Two at a time: the apt downloads overlap, the machine has 2 cores.
status=0
pids=()
for image in "${!files[@]}"; do
  build "$image" "${files[$image]}" &
  pids+=("$!")
  if [[ "${#pids[@]}" -ge 2 ]]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
