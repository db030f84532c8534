#!/usr/bin/env bash
# Usage: scripts/install-deps.sh
# Installs, only where missing, what the test suite needs on Debian/Ubuntu:
# Deno 2.9.6 (from the npm registry; Debian's nodejs and npm first if no npm), PostgreSQL 15, Redis, Alembic, Uvicorn,
# FastAPI, psycopg2, docker-compose (v1, to validate the compose file),
# wait-for-it, netcat and hyperfine (benchmark baselines), nginx (the
# frontend proxy test), MariaDB, RabbitMQ and dnsmasq (the mysql://, amqp://
# and dns:// checks). Idempotent; run as root.
set -euo pipefail

DENO_VERSION=2.9.6
if ! deno --version 2>/dev/null | grep -q "^deno ${DENO_VERSION} "; then
  if ! command -v npm >/dev/null; then
    # A bare Debian has no Node.js: Debian's npm is enough to fetch Deno.
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
  fi
  npm install -g "deno@${DENO_VERSION}"
fi

packages=(postgresql-15 redis-server alembic uvicorn python3-fastapi python3-psycopg2
  docker-compose wait-for-it netcat-openbsd openssl procps util-linux iproute2
  nginx-light hyperfine mariadb-server rabbitmq-server dnsmasq)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Debian may start its own cluster and Redis on the default ports; the tests
# start their own servers on free ports and do not need them.
