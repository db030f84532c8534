/**
 * What `run` and `wait` read from the environment, through the CLI against
 * a real PostgreSQL: libpq's PGHOST/PGPORT for both the wait and the lock,
 * `--no-db`, and PREFLIGHT_WAIT_FOR for `wait`.
 */
import assert from "node:assert/strict";
import { closedPort, startPostgres } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";

Deno.test("run with only libpq's PGHOST/PGPORT/PGUSER waits for that server and takes the lock there: the wait and the lock agree", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: "pg-pw-5e1a",
  });
  const r = await runPreflight(
    ["run", "--log-level", "debug", "--on-timeout", "fail", "--", "true"],
    {
      PGHOST: "127.0.0.1",
      PGPORT: String(pg.port),
      PGUSER: "postgres",
      PGPASSWORD: "pg-pw-5e1a",
      MIGRATE_CMD: "true",
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stderr.includes(`Waiting for Postgres at 127.0.0.1:${pg.port}...`),
    r.stderr,
  );
  assert.ok(r.stderr.includes("✓ DB connectivity check complete."), r.stderr);
  assert.ok(r.stderr.includes("Took the migration lock"), r.stderr);
  assert.ok(!r.stderr.includes("pg-pw-5e1a"));
});

Deno.test("--no-db (PREFLIGHT_NO_DB) drops the database target and the lock, and keeps --wait-for", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const dead = closedPort();
  try {
    const env = {
      // Credentials for a database that is not there: no lock may be tried.
      DATABASE_URL: `postgres://app:pw-0d3b@127.0.0.1:${dead}/app`,
      MIGRATE_CMD: "true",
    };
    for (
      const [args, extra] of [
        [["run", "--no-db"], {}],
        [["run"], { PREFLIGHT_NO_DB: "1" }],
      ] as [string[], Record<string, string>][]
    ) {
      const r = await runPreflight([
        ...args,
        "--log-level",
        "debug",
        "--on-timeout",
        "fail",
        "--timeout",
        "5s",
        "--wait-for",
        `tcp://127.0.0.1:${port}`,
        "--",
        "true",
      ], { ...env, ...extra });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stderr.includes("Waiting for Postgres"), r.stderr);
      assert.ok(!r.stderr.includes(String(dead)), r.stderr);
      assert.ok(
        r.stderr.includes(`✓ tcp://127.0.0.1:${port} is ready`),
        r.stderr,
      );
      assert.ok(r.stderr.includes("Migrating without the lock"), r.stderr);
      assert.ok(r.stderr.includes("✓ Migrations applied successfully."));
    }
  } finally {
    listener.close();
  }
});

Deno.test("wait with no target reads PREFLIGHT_WAIT_FOR; targets on the command line win over it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const dead = closedPort();
  try {
    let r = await runPreflight(["wait", "-t", "5s"], {
      PREFLIGHT_WAIT_FOR: `tcp://127.0.0.1:${port}, 127.0.0.1:${port}`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(`✓ tcp://127.0.0.1:${port} is ready`));
    r = await runPreflight(["wait", "-t", "5s", `tcp://127.0.0.1:${port}`], {
      PREFLIGHT_WAIT_FOR: `tcp://127.0.0.1:${dead}`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes(String(dead)), r.stderr);
    r = await runPreflight(["wait"], { PREFLIGHT_WAIT_FOR: "nonsense" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^preflight: Invalid PREFLIGHT_WAIT_FOR 'nonsense'/);
  } finally {
    listener.close();
  }
});
