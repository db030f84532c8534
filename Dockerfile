# syntax=docker/dockerfile:1
#
# Example backend image started by preflight instead of an entrypoint.sh.
#   docker build -t preflight-example-backend:local .
# Stage 1 compiles preflight into one self-contained binary; stage 2 is the
# slim Python app image with that binary as ENTRYPOINT. Nothing on the start
# path (ENTRYPOINT, CMD, HEALTHCHECK) needs a shell, nc, wget or curl.

# ---------------------------------------------------------------------------
FROM denoland/deno:2.9.6 AS build
WORKDIR /build
# Dependencies first: this layer is reused until deno.json or deno.lock change.
COPY deno.json deno.lock ./
RUN ["deno", "install", "--frozen"]
COPY src/ ./src/
# Same flags as the compile task, written out so the image does not depend on
# where the task puts its output. The --include modules are imported by a
# computed specifier (src/lazy.ts), which deno compile cannot see by itself.
RUN ["deno", "compile", "--frozen", "-A", "--include", "src/commands/run.ts", "--include", "src/commands/wait.ts", "--include", "src/commands/migrate.ts", "--include", "src/commands/probe.ts", "--include", "src/commands/doctor.ts", "--include", "src/commands/restart.ts", "--include", "src/commands/version.ts", "--include", "src/commands/help.ts", "--include", "src/config/load_config.ts", "--include", "src/config/redact.ts", "--include", "src/log/setup_logging.ts", "--include", "src/log/logger.ts", "--include", "src/checks/tcp.ts", "--include", "src/checks/postgres.ts", "--include", "src/checks/redis.ts", "--include", "src/checks/http.ts", "--output", "/out/preflight", "src/main.ts"]

# ---------------------------------------------------------------------------
FROM python:3.12-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Requirements before the code, so a code change does not reinstall them.
COPY examples/backend/requirements.txt ./
RUN ["pip", "install", "--no-cache-dir", "-r", "requirements.txt"]
RUN ["useradd", "--system", "--uid", "10001", "--no-create-home", "--shell", "/usr/sbin/nologin", "app"]
COPY --from=build /out/preflight /usr/local/bin/preflight
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
