/**
 * PostgreSQL targets follow libpq, and libpq itself (psql) is the oracle
 * here: sslmode's fallbacks against a real server with `ssl = on` and
 * pg_hba rules that refuse one kind of connection, target_session_attrs
 * against a real primary and a streaming hot standby made with
 * `pg_basebackup -R`, a server reached only by its Unix socket, and host
 * lists. Every server is real.
 */
import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "../src/checks/check.ts";
import { kind as postgres } from "../src/checks/postgres.ts";
import { closedPort, type PgServer, startPostgres } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";

const PASSWORD = "libpq-pw-73d2";

/** One attempt of the check: undefined when ready, else the error. */
async function attempt(url: string): Promise<Error | undefined> {
  const check = postgres.check(postgres.parse(url, "test"), {});
  try {
    await check.check(AbortSignal.timeout(20_000));
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

/** Whether libpq (psql) connects with this connection string. */
async function psqlConnects(conninfo: string): Promise<boolean> {
  const out = await new Deno.Command("/usr/bin/psql", {
    args: ["-X", "-A", "-t", "-c", "select 1", conninfo],
    env: { PGCONNECT_TIMEOUT: "10", PGPASSWORD: PASSWORD },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return out.success;
}

function assertReady(e: Error | undefined, what: string): void {
  assert.equal(e, undefined, `${what}: ${e?.message}`);
}

Deno.test("sslmode=prefer falls back to a plain connection when the server refuses TLS sessions (hostssl reject), as psql does", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: PASSWORD,
    tls: true,
    hba: [
      "hostssl all all 127.0.0.1/32 reject",
      "hostnossl all all 127.0.0.1/32 md5",
    ],
  });
  const url = (mode?: string) =>
    pg.url("postgres", PASSWORD, "postgres", mode ? { sslmode: mode } : {});
  // libpq: prefer and allow connect, require does not.
  assert.equal(await psqlConnects(url()), true);
  assert.equal(await psqlConnects(url("allow")), true);
  assert.equal(await psqlConnects(url("require")), false);
  assertReady(await attempt(url()), "default (prefer)");
  assertReady(await attempt(url("prefer")), "prefer");
  assertReady(await attempt(url("allow")), "allow");
  const e = await attempt(url("require"));
  assert.ok(e instanceof PermanentError, `require: ${e}`);
  assert.match(e.message, /pg_hba\.conf rejects connection/);
  assert.ok(!e.message.includes(PASSWORD));
});

Deno.test("sslmode=allow tries plain first, then TLS when the server refuses plain connections (hostnossl reject), as psql does", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: PASSWORD,
    tls: true,
    hba: [
      "hostnossl all all 127.0.0.1/32 reject",
      "hostssl all all 127.0.0.1/32 scram-sha-256",
    ],
  });
  const url = (mode: string) =>
    pg.url("postgres", PASSWORD, "postgres", { sslmode: mode });
  for (const mode of ["allow", "prefer", "require"]) {
    assert.equal(await psqlConnects(url(mode)), true, mode);
    assertReady(await attempt(url(mode)), mode);
  }
  assert.equal(await psqlConnects(url("disable")), false);
  assert.ok(await attempt(url("disable")) instanceof PermanentError);
});

Deno.test("sslmode=allow uses a plain session when the server offers both, prefer a TLS one (server log)", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: PASSWORD,
    tls: true,
    conf: ["log_connections = on"],
  });
  const sessions = async (mode: string) => {
    const before = (await pg.log()).length;
    assertReady(
      await attempt(
        pg.url("postgres", PASSWORD, "postgres", { sslmode: mode }),
      ),
      mode,
    );
    return (await pg.log()).slice(before).split("\n").filter((l) =>
      /connection authorized: user=postgres/.test(l)
    );
  };
  const allow = await sessions("allow");
  assert.equal(allow.length, 1, allow.join("\n"));
  assert.doesNotMatch(allow[0], /SSL enabled/);
  const prefer = await sessions("prefer");
  assert.equal(prefer.length, 1, prefer.join("\n"));
  assert.match(prefer[0], /SSL enabled/);
});

/** A primary and a streaming hot standby of it. */
async function primaryAndStandby(): Promise<
  { primary: PgServer; standby: PgServer } & AsyncDisposable
> {
  const primary = await startPostgres({
    auth: "scram",
    password: PASSWORD,
    database: "app",
  });
  try {
    const standby = await startPostgres({ replicaOf: primary, auth: "scram" });
    return {
      primary,
      standby,
      async [Symbol.asyncDispose]() {
        await standby.cleanup();
        await primary.cleanup();
      },
    };
  } catch (e) {
    await primary.cleanup();
    throw e;
  }
}

const ATTRS = [
  "any",
  "read-write",
  "read-only",
  "primary",
  "standby",
  "prefer-standby",
] as const;

Deno.test("target_session_attrs decides readiness as libpq does, on a real primary and a real hot standby, alone and in host lists", async () => {
  await using servers = await primaryAndStandby();
  const { primary, standby } = servers;
  assert.equal(await standby.psql("select pg_is_in_recovery()"), "t");
  const lists = {
    primary: `127.0.0.1:${primary.port}`,
    standby: `127.0.0.1:${standby.port}`,
    "standby,primary": `127.0.0.1:${standby.port},127.0.0.1:${primary.port}`,
    "closed,standby": `127.0.0.1:${closedPort()},127.0.0.1:${standby.port}`,
  };
  for (const [name, hosts] of Object.entries(lists)) {
    for (const attrs of ATTRS) {
      const url =
        `postgres://postgres:${PASSWORD}@${hosts}/app?target_session_attrs=${attrs}`;
      const libpq = await psqlConnects(url);
      const e = await attempt(url);
      assert.equal(
        e === undefined,
        libpq,
        `${name}, ${attrs}: libpq ${
          libpq ? "connects" : "refuses"
        }, preflight says ${e?.message ?? "ready"}`,
      );
      // Not meeting the attributes is "not yet" (a standby may be promoted).
      if (e) {
        assert.ok(e instanceof NotReadyError, `${name}, ${attrs}: ${e}`);
        assert.match(e.message, new RegExp(`target_session_attrs=${attrs}`));
      }
    }
  }
});

Deno.test("without a user the check is pg_isready's, which ignores target_session_attrs (a standby is up), as pg_isready does", async () => {
  await using servers = await primaryAndStandby();
  const url =
    `postgres://127.0.0.1:${servers.standby.port}/app?target_session_attrs=read-write`;
  const out = await new Deno.Command("/usr/bin/pg_isready", {
    args: ["-d", url],
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(out.code, 0);
  assertReady(await attempt(url), url);
});

Deno.test("run waits for the read-write server of DATABASE_URL, and migrates under a lock held on it, not on the standby listed first", async () => {
  await using servers = await primaryAndStandby();
  const { primary, standby } = servers;
  const url =
    `postgres://postgres:${PASSWORD}@127.0.0.1:${standby.port},127.0.0.1:${primary.port}/app?target_session_attrs=read-write`;
  const r = await runPreflight(
    ["run", "--on-timeout", "fail", "--timeout", "30s", "--", "true"],
    {
      DATABASE_URL: url,
      // The lock's session must be on the primary while the migration runs.
      MIGRATE_CMD: JSON.stringify([
        "/usr/bin/psql",
        "-X",
        "-A",
        "-t",
        "-c",
        "select count(*) from pg_locks where locktype = 'advisory'",
        `postgresql:///app?host=${primary.socketDir}&port=${primary.port}&user=postgres`,
      ]),
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1$/m);
  assert.match(r.stderr, /✓ Migrations applied successfully\./);
});

Deno.test("a server reached only by its Unix socket: percent-encoded directory or ?host=/dir, at both levels (DIR/.s.PGSQL.PORT)", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: PASSWORD,
    listenTcp: false,
  });
  const dir = encodeURIComponent(pg.socketDir);
  const urls = [
    `postgres://${dir}:${pg.port}`,
    `postgres://postgres@${dir}:${pg.port}/postgres`,
    `postgres:///postgres?host=${pg.socketDir}&port=${pg.port}`,
    `postgres://postgres@/postgres?host=${pg.socketDir}&port=${pg.port}`,
    // sslmode is ignored on a Unix socket, as by libpq.
    `postgres://postgres@${dir}:${pg.port}/postgres?sslmode=require`,
  ];
  for (const url of urls) assertReady(await attempt(url), url);
  // TCP finds nothing: the server really has no TCP listener.
  assert.ok(
    await attempt(`postgres://127.0.0.1:${pg.port}`) instanceof NotReadyError,
  );
  // No socket (yet) in a directory: not ready, naming the socket file.
  const e = await attempt(`postgres://${dir}:${closedPort()}`);
  assert.ok(e instanceof NotReadyError, `${e}`);
  assert.match(e.message, /\.s\.PGSQL\.\d+/);
  // The whole startup through the CLI, as DATABASE_URL.
  const r = await runPreflight(
    ["run", "--on-timeout", "fail", "--timeout", "30s", "--", "true"],
    {
      DATABASE_URL: urls[1],
      MIGRATE_CMD: "true",
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `Waiting for Postgres at ${pg.socketDir}/\\.s\\.PGSQL\\.${pg.port}`,
    ),
  );
});

Deno.test("a host list is ready when one host is, at both levels; when none is, each host's reason is given", async () => {
  await using pg = await startPostgres({ auth: "scram", password: PASSWORD });
  const closed = closedPort();
  const other = closedPort();
  for (
    const url of [
      `postgres://127.0.0.1:${closed},127.0.0.1:${pg.port}`,
      `postgres://postgres:${PASSWORD}@127.0.0.1:${closed},127.0.0.1:${pg.port}/postgres`,
      `postgres://postgres:${PASSWORD}@127.0.0.1,[::1]:${pg.port}/postgres?port=${pg.port}`,
      `postgres://postgres:${PASSWORD}@x/postgres?host=127.0.0.1,127.0.0.1&port=${closed},${pg.port}`,
    ]
  ) {
    assertReady(await attempt(url), url);
  }
  const e = await attempt(
    `postgres://postgres:${PASSWORD}@127.0.0.1:${closed},127.0.0.1:${other}/postgres`,
  );
  assert.ok(e instanceof NotReadyError, `${e}`);
  assert.match(
    e.message,
    new RegExp(
      `refused by 127\\.0\\.0\\.1:${closed}.*refused by 127\\.0\\.0\\.1:${other}`,
    ),
  );
  // A wrong password on every host is permanent.
  const wrong = await attempt(
    `postgres://postgres:nope@127.0.0.1:${pg.port},localhost:${pg.port}/postgres`,
  );
  assert.ok(wrong instanceof PermanentError, `${wrong}`);
});

Deno.test("a password with an unencoded '#' or '/' is a configuration error saying to percent-encode it, never showing it", async () => {
  for (const [password, char] of [["pa#ss", "#"], ["pa/ss", "/"]]) {
    const r = await runPreflight([
      "wait",
      `postgres://app:${password}@db:5432/app`,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `contains '${char}', which must be percent-encoded: '${char}' as ${
          encodeURIComponent(char)
        }`,
      ),
    );
    assert.ok(!r.stderr.includes(password), r.stderr);
    assert.doesNotMatch(r.stderr, /port must be a number/);
  }
});
