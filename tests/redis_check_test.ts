/**
 * The Redis check against a real `redis-server` (plain, password, ACL user,
 * TLS) and against fault servers. `LOADING`, `BUSY` and `MASTERDOWN` are hard
 * to provoke reliably in a real server, so those replies come from a small
 * in-process fake that speaks RESP (see `startFakeRedis`).
 */
import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "../src/checks/check.ts";
import { kind as redisKind } from "../src/checks/redis.ts";
import { connectRedis } from "../src/checks/redis_session.ts";
import { createCheck, parseTarget } from "../src/checks/mod.ts";
import { RespErrorReply } from "../src/checks/resp.ts";
import { redisSupportsTls, startRedis } from "./_redis.ts";
import { closedPort, startFaultServer } from "./_servers.ts";
import { startFakeRedis } from "./_fake_redis.ts";
import { preflightArgv } from "./_cli.ts";

const PASSWORD = "pa55-w0rd-Secret";

/** One attempt of the check; resolves to the error it failed with, or undefined when ready. */
async function attempt(
  url: string,
  timeoutMs = 10_000,
): Promise<Error | undefined> {
  const check = redisKind.check(redisKind.parse(url, "test"), {});
  try {
    await check.check(AbortSignal.timeout(timeoutMs));
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

function assertNotReady(e: Error | undefined, re?: RegExp): void {
  assert.ok(e instanceof NotReadyError, `expected NotReadyError, got ${e}`);
  if (re) assert.match(e.message, re);
}

function assertPermanent(e: Error | undefined, re?: RegExp): void {
  assert.ok(e instanceof PermanentError, `expected PermanentError, got ${e}`);
  if (re) assert.match(e.message, re);
  assert.ok(!e.message.includes(PASSWORD), `password leaked: ${e.message}`);
}

Deno.test("redis check is ready when a server without a password answers PING", async () => {
  await using redis = await startRedis();
  assert.equal(await attempt(redis.url()), undefined);
  assert.equal(await attempt(`redis://localhost:${redis.port}`), undefined);
});

Deno.test("redis check authenticates with the password from the URL", async () => {
  await using redis = await startRedis({ password: PASSWORD });
  assert.equal(await attempt(redis.url()), undefined);
  assert.equal(
    await attempt(redis.url({ user: "default" })),
    undefined,
    "AUTH default PASSWORD",
  );
});

Deno.test("redis check reports a wrong password as permanent, without the password", async () => {
  await using redis = await startRedis({ password: "the-right-one" });
  const e = await attempt(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`);
  assertPermanent(e, /WRONGPASS|invalid password/);
  assert.match(e!.message, new RegExp(`127\\.0\\.0\\.1:${redis.port}`));
});

Deno.test("redis check reports a missing password (NOAUTH) as permanent", async () => {
  await using redis = await startRedis({ password: PASSWORD });
  const e = await attempt(redis.url({ password: null }));
  assertPermanent(e, /NOAUTH/);
  assert.match(e!.message, /requires a password/);
});

Deno.test("redis check reports a password sent to a server without one as permanent", async () => {
  await using redis = await startRedis();
  const e = await attempt(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`);
  assertPermanent(e, /AUTH/);
});

Deno.test("redis check logs in as an ACL user", async () => {
  await using redis = await startRedis({
    user: { name: "app", password: PASSWORD },
  });
  assert.equal(await attempt(redis.url({ user: "app" })), undefined);
  assertPermanent(
    await attempt(`redis://app:wrong@127.0.0.1:${redis.port}`),
    /WRONGPASS/,
  );
  assertPermanent(
    await attempt(`redis://nobody:${PASSWORD}@127.0.0.1:${redis.port}`),
    /WRONGPASS/,
  );
  // The default user is off: no credentials at all is NOAUTH.
  assertPermanent(
    await attempt(`redis://127.0.0.1:${redis.port}`),
    /NOAUTH/,
  );
});

Deno.test("redis check selects the database number and reports one out of range as permanent", async () => {
  await using redis = await startRedis({ password: PASSWORD });
  assert.equal(await attempt(redis.url({ db: 0 })), undefined);
  assert.equal(await attempt(redis.url({ db: 15 })), undefined);
  assertPermanent(
    await attempt(redis.url({ db: 16 })),
    /SELECT 16.*DB index is out of range/,
  );
});

Deno.test("connectRedis gives a logged-in connection for INFO and LLEN, as doctor uses it", async () => {
  await using redis = await startRedis({ password: PASSWORD });
  const signal = AbortSignal.timeout(10_000);
  const session = await connectRedis(
    redisKind.parse(redis.url({ db: 2 }), "t"),
    signal,
  );
  using conn = session.conn;
  assert.equal(
    await conn.command(["RPUSH", "celery", "a", "b", "c"], signal),
    3,
  );
  assert.equal(await conn.command(["LLEN", "celery"], signal), 3);
  assert.equal(await conn.command(["LLEN", "nothing"], signal), 0);
  const info = await conn.command(["INFO", "server"], signal);
  assert.equal(typeof info, "string");
  assert.match(info as string, /^redis_version:\d+\.\d+/m);
  const err = await conn.command(["NOSUCHCOMMAND"], signal);
  assert.ok(err instanceof RespErrorReply);
  assert.equal(err.code, "ERR");
  // Database 2 was selected: database 0 has no queue.
  const other = await connectRedis(redisKind.parse(redis.url(), "t"), signal);
  using conn0 = other.conn;
  assert.equal(await conn0.command(["LLEN", "celery"], signal), 0);
});

Deno.test("redis check reports a user without permission for PING (NOPERM) as permanent", async () => {
  await using redis = await startRedis({
    user: { name: "app", password: PASSWORD },
  });
  const signal = AbortSignal.timeout(10_000);
  const admin = await connectRedis(
    redisKind.parse(redis.url({ user: "app" }), "t"),
    signal,
  );
  using conn = admin.conn;
  assert.equal(
    await conn.command([
      "ACL",
      "SETUSER",
      "limited",
      "on",
      ">pw",
      "~*",
      "+@all",
      "-ping",
    ], signal),
    "OK",
  );
  assertPermanent(
    await attempt(`redis://limited:pw@127.0.0.1:${redis.port}`),
    /NOPERM/,
  );
});

Deno.test("redis check reports LOADING as not ready (fake server)", async () => {
  await using fake = startFakeRedis(() =>
    "-LOADING Redis is loading the dataset in memory\r\n"
  );
  assertNotReady(
    await attempt(`redis://127.0.0.1:${fake.port}/0`),
    /LOADING Redis is loading the dataset in memory/,
  );
  // LOADING on AUTH too.
  assertNotReady(
    await attempt(`redis://:${PASSWORD}@127.0.0.1:${fake.port}`),
    /AUTH.*LOADING/,
  );
  assert.deepEqual(fake.seen.map((c) => c[0]), ["SELECT", "AUTH"]);
});

Deno.test("redis check reports BUSY, MASTERDOWN and 'max clients' as not ready (fake server)", async () => {
  for (
    const error of [
      "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.",
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      "ERR max number of clients reached",
    ]
  ) {
    await using fake = startFakeRedis(() => `-${error}\r\n`);
    assertNotReady(
      await attempt(`redis://127.0.0.1:${fake.port}`),
      new RegExp(error.split(" ")[0]),
    );
  }
});

Deno.test("redis check sends AUTH, SELECT and PING in that order and wants PONG", async () => {
  await using ok = startFakeRedis((cmd) =>
    cmd[0] === "PING" ? "+PONG\r\n" : "+OK\r\n"
  );
  assert.equal(
    await attempt(`redis://app:${PASSWORD}@127.0.0.1:${ok.port}/3`),
    undefined,
  );
  assert.deepEqual(ok.seen, [
    ["AUTH", "app", PASSWORD],
    ["SELECT", "3"],
    ["PING"],
  ]);
  await using odd = startFakeRedis(() => "+OK\r\n");
  assertNotReady(
    await attempt(`redis://127.0.0.1:${odd.port}`),
    /unexpected reply to PING/,
  );
});

Deno.test("redis check never prints the password a peer echoes back", async () => {
  await using echo = startFakeRedis((cmd) => {
    const text = cmd.join(" ");
    return `$${text.length}\r\n${text}\r\n`;
  });
  const e = await attempt(`redis://:${PASSWORD}@127.0.0.1:${echo.port}`);
  assertNotReady(e, /unexpected reply to AUTH/);
  assert.ok(!e!.message.includes(PASSWORD), e!.message);
});

Deno.test("redis check reports a closed port as not ready", async () => {
  assertNotReady(
    await attempt(`redis://127.0.0.1:${closedPort()}`),
    /refused/,
  );
});

for (const kind of ["accept-close", "silent", "garbage"] as const) {
  Deno.test(`redis check reports a ${kind} server as not ready within the attempt timeout`, async () => {
    await using fault = startFaultServer(kind);
    const started = Date.now();
    const e = await attempt(`redis://127.0.0.1:${fault.port}`, 500);
    assertNotReady(
      e,
      {
        "accept-close": /closed by .* before it replied|reset/,
        "silent": /no reply from .* to PING \(timed out\)/,
        "garbage": /not a Redis server/,
      }[kind],
    );
    // Liveness only, not speed: the attempt ends with the signal, not later.
    assert.ok(Date.now() - started < 10_000);
    assert.ok(fault.accepted >= 1);
  });
}

Deno.test("redis check gives up at once when the signal is already aborted", async () => {
  await using fault = startFaultServer("silent");
  const check = redisKind.check(
    redisKind.parse(`redis://127.0.0.1:${fault.port}`, "test"),
    {},
  );
  await assert.rejects(
    check.check(AbortSignal.abort()),
    (e) => e instanceof NotReadyError,
  );
});

const tls = await redisSupportsTls();

Deno.test({
  name: "rediss check is ready against a TLS redis with the CA given by cacert",
  ignore: !tls,
  async fn() {
    await using redis = await startRedis({ tls: true, password: PASSWORD });
    assert.match(redis.url(), /^rediss:/);
    assert.equal(await attempt(redis.url({ db: 1 })), undefined);
    assert.equal(
      await attempt(
        `rediss://:${PASSWORD}@localhost:${redis.port}?cacert=${redis.caFile}`,
      ),
      undefined,
    );
    // Through the registry, as the commands build it.
    const check = await createCheck(
      await parseTarget(redis.url(), "test"),
      {},
    );
    await check.check(AbortSignal.timeout(10_000));
    assertPermanent(
      await attempt(redis.url({ password: "nope" })),
      /WRONGPASS|invalid password/,
    );
  },
});

Deno.test({
  name: "rediss check reports an untrusted certificate as permanent",
  ignore: !tls,
  async fn() {
    await using redis = await startRedis({ tls: true });
    assertPermanent(
      await attempt(redis.url({ cacert: false })),
      /certificate/i,
    );
  },
});

Deno.test({
  name: "rediss check reports an unreadable cacert file as permanent",
  ignore: !tls,
  async fn() {
    await using redis = await startRedis({ tls: true });
    assertPermanent(
      await attempt(
        `rediss://127.0.0.1:${redis.port}?cacert=/nonexistent/ca.pem`,
      ),
      /Cannot read the CA file '\/nonexistent\/ca.pem'/,
    );
  },
});

Deno.test({
  name:
    "redis check speaking plain text to a TLS port, or TLS to a plain one, is not ready",
  ignore: !tls,
  async fn() {
    await using secure = await startRedis({ tls: true });
    assertNotReady(await attempt(`redis://127.0.0.1:${secure.port}`, 2000));
    await using plain = await startRedis();
    assertNotReady(await attempt(`rediss://127.0.0.1:${plain.port}`, 2000));
  },
});

/** Root may create network namespaces (`unshare --net`). */
const CAN_UNSHARE_NET = Deno.build.os === "linux" && Deno.uid() === 0;

Deno.test({
  name:
    "wait reports a real Redis in protected mode (DENIED) as a permanent failure at once, not a wait to the deadline",
  ignore: !CAN_UNSHARE_NET,
  async fn() {
    // Protected mode refuses clients that are not on loopback: in a network
    // namespace of its own, 10.200.0.1 on lo is such an address, and no
    // traffic leaves the namespace.
    const script = [
      "ip link set lo up",
      "ip addr add 10.200.0.1/32 dev lo",
      `redis-server --port 6379 --save '' --appendonly no --protected-mode yes --loglevel warning >/dev/null 2>&1 &`,
      "until redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; do sleep 0.05; done",
      '"$@"',
      "code=$?",
      "kill $!",
      "exit $code",
    ].join("\n");
    const [deno, ...pre] = preflightArgv();
    const child = new Deno.Command("unshare", {
      // A PID namespace too: when the test kills unshare, everything in it
      // (Redis included) dies with it.
      args: [
        "--net",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "/bin/sh",
        "-c",
        script,
        "sh",
        deno,
        ...pre,
        "wait",
        "--timeout",
        "60s",
        "redis://10.200.0.1:6379",
      ],
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // A wait to the 60 s deadline is the bug: stop it well before.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const out = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, stderr);
    assert.notEqual(out.code, 137, `waited for the deadline:\n${stderr}`);
    assert.match(
      stderr,
      /✗ redis:\/\/10\.200\.0\.1:6379: .*DENIED Redis is running in protected mode/,
    );
    assert.doesNotMatch(stderr, /not ready after/);
  },
});
