/**
 * The example backend under `examples/backend` (the app preflight starts in
 * the Docker image) works for real: its Alembic migrations against a
 * throwaway PostgreSQL, and its `/health` endpoint under uvicorn. Uses the
 * Debian `alembic` and `uvicorn` (running `/usr/bin/python3`), as in CI.
 */
import assert from "node:assert/strict";
import { freePort, type MiniPostgres, startMiniPostgres } from "./_pg_min.ts";

const BACKEND_DIR = new URL("../examples/backend/", import.meta.url).pathname;

/** Only the variables given, so nothing from the test runner leaks in. */
function cleanEnv(vars: Record<string, string>): Record<string, string> {
  return {
    PATH: "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    LANG: "C.UTF-8",
    PYTHONDONTWRITEBYTECODE: "1",
    ...vars,
  };
}

async function alembic(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("alembic", {
    args,
    cwd: BACKEND_DIR,
    clearEnv: true,
    env: cleanEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return { code: out.code, output };
}

async function upgradeHead(
  pg: MiniPostgres,
  env: Record<string, string>,
): Promise<string> {
  const { code, output } = await alembic(env, "upgrade", "head");
  assert(code === 0, `alembic upgrade head exited ${code}:\n${output}`);
  assert(
    !output.includes(pg.password),
    "alembic output must not contain the password",
  );
  return output;
}

async function itemsAndRevision(
  pg: MiniPostgres,
  db: string,
): Promise<{ items: string[]; revision: string }> {
  const items = (await pg.psql(db, "SELECT name FROM items ORDER BY id"))
    .trim().split("\n").filter((l) => l !== "");
  const revision =
    (await pg.psql(db, "SELECT version_num FROM alembic_version"))
      .trim();
  return { items, revision };
}

Deno.test("example alembic upgrade head applies both revisions once and a second run is a no-op", async () => {
  await using pg = await startMiniPostgres();
  await pg.psql("postgres", "CREATE DATABASE app");
  const env = { DATABASE_URL: pg.url("app") };

  const first = await upgradeHead(pg, env);
  assert(first.includes("-> 0001"), `0001 not applied:\n${first}`);
  assert(first.includes("0001 -> 0002"), `0002 not applied:\n${first}`);
  assert.deepEqual(
    await itemsAndRevision(pg, "app"),
    { items: ["seed"], revision: "0002" },
    "after the first upgrade",
  );

  const second = await upgradeHead(pg, env);
  assert(
    !second.includes("Running upgrade"),
    `second run migrated:\n${second}`,
  );
  assert.deepEqual(
    await itemsAndRevision(pg, "app"),
    { items: ["seed"], revision: "0002" },
    "after the second upgrade",
  );
});

Deno.test("example alembic reads DB_HOST, DB_PORT and POSTGRES_* or PG* when DATABASE_URL is unset", async () => {
  await using pg = await startMiniPostgres();
  await pg.psql("postgres", "CREATE DATABASE by_postgres_vars");
  await pg.psql("postgres", "CREATE DATABASE by_pg_vars");

  await upgradeHead(pg, {
    DB_HOST: "127.0.0.1",
    DB_PORT: String(pg.port),
    POSTGRES_USER: pg.user,
    POSTGRES_PASSWORD: pg.password,
    POSTGRES_DB: "by_postgres_vars",
  });
  assert.deepEqual(
    await itemsAndRevision(pg, "by_postgres_vars"),
    { items: ["seed"], revision: "0002" },
    "migrated with POSTGRES_*",
  );

  await upgradeHead(pg, {
    PGHOST: "127.0.0.1",
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
    PGDATABASE: "by_pg_vars",
  });
  assert.deepEqual(
    await itemsAndRevision(pg, "by_pg_vars"),
    { items: ["seed"], revision: "0002" },
    "migrated with PG*",
  );

  // A wrong password must fail the migration (the credentials are really used).
  const wrong = await alembic(
    {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(pg.port),
      POSTGRES_USER: pg.user,
      POSTGRES_PASSWORD: "not-the-password",
      POSTGRES_DB: "by_postgres_vars",
    },
    "upgrade",
    "head",
  );
  assert(wrong.code !== 0, "alembic succeeded with a wrong password");
  assert(
    wrong.output.includes("password authentication failed"),
    `unexpected failure:\n${wrong.output}`,
  );
});

interface Health {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

async function getHealth(port: number): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, {
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

/** A uvicorn child serving the example app; `close()` stops it. */
async function startUvicorn(
  env: Record<string, string>,
): Promise<AsyncDisposable & { port: number; health(): Promise<Health> }> {
  const port = freePort();
  const child = new Deno.Command("uvicorn", {
    args: ["app.main:app", "--host", "127.0.0.1", "--port", String(port)],
    cwd: BACKEND_DIR,
    clearEnv: true,
    env: cleanEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await output;
  };
  const logs = async () => {
    await close();
    const out = await output;
    return new TextDecoder().decode(out.stderr);
  };
  // Liveness only: a generous bound for a slow shared machine.
  const deadline = Date.now() + 30_000;
  let exited = false;
  child.status.then(() => exited = true);
  for (;;) {
    try {
      await getHealth(port);
      break;
    } catch (err) {
      if (exited || Date.now() > deadline) {
        throw new Error(
          `uvicorn did not serve /health (${err}):\n${await logs()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    port,
    health: () => getHealth(port),
    [Symbol.asyncDispose]: close,
  };
}

/** A real redis-server on a free loopback port, without persistence. */
async function startRedis(): Promise<AsyncDisposable & { port: number }> {
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`redis-server did not listen: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, [Symbol.asyncDispose]: close };
}

Deno.test("example /health reports database ok and echoes PREFLIGHT_WAIT and PREFLIGHT_MIGRATIONS", async () => {
  await using pg = await startMiniPostgres();
  await pg.psql("postgres", "CREATE DATABASE app");
  await upgradeHead(pg, { DATABASE_URL: pg.url("app") });
  await using redis = await startRedis();
  await using app = await startUvicorn({
    DATABASE_URL: pg.url("app"),
    REDIS_URL: `redis://127.0.0.1:${redis.port}/0`,
    PREFLIGHT_WAIT: "ready",
    PREFLIGHT_MIGRATIONS: "applied",
  });

  const health = await app.health();
  assert.deepEqual(health.status, 200, "HTTP status");
  assert.deepEqual(health.body, {
    status: "ok",
    database: "ok",
    redis: "ok",
    wait: "ready",
    migrations: "applied",
    revision: "0002",
  }, "health body");
});

Deno.test("example /health is degraded but 200 on a degraded start, and 503 once the database is stopped", async () => {
  await using pg = await startMiniPostgres();
  await pg.psql("postgres", "CREATE DATABASE fresh");
  const closedRedisPort = freePort();
  await using app = await startUvicorn({
    DB_HOST: "127.0.0.1",
    DB_PORT: String(pg.port),
    POSTGRES_USER: pg.user,
    POSTGRES_PASSWORD: pg.password,
    POSTGRES_DB: "fresh",
    REDIS_URL: `redis://127.0.0.1:${closedRedisPort}/0`,
    PREFLIGHT_MIGRATIONS: "failed",
  });

  const degraded = await app.health();
  assert.deepEqual(degraded.status, 200, "HTTP status with the database up");
  assert.deepEqual(degraded.body.status, "degraded", "status");
  assert.deepEqual(degraded.body.database, "ok", "database");
  assert.deepEqual(
    degraded.body.wait,
    "unknown",
    "wait without PREFLIGHT_WAIT",
  );
  assert.deepEqual(degraded.body.migrations, "failed", "migrations");
  assert.deepEqual(
    degraded.body.revision,
    null,
    "revision of an unmigrated schema",
  );
  assert(
    String(degraded.body.redis).startsWith("error: "),
    `redis should report an error: ${degraded.text}`,
  );

  await pg.stop();
  const down = await app.health();
  assert.deepEqual(down.status, 503, "HTTP status with the database stopped");
  assert.deepEqual(down.body.status, "degraded", "status");
  assert(
    String(down.body.database).startsWith("error: "),
    `database should report an error: ${down.text}`,
  );
  assert(
    !down.text.includes(pg.password) &&
      !down.text.includes(encodeURIComponent(pg.password)),
    "the health body must not contain the password",
  );
});
