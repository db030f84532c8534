"""Celery app for the Compose ``worker`` and ``beat`` services.

Started as ``preflight run --no-migrate -- celery -A app.worker worker``:
preflight waits for the database and Redis, skips the migrations (the
``backend`` service runs them) and execs Celery, which finds ``celery`` below.
"""

from __future__ import annotations

import os

from celery import Celery

REDIS_URL = os.environ.get("REDIS_URL") or "redis://redis:6379/0"

celery = Celery("app", broker=REDIS_URL, backend=REDIS_URL)
celery.conf.update(
    broker_connection_retry_on_startup=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    beat_schedule={
        "heartbeat-every-minute": {"task": "app.worker.heartbeat", "schedule": 60.0},
    },
)


@celery.task(name="app.worker.heartbeat")
def heartbeat() -> str:
    """A trivial periodic task, so that beat and worker visibly work together."""
    return "ok"
