/**
 * The MySQL/MariaDB check against real MariaDB servers from Debian (started
 * by tests/_mariadb.ts): ready, not started, in the initialisation window
 * (port open, no handshake yet), wrong credentials, unknown database, and
 * the error packets a server greets with instead of a handshake (too many
 * connections, host not allowed); and against loopback listeners that
 * accept but do not speak MySQL.
 */
import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "../src/checks/check.ts";
import { kind as mysql } from "../src/checks/mysql.ts";
import { checkOf } from "./_checks.ts";
import { runPreflight, startPreflight } from "./_cli.ts";
import { mariaDbMissing, startMariaDb } from "./_mariadb.ts";
import { closedPort, type FaultKind, startFaultServer } from "./_servers.ts";

const PASSWORD = "My-s3cret-Pa55";
const WRONG = "Wr0ng-Pa55word";
const missing = mariaDbMissing();
if (missing) console.log(`mysql check tests skipped: ${missing}`);

/** One attempt of the check: the error it failed with, or undefined when ready. */
async function attempt(
  url: string,
  timeoutMs = 10_000,
): Promise<Error | undefined> {
  const check = mysql.check(mysql.parse(url, "test"), {});
  try {
    await check.check(AbortSignal.timeout(timeoutMs));
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

async function assertReady(url: string): Promise<void> {
  const error = await attempt(url);
  assert.equal(error, undefined, `expected ready, got: ${error?.message}`);
}

async function assertNotReady(
  url: string,
  pattern: RegExp,
  timeoutMs?: number,
): Promise<NotReadyError> {
  const error = await attempt(url, timeoutMs);
  assert.ok(
    error instanceof NotReadyError,
    `expected NotReadyError, got: ${error?.name} ${error?.message}`,
  );
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes(PASSWORD), "password in the message");
  return error;
}

async function assertPermanent(
  url: string,
  pattern: RegExp,
): Promise<PermanentError> {
  const error = await attempt(url);
  assert.ok(
    error instanceof PermanentError,
    `expected PermanentError, got: ${error?.name} ${error?.message}`,
  );
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes(PASSWORD), "password in the message");
  assert.ok(!error.message.includes(WRONG), "password in the message");
  return error;
}

/** A TCP-only check of the same port, for contrast (what `nc -z` reports). */
async function tcpReady(port: number): Promise<boolean> {
  try {
    await (await checkOf(`tcp://127.0.0.1:${port}`)).check(
      AbortSignal.timeout(5000),
    );
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "mysql check against a real MariaDB",
  ignore: missing !== undefined,
  async fn(t) {
    await using db = await startMariaDb({
      users: [{ name: "app", password: PASSWORD }],
      database: "app",
    });
    const login = (password = PASSWORD, database = "app") =>
      db.url({ user: "app", password, database });

    await t.step(
      "a server sending its handshake is ready without a user",
      async () => {
        await assertReady(db.url());
        await assertReady(db.url({ scheme: "mariadb" }));
        await assertReady(`mysql://localhost:${db.port}`);
      },
    );

    await t.step(
      "login and SELECT 1 succeed with the right password",
      async () => {
        await assertReady(login());
        await assertReady(db.url({ user: "app", password: PASSWORD }));
        await assertReady(
          `mysql+pymysql://app:${PASSWORD}@127.0.0.1:${db.port}/app?charset=utf8mb4`,
        );
      },
    );

    await t.step(
      "a wrong password is permanent, without either password in the message",
      async () => {
        await assertPermanent(
          login(WRONG),
          /Access denied for user 'app'.*\(1045\)/,
        );
        await assertPermanent(
          db.url({ user: "nobody", password: PASSWORD }),
          /Access denied.*\(1045\)/,
        );
      },
    );

    await t.step("an unknown database is permanent", async () => {
      await assertPermanent(
        login(PASSWORD, "nope"),
        /Unknown database 'nope' \(1049\)/,
      );
    });

    await t.step(
      "doctor's facts give the product and version from the handshake",
      async () => {
        const facts = await mysql.facts!(
          mysql.parse(db.url(), "test"),
          AbortSignal.timeout(10_000),
        );
        const version = (await db.sql("SELECT VERSION()")).trim();
        assert.equal(facts.data.product, "MariaDB");
        assert.ok(
          version.startsWith(facts.value!),
          `${facts.value} vs ${version}`,
        );
        assert.equal(facts.summary, `MariaDB ${facts.value}`);
        assert.equal(facts.data.protocol, 10);
      },
    );
  },
});

Deno.test({
  name:
    "mysql check of a server not started yet is not ready, then ready once it starts",
  ignore: missing !== undefined,
  async fn() {
    await using db = await startMariaDb({
      users: [{ name: "app", password: PASSWORD }],
      deferStart: true,
    });
    await assertNotReady(db.url(), /refused/);
    await assertNotReady(
      db.url({ user: "app", password: PASSWORD }),
      /refused/,
    );
    await db.start();
    await assertReady(db.url());
    await assertReady(db.url({ user: "app", password: PASSWORD }));
  },
});

Deno.test({
  name:
    "mysql check is not ready while the server initialises with its port already open, where a TCP check says ready",
  ignore: missing !== undefined,
  async fn() {
    await using db = await startMariaDb({
      users: [{ name: "app", password: PASSWORD }],
      gated: true,
    });
    assert.ok(await tcpReady(db.port), "the port accepts TCP during init");
    await assertNotReady(
      db.url(),
      /no greeting from .* before the attempt timed out/,
      500,
    );
    await assertNotReady(
      db.url({ user: "app", password: PASSWORD }),
      /login to .* before the attempt timed out/,
      500,
    );
    await db.release();
    await db.ready;
    await assertReady(db.url());
    await assertReady(db.url({ user: "app", password: PASSWORD }));
  },
});

Deno.test({
  name:
    "mysql check: 'Too many connections' instead of a handshake means up without a user (as pg_isready), not ready with one",
  ignore: missing !== undefined,
  async fn() {
    await using db = await startMariaDb({
      users: [{ name: "app", password: PASSWORD }],
      args: ["--max-connections=1"],
    });
    // Unauthenticated connections count at accept time: hold them until the
    // server greets with error 1040 instead of a handshake.
    const held: Deno.Conn[] = [];
    try {
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: db.port,
        });
        held.push(conn);
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        refused = n !== null && buf[4] === 0xff;
      }
      assert.ok(refused, "the server never answered 'Too many connections'");
      await assertReady(db.url());
      await assertNotReady(
        db.url({ user: "app", password: PASSWORD }),
        /Too many connections \(1040\)/,
      );
    } finally {
      for (const c of held) c.close();
    }
  },
});

Deno.test({
  name:
    "mysql check: 'Host is not allowed' instead of a handshake means up without a user, permanent with one",
  ignore: missing !== undefined,
  async fn() {
    // No account may connect over TCP (root only via the Unix socket).
    await using db = await startMariaDb({
      initSql: [
        "DROP USER IF EXISTS 'root'@'127.0.0.1';",
        "DROP USER IF EXISTS 'root'@'::1';",
      ],
    });
    await assertReady(db.url());
    await assertPermanent(
      db.url({ user: "root", password: PASSWORD }),
      /Host '127\.0\.0\.1' is not allowed.*\(1130\)/,
    );
    const facts = await mysql.facts!(
      mysql.parse(db.url(), "test"),
      AbortSignal.timeout(10_000),
    );
    assert.match(facts.summary, /up, but refuses this host: Host .* \(1130\)/);
  },
});

Deno.test("mysql check: a refused port is not ready, with and without a user", async () => {
  const port = closedPort();
  await assertNotReady(`mysql://127.0.0.1:${port}`, /refused/);
  await assertNotReady(
    `mysql://app:${PASSWORD}@127.0.0.1:${port}/app`,
    /refused/,
  );
});

const faults: [FaultKind, RegExp, RegExp][] = [
  // [kind, user-less reason, login reason]
  [
    "accept-close",
    /closed by .* while waiting for greeting|reset/,
    /closed|reset/,
  ],
  [
    "silent",
    /no greeting from .* before the attempt timed out/,
    /before the attempt timed out/,
  ],
];
for (const [kind, bare, withUser] of faults) {
  Deno.test(`mysql check: a listener that does '${kind}' is not ready, within the attempt's deadline`, async () => {
    await using server = startFaultServer(kind);
    for (
      const [url, pattern] of [
        [`mysql://127.0.0.1:${server.port}`, bare],
        [`mysql://app:${PASSWORD}@127.0.0.1:${server.port}/app`, withUser],
      ] as const
    ) {
      const started = performance.now();
      await assertNotReady(url, pattern, 500);
      // Liveness, not speed: the attempt ends near its own deadline.
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
    }
    assert.ok(server.accepted >= 2, "the listener saw both attempts");
  });
}

Deno.test("mysql check: a port where another protocol speaks first (SSH) is not ready at once", async () => {
  // MySQL servers speak first; the fault servers of _servers.ts wait for the
  // client, so this one is made here.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1\r\n"))
        .catch(() => {});
      // Stays open: only the bytes can tell the check it is not MySQL.
      conn.read(new Uint8Array(64)).catch(() => {}).finally(() => conn.close());
    }
  })();
  try {
    const started = performance.now();
    await assertNotReady(
      `mysql://127.0.0.1:${port}`,
      /127\.0\.0\.1:\d+ is not answering as MySQL: packet length/,
      20_000,
    );
    await assertNotReady(
      `mysql://app:${PASSWORD}@127.0.0.1:${port}/app`,
      /cannot log in|closed|reset|timed out/,
      1000,
    );
    // The user-less check decides on the first bytes, not at its deadline.
    assert.ok(performance.now() - started < 15_000);
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("mysql check: an aborted login attempt closes its socket", async () => {
  // A listener that accepts and stays silent, and tells when the client
  // closes its side.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const closedByClient = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(1024);
    try {
      while ((await conn.read(buf)) !== null) { /* discard */ }
    } catch { /* reset counts as closed */ }
    conn.close();
  })();
  try {
    await assertNotReady(
      `mysql://app:${PASSWORD}@127.0.0.1:${port}/app`,
      /before the attempt timed out/,
      300,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      closedByClient.then(() => "closed"),
      new Promise((r) => timer = setTimeout(() => r("still open"), 10_000)),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, "closed");
  } finally {
    listener.close();
  }
});

Deno.test({
  name:
    "wait and probe of mysql:// through the CLI: not ready until the server starts, then ready; a wrong password fails at once",
  ignore: missing !== undefined,
  async fn() {
    await using db = await startMariaDb({
      users: [{ name: "app", password: PASSWORD }],
      database: "app",
      deferStart: true,
    });
    const login = db.url({ user: "app", password: PASSWORD, database: "app" });

    const down = await runPreflight(["probe", login]);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /^unhealthy: mysql:\/\/app:\*\*\*@.*refused/);

    await using waiting = startPreflight([
      "wait",
      "--timeout",
      "60s",
      "--log-level",
      "debug",
      db.url(),
      login,
      "--",
      "true",
    ]);
    await waiting.waitForStderr(/not ready: connection refused/);
    await db.start();
    const up = await waiting.result;
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /✓ mysql:\/\/127\.0\.0\.1:\d+ is ready/);
    assert.match(
      up.stderr,
      /✓ mysql:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/app is ready/,
    );
    assert.ok(!up.stderr.includes(PASSWORD), up.stderr);

    const healthy = await runPreflight(["probe", db.url(), login]);
    assert.deepEqual([healthy.code, healthy.stderr], [0, ""]);

    const wrong = db.url({ user: "app", password: WRONG, database: "app" });
    const failed = await runPreflight(["wait", "--timeout", "60s", wrong]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /Access denied for user 'app'.*\(1045\)/);
    const probed = await runPreflight(["probe", wrong]);
    assert.equal(probed.code, 1, probed.stderr);
    assert.match(probed.stderr, /Access denied/);
    for (const r of [failed, probed]) {
      assert.ok(!r.stderr.includes(WRONG), r.stderr);
    }
  },
});
