/**
 * `preflight run` end to end, with real processes: a PostgreSQL that starts
 * after preflight, the example backend's real `alembic upgrade head`, and a
 * hand-over to real `uvicorn` by exec.
 */
import assert from "node:assert/strict";
import { freePort, startPostgres } from "./_servers.ts";
import { preflightArgv, runPreflight } from "./_cli.ts";

const BACKEND = new URL("../examples/backend", import.meta.url).pathname;

function baseEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    PYTHONDONTWRITEBYTECODE: "1",
    NO_COLOR: "1",
    ...extra,
  };
}

async function getHealth(
  port: number,
): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(2000),
    });
    const body = await res.json();
    return res.ok ? body : undefined;
  } catch {
    return undefined;
  }
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  into: string[],
): Promise<void> {
  const dec = new TextDecoder();
  for await (const chunk of stream) {
    into.push(dec.decode(chunk, { stream: true }));
  }
}

Deno.test("run with only the old script's variables waits for a late database, migrates with Alembic and execs uvicorn with its own PID", async () => {
  const password = "e2e-pw-7f3a9c";
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
    startDelayMs: 2000,
  });
  const port = freePort();
  const [cmd, ...pre] = preflightArgv();
  const child = new Deno.Command(cmd, {
    args: pre,
    cwd: BACKEND,
    env: baseEnv({
      DB_HOST: "127.0.0.1",
      DB_PORT: String(pg.port),
      POSTGRES_USER: "postgres",
      POSTGRES_PASSWORD: password,
      POSTGRES_DB: "app",
      PORT: String(port),
      ALEMBIC_CMD: "alembic upgrade head",
      UVICORN_CMD: "uvicorn app.main:app --host 127.0.0.1 --port ${PORT}",
    }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  const err: string[] = [];
  const reading = Promise.all([
    readAll(child.stdout, out),
    readAll(child.stderr, err),
  ]);
  try {
    let health: Record<string, unknown> | undefined;
    for (let i = 0; i < 600 && !health; i++) {
      health = await getHealth(port);
      if (!health) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      health,
      `the app never became healthy\n${err.join("")}${out.join("")}`,
    );
    assert.equal(health.database, "ok");
    assert.equal(health.wait, "ready");
    assert.equal(health.migrations, "applied");
    // exec: the process preflight started as is now uvicorn, same PID.
    const cmdline = await Deno.readTextFile(`/proc/${child.pid}/cmdline`);
    assert.match(cmdline, /uvicorn/);
    assert.equal(
      (await pg.psql("select count(*) from items", "app")).trim(),
      "1",
    );
    assert.equal(
      (await pg.psql("select version_num from alembic_version", "app")).trim(),
      "0002",
    );
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* ended already: the assertions above say why */ }
    await child.status;
    await reading;
  }
  const log = err.join("");
  const markers = [
    "[entrypoint] ============================================",
    `[entrypoint] Waiting for Postgres at 127.0.0.1:${pg.port}...`,
    "[entrypoint] ✓ DB connectivity check complete.",
    "[entrypoint] Running database migrations...",
    "[entrypoint] Alembic attempt 1/6...",
    "[entrypoint] ✓ Migrations applied successfully.",
    "[entrypoint] Startup: wait ",
    "[entrypoint] Starting Uvicorn application...",
    "[entrypoint] ============================================",
  ];
  let from = 0;
  for (const m of markers) {
    const at = log.indexOf(m, from);
    assert.ok(at >= 0, `marker '${m}' missing or out of order in:\n${log}`);
    from = at + m.length;
  }
  assert.ok(!log.includes(password), "the password was printed");
});

Deno.test("a migration command that always fails is tried six times on the doubling schedule, then continue hands over with PREFLIGHT_MIGRATIONS=failed", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await runPreflight([
      "run",
      "--no-wait",
      "--migrate-delay",
      "50ms",
      "--migrate-max-delay",
      "300ms",
      "--",
      "/bin/sh",
      "-c",
      `echo "$PREFLIGHT_WAIT $PREFLIGHT_MIGRATIONS" > ${tmp}/status`,
    ], { MIGRATE_CMD: "/bin/sh -c 'exit 7'" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      (await Deno.readTextFile(`${tmp}/status`)).trim(),
      "skipped failed",
    );
    const attempts = [...r.stderr.matchAll(/Migration attempt (\d)\/6\.\.\./g)]
      .map((
        m,
      ) => m[1]);
    assert.deepEqual(attempts, ["1", "2", "3", "4", "5", "6"], r.stderr);
    assert.equal(
      [...r.stderr.matchAll(/✗ Migration exited with code 7\./g)].length,
      6,
    );
    const delays = [...r.stderr.matchAll(/Retrying in (\S+)\.\.\./g)].map((m) =>
      m[1]
    );
    assert.deepEqual(delays, ["50ms", "100ms", "200ms", "300ms", "300ms"]);
    assert.match(r.stderr, /⚠️ Migrations did not complete\./);
    // The delays are waited, not only logged: 50+100+200+300+300 ms.
    const migrateSecs = Number(
      /Startup: wait skipped, migrate (\d+\.\d\d)s \(6 attempts, failed\), handover at/
        .exec(r.stderr)?.[1],
    );
    assert.ok(
      migrateSecs >= 0.95,
      `migrate took ${migrateSecs}s:\n${r.stderr}`,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("with --on-migrate-failure fail, failed migrations exit 3 and the app never starts", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await runPreflight([
      "run",
      "--no-wait",
      "--migrate-attempts",
      "2",
      "--migrate-delay",
      "10ms",
      "--on-migrate-failure",
      "fail",
      "--",
      "touch",
      `${tmp}/app-ran`,
    ], { MIGRATE_CMD: "false" });
    assert.equal(r.code, 3, r.stderr);
    await assert.rejects(Deno.stat(`${tmp}/app-ran`));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("run exits 127 for a missing migration command and for a missing app, 126 for a non-executable app", async () => {
  let r = await runPreflight(["run", "--no-wait", "--", "true"], {
    MIGRATE_CMD: "no-such-migrator up",
  });
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /no-such-migrator/);
  // Reported before anything: not one startup marker was printed.
  assert.doesNotMatch(
    r.stderr,
    /={10}|Waiting for|Running database migrations/,
  );
  r = await runPreflight([
    "run",
    "--no-wait",
    "--no-migrate",
    "--",
    "no-such-app-binary",
  ]);
  assert.equal(r.code, 127, r.stderr);
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${tmp}/app`, "#!/bin/sh\necho hi\n");
    await Deno.chmod(`${tmp}/app`, 0o644);
    r = await runPreflight([
      "run",
      "--no-wait",
      "--no-migrate",
      "--",
      `${tmp}/app`,
    ]);
    assert.equal(r.code, 126, r.stderr);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--on-timeout fail exits 124 when the database never comes; continue hands over with PREFLIGHT_WAIT=timeout", async () => {
  const port = freePort();
  let r = await runPreflight([
    "run",
    "--timeout",
    "300ms",
    "--on-timeout",
    "fail",
    "--no-migrate",
    "--",
    "true",
  ], {
    DB_HOST: "127.0.0.1",
    DB_PORT: String(port),
  });
  assert.equal(r.code, 124, r.stderr);
  r = await runPreflight([
    "run",
    "--timeout",
    "300ms",
    "--no-migrate",
    "--",
    "/bin/sh",
    "-c",
    'echo "status=$PREFLIGHT_WAIT"',
  ], {
    DB_HOST: "127.0.0.1",
    DB_PORT: String(port),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /status=timeout/);
  assert.match(r.stderr, /⚠️ Dependencies not ready/);
});

Deno.test("a migration child killed by a signal counts as a failed attempt with code 128+N", async () => {
  const r = await runPreflight([
    "run",
    "--no-wait",
    "--migrate-attempts",
    "1",
    "--",
    "true",
  ], {
    MIGRATE_CMD: "/bin/sh -c 'kill -KILL $$'",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /✗ Migration exited with code 137\./);
  assert.match(r.stderr, /⚠️ Migrations did not complete\./);
});

Deno.test("a database that comes up after the wait budget still gets the migration retries, under the lock", async () => {
  const password = "late-pw-2c7e";
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
    startDelayMs: 2500,
  });
  const r = await runPreflight([
    "run",
    "--timeout",
    "500ms",
    "--migrate-delay",
    "1s",
    "--",
    "/bin/sh",
    "-c",
    'echo "wait=$PREFLIGHT_WAIT migrations=$PREFLIGHT_MIGRATIONS"',
  ], {
    DB_HOST: "127.0.0.1",
    DB_PORT: String(pg.port),
    POSTGRES_USER: "postgres",
    POSTGRES_PASSWORD: password,
    POSTGRES_DB: "app",
    MIGRATE_CMD: "true",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /✗ True not run: cannot take the migration lock: connection refused by 127\.0\.0\.1:\d+\./,
  );
  assert.match(r.stderr, /✓ Migrations applied successfully\./);
  assert.match(r.stdout, /wait=timeout migrations=applied/);
});
