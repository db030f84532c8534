"""Database and Redis settings read from the environment.

The same variables as preflight: ``DATABASE_URL`` if set, else ``DB_HOST`` /
``DB_PORT`` with credentials from ``PG*`` or ``POSTGRES_*``. Shared by the
health endpoint (psycopg2) and Alembic's ``env.py`` (SQLAlchemy) so that the
app and its migrations always talk to the same database.
"""

from __future__ import annotations

import os
import re
from typing import Optional

# SQLAlchemy-style driver suffixes ("postgresql+psycopg2://") are not
# understood by libpq, and "postgres://" is not understood by SQLAlchemy 1.4+.
_SCHEME = re.compile(r"^(postgres|postgresql)(\+[A-Za-z0-9_]+)?://")


def _env(*names: str, default: Optional[str] = None) -> Optional[str]:
    """The first of ``names`` that is set to a non-empty value."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return default


def database_url() -> Optional[str]:
    """``DATABASE_URL`` as a libpq URI (``postgresql://...``), or None."""
    url = _env("DATABASE_URL")
    if url is None:
        return None
    return _SCHEME.sub("postgresql://", url, count=1)


def database_params() -> dict:
    """Connection keywords from ``DB_HOST``/``DB_PORT`` and ``PG*``/``POSTGRES_*``."""
    user = _env("PGUSER", "POSTGRES_USER", default="postgres")
    params = {
        "host": _env("DB_HOST", "PGHOST", default="postgres"),
        "port": int(_env("DB_PORT", "PGPORT", default="5432")),
        "user": user,
        "dbname": _env("PGDATABASE", "POSTGRES_DB", default=user),
    }
    password = _env("PGPASSWORD", "POSTGRES_PASSWORD")
    if password is not None:
        params["password"] = password
    return params


def database_password() -> Optional[str]:
    """The database password wherever it comes from, so messages can mask it."""
    url = database_url()
    if url is not None:
        from urllib.parse import unquote, urlsplit

        password = urlsplit(url).password
        return unquote(password) if password else None
    return database_params().get("password")


def sqlalchemy_url():
    """A SQLAlchemy URL for Alembic, built without string formatting so that
    passwords with ``@``, ``/`` or ``%`` need no escaping in the environment."""
    from sqlalchemy.engine import URL, make_url

    url = database_url()
    if url is not None:
        return make_url(url).set(drivername="postgresql+psycopg2")
    params = database_params()
    return URL.create(
        drivername="postgresql+psycopg2",
        username=params["user"],
        password=params.get("password"),
        host=params["host"],
        port=params["port"],
        database=params["dbname"],
    )


def redis_url() -> Optional[str]:
    """``REDIS_URL``, or None when the app runs without Redis."""
    return _env("REDIS_URL")
