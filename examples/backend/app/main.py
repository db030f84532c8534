"""Example ASGI API started by preflight: ``uvicorn app.main:app``.

``GET /health`` is what ``preflight probe`` (the image's HEALTHCHECK) and
``preflight doctor`` read. It answers 200 while the database is reachable,
even when the start was degraded (wait timed out, migrations failed, Redis
down: ``"status": "degraded"``), and 503 when the database is not reachable.

For demonstrations and the end-to-end tests, ``HEALTH_FAIL_FILE`` names a
file whose existence makes ``/health`` answer 503 (``"status": "failing"``)
while the rest of the app keeps working: ``touch`` it to see a health check
or preflight's watchdog react, remove it to recover. Unset: no effect.
"""

from __future__ import annotations

import os
import socket
import ssl
from typing import Optional
from urllib.parse import unquote, urlsplit

import psycopg2
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app import settings

CONNECT_TIMEOUT_S = 3
REDIS_TIMEOUT_S = 2.0

app = FastAPI(title="preflight example backend")


def _mask(message: str, *secrets: Optional[str]) -> str:
    """First line of an error message with every secret replaced by ``***``."""
    lines = str(message).strip().splitlines()
    text = lines[0] if lines else "unknown error"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:300]


def check_database() -> tuple[str, Optional[str]]:
    """``("ok", revision)`` or ``("error: ...", None)``; revision is the
    current Alembic revision, None when the schema was never migrated."""
    password = settings.database_password()
    try:
        url = settings.database_url()
        if url is not None:
            conn = psycopg2.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
        else:
            conn = psycopg2.connect(
                connect_timeout=CONNECT_TIMEOUT_S, **settings.database_params()
            )
    except Exception as exc:  # any failure is reported, never raised
        return "error: " + _mask(str(exc) or type(exc).__name__, password), None
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
            if not cur.fetchone()[0]:
                return "ok", None
            cur.execute("SELECT version_num FROM alembic_version ORDER BY 1")
            heads = [row[0] for row in cur.fetchall()]
            return "ok", ",".join(heads) if heads else None
    except Exception as exc:
        return "error: " + _mask(str(exc) or type(exc).__name__, password), None
    finally:
        conn.close()


def _resp(*args: str) -> bytes:
    """A RESP array of bulk strings, the form Redis expects from clients."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_line(sock: socket.socket) -> str:
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("connection closed by Redis")
        buf += chunk
        if len(buf) > 4096:
            raise ConnectionError("reply too long")
    return buf[:-2].decode(errors="replace")


def check_redis() -> str:
    """``"ok"`` when AUTH (if any) and PING succeed, ``"skipped"`` without
    ``REDIS_URL``, else ``"error: ..."``. A raw socket keeps redis-py out of
    the API's dependencies."""
    url = settings.redis_url()
    if url is None:
        return "skipped"
    parts = urlsplit(url)
    password = unquote(parts.password) if parts.password else None
    try:
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"unsupported scheme '{parts.scheme}'")
        host = parts.hostname or "localhost"
        port = parts.port or 6379
        sock = socket.create_connection((host, port), timeout=REDIS_TIMEOUT_S)
        if parts.scheme == "rediss":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        with sock:
            sock.settimeout(REDIS_TIMEOUT_S)
            if password is not None:
                user = unquote(parts.username) if parts.username else None
                auth = ("AUTH", user, password) if user else ("AUTH", password)
                sock.sendall(_resp(*auth))
                reply = _read_line(sock)
                if not reply.startswith("+"):
                    raise ConnectionError(reply.lstrip("-"))
            sock.sendall(_resp("PING"))
            reply = _read_line(sock)
            if reply != "+PONG":
                raise ConnectionError(reply.lstrip("-+"))
        return "ok"
    except Exception as exc:
        return "error: " + _mask(str(exc) or type(exc).__name__, password)


def forced_failure() -> bool:
    """True while the file named by ``HEALTH_FAIL_FILE`` exists."""
    path = os.environ.get("HEALTH_FAIL_FILE")
    return bool(path) and os.path.exists(path)


@app.get("/health")
def health() -> JSONResponse:
    """Liveness and start status in one small JSON document."""
    if forced_failure():
        return JSONResponse(
            {"status": "failing", "reason": "HEALTH_FAIL_FILE exists"},
            status_code=503,
        )
    database, revision = check_database()
    redis = check_redis()
    wait = os.environ.get("PREFLIGHT_WAIT") or "unknown"
    migrations = os.environ.get("PREFLIGHT_MIGRATIONS") or "unknown"
    healthy = (
        database == "ok"
        and redis in ("ok", "skipped")
        and wait != "timeout"
        and migrations != "failed"
    )
    body = {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "redis": redis,
        "wait": wait,
        "migrations": migrations,
        "revision": revision,
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
