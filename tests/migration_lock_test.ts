/**
 * The cross-replica migration lock, with eight real `preflight run`
 * processes and the example backend's real Alembic migrations against one
 * real PostgreSQL. The database starts a moment after the replicas, so all
 * eight are released at once, as replicas of a rolling deployment are.
 */
import assert from "node:assert/strict";
import { startPostgres } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";

const BACKEND = new URL("../examples/backend", import.meta.url).pathname;
const REPLICAS = 8;

async function startReplicas(
  extraArgs: string[],
): Promise<{ outputs: string[]; codes: number[]; rows: string }> {
  const password = "lock-pw-51c0";
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
    startDelayMs: 1500,
  });
  const env = {
    DB_HOST: "127.0.0.1",
    DB_PORT: String(pg.port),
    POSTGRES_USER: "postgres",
    POSTGRES_PASSWORD: password,
    POSTGRES_DB: "app",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const results = await Promise.all(
    Array.from({ length: REPLICAS }, () =>
      runPreflight(
        [
          "run",
          "--migrate-delay",
          "100ms",
          ...extraArgs,
          "--",
          "true",
        ],
        env,
        { cwd: BACKEND, timeoutMs: 120_000 },
      )),
  );
  await pg.ready;
  const rows = (await pg.psql("select count(*) from items", "app")).trim();
  return {
    outputs: results.map((r) => r.stderr),
    codes: results.map((r) => r.code),
    rows,
  };
}

const failedAttempts = (outputs: string[]) =>
  outputs.reduce(
    (n, o) => n + [...o.matchAll(/✗ Alembic exited with code/g)].length,
    0,
  );

Deno.test("eight replicas started together all hand over, the migrations are applied once, and no attempt fails under the lock", async () => {
  const { outputs, codes, rows } = await startReplicas([]);
  assert.deepEqual(codes, Array(REPLICAS).fill(0), outputs.join("\n----\n"));
  assert.equal(rows, "1");
  assert.equal(failedAttempts(outputs), 0, outputs.join("\n----\n"));
  for (const o of outputs) {
    assert.match(o, /✓ Migrations applied successfully\./);
  }
  // The lock was contended, and the waiters said who held it.
  assert.ok(
    outputs.some((o) =>
      /Waiting for the migration lock held by pid \d+ \(preflight migrate /
        .test(o)
    ),
    outputs.join("\n----\n"),
  );
});

Deno.test("without the lock the same eight replicas race: migration attempts fail (the lock is what prevents it)", async () => {
  // A race is probabilistic; three fresh rounds make a false pass negligible.
  let failures = 0;
  let last: string[] = [];
  for (let round = 0; round < 3 && failures === 0; round++) {
    const { outputs, rows } = await startReplicas(["--no-migrate-lock"]);
    failures = failedAttempts(outputs);
    last = outputs;
    // Retries still converge on one applied schema.
    assert.equal(rows, "1");
  }
  assert.ok(
    failures > 0,
    `no attempt failed without the lock:\n${last.join("\n----\n")}`,
  );
});

Deno.test("waiting for a lock another session holds is bounded by --timeout: migrate exits 3 and says who holds it", async () => {
  const { default: postgres } = await import("postgres");
  const { LOCK_KEY } = await import("../src/migrate/migration_lock.ts");
  const password = "held-pw-6b1f";
  await using pg = await startPostgres({
    auth: "scram",
    password,
    database: "app",
  });
  const holder = postgres({
    host: "127.0.0.1",
    port: pg.port,
    user: "postgres",
    password,
    database: "app",
    max: 1,
    connection: { application_name: "the other replica" },
    onnotice: () => {},
  });
  try {
    await holder`select pg_advisory_lock(${LOCK_KEY[0]}::int, ${
      LOCK_KEY[1]
    }::int)`;
    const t0 = performance.now();
    const r = await runPreflight(["migrate", "--timeout", "1500ms"], {
      DATABASE_URL: pg.url("postgres", password, "app"),
      MIGRATE_CMD: "true",
    });
    const ms = performance.now() - t0;
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /Waiting for the migration lock held by pid \d+ \(the other replica/,
    );
    assert.match(
      r.stderr,
      /✗ Could not take the migration lock in time: another replica is still migrating/,
    );
    assert.doesNotMatch(r.stderr, /True attempt/);
    assert.ok(ms < 20_000, `took ${Math.round(ms)} ms`);
  } finally {
    await holder.end({ timeout: 1 });
  }
});
