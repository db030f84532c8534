#!/bin/sh
# The old way, for the side-by-side benchmark only (bench/containers.ts): the
# entrypoint.sh that preflight replaces, rebuilt from SPEC's description of
# it. It waits with `nc -z` once a second for up to 60 s, retries
# `alembic upgrade head` 6 times with 2, 4, 8, 16, 32 s between attempts,
# then runs uvicorn, printing the same `[entrypoint]` markers. Its faults are
# kept on purpose: a port that accepts counts as ready, one-second polling,
# sh as PID 1 (ignores SIGTERM while it waits), no lock between replicas,
# commands split by the shell without quoting rules.

DB_HOST="${DB_HOST:-postgres}"
DB_PORT="${DB_PORT:-5432}"
ALEMBIC_CMD="${ALEMBIC_CMD:-alembic upgrade head}"
UVICORN_CMD="${UVICORN_CMD:-uvicorn app.main:app --host 0.0.0.0 --port ${PORT:-8000}}"

echo "[entrypoint] ============================================"
echo "[entrypoint] Waiting for Postgres at ${DB_HOST}:${DB_PORT}..."
i=0
until nc -z "$DB_HOST" "$DB_PORT" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then
    echo "[entrypoint] ⚠️ Postgres not reachable after 60s; continuing anyway."
    break
  fi
  sleep 1
done
echo "[entrypoint] ✓ DB connectivity check complete."

echo "[entrypoint] Running database migrations..."
attempt=1
delay=2
while :; do
  echo "[entrypoint] Alembic attempt ${attempt}/6..."
  # shellcheck disable=SC2086 # split by the shell, as the old script did
  $ALEMBIC_CMD
  code=$?
  if [ "$code" -eq 0 ]; then
    echo "[entrypoint] ✓ Migrations applied successfully."
    break
  fi
  echo "[entrypoint] ✗ Alembic exited with code ${code}."
  if [ "$attempt" -ge 6 ]; then
    echo "[entrypoint] ⚠️ Migrations did not complete."
    break
  fi
  echo "[entrypoint] Retrying in ${delay}s..."
  sleep "$delay"
  attempt=$((attempt + 1))
  delay=$((delay * 2))
done

echo "[entrypoint] Starting Uvicorn application..."
echo "[entrypoint] ============================================"
# shellcheck disable=SC2086
exec $UVICORN_CMD
