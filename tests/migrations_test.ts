/**
 * Migrations that cannot succeed, against a real PostgreSQL and the real
 * Alembic: when the database answered ready right after each of two failed
 * attempts in a row, the rest of the schedule is skipped, saying why; while
 * the database is unavailable the whole schedule runs.
 */
import assert from "node:assert/strict";
import { closedPort, startPostgres } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";

const FAST = [
  "--migrate-attempts",
  "6",
  "--migrate-delay",
  "20ms",
  "--migrate-max-delay",
  "20ms",
];

async function inEmptyDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "preflight-no-alembic-ini-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("alembic without alembic.ini, with the database ready: two attempts, then the rest is skipped, saying why (exit 3)", async () => {
  await using pg = await startPostgres();
  const r = await inEmptyDir((cwd) =>
    runPreflight(["migrate", ...FAST], {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(pg.port),
      MIGRATE_CMD: "alembic upgrade head",
    }, { cwd })
  );
  assert.equal(r.code, 3, r.stderr);
  // Alembic's own words, on its standard output.
  assert.match(r.stdout, /No config file 'alembic\.ini' found/);
  assert.ok(r.stderr.includes("[entrypoint] Alembic attempt 2/6..."));
  assert.ok(!r.stderr.includes("attempt 3/6"), r.stderr);
  assert.ok(
    r.stderr.includes(
      "[entrypoint] ✗ Alembic failed twice in a row while the database was ready: the error is not transient (see its output above, e.g. no alembic.ini or a broken revision); skipping the remaining 4 attempts.\n[entrypoint] ⚠️ Migrations did not complete.\n",
    ),
    r.stderr,
  );
});

Deno.test("the same failure while the database is unavailable keeps the whole schedule", async () => {
  const r = await inEmptyDir((cwd) =>
    runPreflight(["migrate", ...FAST], {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(closedPort()),
      MIGRATE_CMD: "alembic upgrade head",
    }, { cwd })
  );
  assert.equal(r.code, 3, r.stderr);
  assert.ok(r.stderr.includes("[entrypoint] Alembic attempt 6/6..."), r.stderr);
  assert.ok(!r.stderr.includes("skipping the remaining"), r.stderr);
});

Deno.test("--no-db: no database to ask, so the whole schedule runs", async () => {
  await using pg = await startPostgres();
  const r = await inEmptyDir((cwd) =>
    runPreflight(["migrate", "--no-db", ...FAST], {
      DB_HOST: "127.0.0.1",
      DB_PORT: String(pg.port),
      MIGRATE_CMD: "alembic upgrade head",
    }, { cwd })
  );
  assert.equal(r.code, 3, r.stderr);
  assert.ok(r.stderr.includes("[entrypoint] Alembic attempt 6/6..."), r.stderr);
});
