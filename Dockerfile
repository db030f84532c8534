#
# Example backend image started by preflight instead of an entrypoint.sh, and
# the preflight carrier image. Targets:
#   app      (the default, last stage) the slim Python example backend with
#            preflight at /usr/local/bin/preflight as its ENTRYPOINT
#   carrier  FROM scratch, only /preflight, for
#            COPY --from=IMAGE /preflight /usr/local/bin/preflight
#
#   docker build -t preflight-example-backend .
#   docker build --target carrier -t preflight .
#
# PREFLIGHT_FORM chooses how preflight gets into the image:
#   binary   (the default, what ships) one self-contained `deno compile` binary
#   source   Deno, the cached sources and a one-line launcher that execs
#            `deno run` with the compile task's permission flags, for hosts
#            that cannot download Deno's compile runtime (`denort`). Same path,
#            ENTRYPOINT and HEALTHCHECK; the carrier then holds the launcher
#            and is of no use.
# Base images are build arguments, the upstream images by default.
#
# The builder must skip the stage of the form not chosen: BuildKit does (the
# default builder since Docker 23, and of Compose v2). The legacy builder
# builds every stage before the target, so there PREFLIGHT_FORM=source still
# runs `deno compile` (README, Install).

ARG DENO_IMAGE=denoland/deno:2.9.6
ARG PYTHON_IMAGE=python:3.12-slim
ARG PREFLIGHT_FORM=binary

# ---------------------------------------------------------------------------
FROM ${DENO_IMAGE} AS deno-deps
WORKDIR /build
# Dependencies first: this layer is reused until deno.json or the locks change.
# deno.compile.lock pins only what src/main.ts uses: deno compile embeds every
# npm package of the lock it is given, so the project's deno.lock (test-only
# packages included) would add ~37 MB to the binary.
COPY deno.json deno.lock deno.compile.lock ./
RUN ["deno", "install", "--frozen"]
COPY src/ ./src/

# ---------------------------------------------------------------------------
FROM deno-deps AS preflight-binary
# Same flags as the compile task, written out so the image does not depend on
# where the task puts its output. Every module is imported with a literal
# specifier, which deno compile embeds by itself.
RUN ["deno", "compile", "--frozen", "--lock=deno.compile.lock", "-A", "--output", "/out/usr/local/bin/preflight", "src/main.ts"]

# ---------------------------------------------------------------------------
FROM deno-deps AS preflight-source
# Only what preflight runs: its sources, and a Deno cache holding exactly the
# modules of src/ and their npm packages. The launcher's
# --unstable-lazy-dynamic-imports loads each command and kind of target when
# it is first used, as the binary does (scripts/compile_all.ts).
ENV DENO_DIR=/out/opt/preflight/deno-dir
RUN mkdir -p /out/opt/preflight /out/usr/local/bin \
 && cp -r deno.json deno.compile.lock src /out/opt/preflight/ \
 && cd /out/opt/preflight \
 && deno cache --frozen --lock=deno.compile.lock $(find src -name '*.ts' ! -name '*_test.ts' | sort) \
 && cp "$(command -v deno)" /out/usr/local/bin/deno \
 && printf '%s\n' '#!/bin/sh' \
    'exec env DENO_DIR=/opt/preflight/deno-dir DENO_NO_UPDATE_CHECK=1 deno run --frozen --lock=/opt/preflight/deno.compile.lock --cached-only --no-prompt -A --unstable-lazy-dynamic-imports --config /opt/preflight/deno.json /opt/preflight/src/main.ts "$@"' \
    >/out/usr/local/bin/preflight \
 && chmod 755 /out/usr/local/bin/preflight \
 && chmod -R a+rX /out

# ---------------------------------------------------------------------------
FROM preflight-${PREFLIGHT_FORM} AS preflight

# ---------------------------------------------------------------------------
FROM scratch AS carrier
COPY --from=preflight /out/usr/local/bin/preflight /preflight
ENTRYPOINT ["/preflight"]

# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Requirements before the code, so a code change does not reinstall them.
COPY examples/backend/requirements.txt ./
RUN ["pip", "install", "--no-cache-dir", "-r", "requirements.txt"]
RUN ["useradd", "--system", "--uid", "10001", "--no-create-home", "--shell", "/usr/sbin/nologin", "app"]
# /usr/local/bin/preflight (and, in the source form, Deno and the sources).
COPY --from=preflight /out/ /
# Owned by root and read-only for "app": the running process cannot modify its code.
COPY examples/backend/ ./
USER app
ENV PORT=8000
EXPOSE 8000
# preflight execs the app, which then is PID 1 and gets SIGTERM directly.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["preflight", "probe"]
ENTRYPOINT ["preflight", "run", "--"]
# Keep the port in step with PORT (exec form cannot expand it): probe checks
# http://127.0.0.1:${PORT}/health.
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
