import assert from "node:assert/strict";
import { databaseAddress, databaseTarget, lockDatabase } from "./stack_env.ts";
import { ConfigError } from "../errors.ts";
import { pgAddress } from "../checks/postgres_url.ts";

Deno.test("the database to wait for: DATABASE_URL, else DB_HOST:DB_PORT, else libpq's PGHOST:PGPORT, else postgres:5432", () => {
  const cases: [Record<string, string>, string, string][] = [
    [{}, "postgres:5432", "default"],
    [{ DB_HOST: "db", DB_PORT: "6000" }, "db:6000", "DB_HOST/DB_PORT"],
    [{ PGHOST: "pg", PGPORT: "6001" }, "pg:6001", "PGHOST/PGPORT"],
    [
      { DB_HOST: "db", PGHOST: "pg", PGPORT: "6001" },
      "db:6001",
      "DB_HOST/PGPORT",
    ],
    [{ PGPORT: "6002" }, "postgres:6002", "DB_HOST/PGPORT"],
    // Empty means unset, as ${DB_HOST:-postgres} read it.
    [{ DB_HOST: "", PGHOST: "pg" }, "pg:5432", "PGHOST/DB_PORT"],
  ];
  for (const [env, where, source] of cases) {
    const a = databaseAddress(env);
    assert.equal(pgAddress(a), where, JSON.stringify(env));
    assert.equal(a.source, source, JSON.stringify(env));
    assert.equal(databaseTarget(env).id, `postgres://${where}`);
  }
  assert.equal(
    databaseTarget({ DATABASE_URL: "postgres://u:p@url:1/d", PGHOST: "pg" })
      .host,
    "url",
  );
});

Deno.test("the wait and the migration lock agree on the database's address", () => {
  for (
    const env of [
      { PGHOST: "pg", PGPORT: "6001", PGUSER: "u", PGPASSWORD: "pw-1234" },
      { DB_HOST: "db", PGPORT: "6001", POSTGRES_USER: "u" },
      { PGHOST: "pg", POSTGRES_USER: "u", POSTGRES_DB: "app" },
      { PGUSER: "u" },
    ] as Record<string, string>[]
  ) {
    const wait = databaseTarget(env);
    const lock = lockDatabase(env)!;
    assert.equal(pgAddress(lock), pgAddress(wait), JSON.stringify(env));
  }
});

Deno.test("an invalid PGHOST or PGPORT is a ConfigError naming it; a PGHOST directory is libpq's Unix socket, for the wait and the lock", () => {
  assert.throws(
    () => databaseTarget({ PGPORT: "abc" }),
    (e) =>
      e instanceof ConfigError &&
      e.message === "Invalid PGPORT 'abc': expected a port number 1-65535",
  );
  const env = { PGHOST: "/var/run/postgresql", PGPORT: "5433", PGUSER: "app" };
  assert.equal(
    pgAddress(databaseTarget(env)),
    "/var/run/postgresql/.s.PGSQL.5433",
  );
  assert.equal(pgAddress(lockDatabase(env)!), pgAddress(databaseTarget(env)));
  assert.throws(
    () => databaseTarget({ DB_HOST: "/var/run/postgresql" }),
    (e) => e instanceof ConfigError && /^Invalid DB_HOST/.test(e.message),
  );
  // DB_HOST wins, so a PGHOST it hides is not read.
  assert.equal(
    databaseTarget({ DB_HOST: "db", PGHOST: "/var/run/postgresql" }).host,
    "db",
  );
});
