# Stand-in for python:3.12-slim, built from Debian bookworm because no image
# can be pulled here. Python 3.11 from Debian, with the example backend's
# packages preinstalled from Debian (pip's registry is unreachable): the
# project's `pip install -r requirements.txt` then finds every requirement
# satisfied and downloads nothing (PIP_NO_INDEX makes sure it never tries).
ARG BASE=preflight-standin/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-pip python3-fastapi uvicorn alembic celery \
      python3-psycopg2 python3-sqlalchemy python3-celery python3-redis \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s python3 /usr/bin/python
# requirements.txt names psycopg2-binary (the wheel for images without a C
# compiler); Debian's python3-psycopg2 is the same module, so it is
# registered under that distribution name too.
RUN set -e; v="$(python3 -c 'import psycopg2; print(psycopg2.__version__.split()[0])')"; \
    d="/usr/lib/python3/dist-packages/psycopg2_binary-$v.dist-info"; mkdir "$d"; \
    printf 'Metadata-Version: 2.1\nName: psycopg2-binary\nVersion: %s\nSummary: Debian python3-psycopg2 registered as psycopg2-binary (preflight stand-in)\n' "$v" >"$d/METADATA"; \
    printf 'debian\n' >"$d/INSTALLER"; : >"$d/RECORD"
# Debian's fastapi 0.92 declares starlette<0.26 but Debian ships 0.26.1 (and
# runs them together); pip would refuse that pair, so the bound is relaxed.
RUN sed -i 's/^Requires-Dist: starlette<0.26.0,>=0.25.0$/Requires-Dist: starlette>=0.25.0/' \
      /usr/lib/python3/dist-packages/fastapi-*.dist-info/METADATA \
 && pip check
ENV LANG=C.UTF-8 \
    PIP_NO_INDEX=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1
LABEL preflight.standin="python:3.12-slim"
CMD ["python3"]
