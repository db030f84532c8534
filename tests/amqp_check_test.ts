/**
 * The AMQP check against a real RabbitMQ node from Debian (tests/_rabbitmq.ts),
 * watched from before it boots until it is ready, then with right and wrong
 * credentials, unknown and forbidden virtual hosts, and TLS; and against
 * loopback listeners that accept but do not speak AMQP 0-9-1. One node is
 * booted for the file (several seconds here) and shared by the steps.
 */
import assert from "node:assert/strict";
import { NotReadyError, PermanentError } from "../src/checks/check.ts";
import { kind as amqp } from "../src/checks/amqp.ts";
import { checkOf } from "./_checks.ts";
import { runPreflight, startPreflight } from "./_cli.ts";
import { rabbitMqMissing, startRabbitMq } from "./_rabbitmq.ts";
import { closedPort, type FaultKind, startFaultServer } from "./_servers.ts";

const PASSWORD = "Amqp-s3cret-Pa55";
const WRONG = "Wr0ng-Pa55word";
const missing = rabbitMqMissing();
if (missing) {
  console.log(`amqp check tests against RabbitMQ skipped: ${missing}`);
}

/** One attempt of the check: the error it failed with, or undefined when ready. */
async function attempt(
  url: string,
  timeoutMs = 10_000,
): Promise<Error | undefined> {
  const check = amqp.check(amqp.parse(url, "test"), {});
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

function assertNoPassword(error: Error): void {
  for (const p of [PASSWORD, WRONG]) {
    assert.ok(!error.message.includes(p), `password in: ${error.message}`);
  }
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
  assertNoPassword(error);
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
  assertNoPassword(error);
  return error;
}

/** A TCP-only check of a port: what `nc -z` (or wait4x's TCP checker) reports. */
function tcpOnly(port: number) {
  return checkOf(`tcp://127.0.0.1:${port}`);
}

/** Polls a check every `everyMs` until it passes; the times (ms since `t0`) of the first pass and of each failure reason. */
async function firstPass(
  check: { check(signal: AbortSignal): Promise<void> },
  t0: number,
  stop: AbortSignal,
  everyMs = 25,
): Promise<{ at: number; failures: Map<string, number> }> {
  const failures = new Map<string, number>();
  while (!stop.aborted) {
    try {
      await check.check(AbortSignal.timeout(2000));
      return { at: performance.now() - t0, failures };
    } catch (e) {
      const why = (e as Error).message.replace(/:\d+/g, ":PORT");
      if (!failures.has(why)) failures.set(why, performance.now() - t0);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error("gave up");
}

Deno.test({
  name: "amqp check against a real RabbitMQ node",
  ignore: missing !== undefined,
  async fn(t) {
    await using mq = await startRabbitMq({
      users: [{ name: "app", password: PASSWORD, vhosts: ["/", "app"] }],
      vhosts: ["/", "app", "other"],
      tls: true,
      deferStart: true,
    });
    const login = (vhost?: string, password = PASSWORD, user = "app") =>
      mq.url({ user, password, vhost });

    await t.step(
      "not started: refused, not ready, with and without a user",
      async () => {
        await assertNotReady(mq.url(), /refused/);
        await assertNotReady(login("app"), /refused/);
        const probed = await runPreflight(["probe", login("app")]);
        assert.equal(probed.code, 1, probed.stderr);
        assert.match(
          probed.stderr,
          /^unhealthy: amqp:\/\/app:\*\*\*@.*refused/,
        );
      },
    );

    await t.step(
      "booting: not ready until Connection.Start; what a TCP-only check says meanwhile is recorded",
      async () => {
        const giveUp = AbortSignal.timeout(120_000);
        // The CLI's wait, started before the node and sure of it.
        await using waiting = startPreflight([
          "wait",
          "--timeout",
          "120s",
          "--log-level",
          "debug",
          mq.url(),
          login("app"),
          "--",
          "true",
        ]);
        await waiting.waitForStderr(/not ready: connection refused/);
        const t0 = performance.now();
        mq.start();
        const [tcp, greeted, opened] = await Promise.all([
          firstPass(await tcpOnly(mq.port), t0, giveUp),
          firstPass(amqp.check(amqp.parse(mq.url(), "t"), {}), t0, giveUp),
          firstPass(
            amqp.check(amqp.parse(login("app"), "t"), {}),
            t0,
            giveUp,
          ),
        ]);
        await mq.ready;
        const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
        console.log(
          `  RabbitMQ boot, from the start of the node:\n` +
            `    TCP-only check first passed at ${s(tcp.at)}\n` +
            `    AMQP check (Connection.Start) first passed at ${
              s(greeted.at)
            }\n` +
            `    AMQP login + Open first passed at ${s(opened.at)}\n` +
            `    reasons before (TCP; AMQP; login): ${
              [tcp, greeted, opened].map((r) =>
                [...r.failures].map(([why, at]) => `${s(at)} ${why}`).join(
                  ", ",
                )
              ).join("; ")
            }`,
        );
        // Booting, the broker refused: both AMQP checks failed before passing,
        // and never passed before the TCP port accepted.
        assert.ok(greeted.failures.size > 0 && opened.failures.size > 0);
        assert.ok(
          [...greeted.failures.keys()].every((why) => /refused/.test(why)),
          [...greeted.failures.keys()].join("; "),
        );
        assert.ok(
          greeted.at >= tcp.at - 100,
          "AMQP ready before the port accepted?",
        );
        // The CLI's wait was not ready while the node booted, then ready.
        const waited = await waiting.result;
        assert.equal(waited.code, 0, waited.stderr);
        assert.match(waited.stderr, /not ready: connection refused/);
        assert.match(
          waited.stderr,
          /✓ amqp:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/app is ready/,
        );
        assert.ok(!waited.stderr.includes(PASSWORD), waited.stderr);
      },
    );

    await t.step(
      "ready: Connection.Start answers the protocol header without a user",
      async () => {
        await assertReady(mq.url());
        await assertReady(`amqp://localhost:${mq.port}`);
      },
    );

    await t.step(
      "ready: the connection opens on the virtual host with the right password",
      async () => {
        await assertReady(login("app"));
        await assertReady(login()); // no path: the vhost "/"
        await assertReady(`amqp://app:${PASSWORD}@127.0.0.1:${mq.port}/%2F`);
      },
    );

    await t.step(
      "through the CLI: probe answers 0 when ready; wait and probe with a wrong password exit 1 at once",
      async () => {
        const healthy = await runPreflight(["probe", mq.url(), login("app")]);
        assert.deepEqual([healthy.code, healthy.stderr], [0, ""]);
        const failed = await runPreflight([
          "wait",
          "--timeout",
          "60s",
          login("app", WRONG),
        ]);
        assert.equal(failed.code, 1, failed.stderr);
        assert.match(failed.stderr, /ACCESS_REFUSED.*\(403\)/);
        const probed = await runPreflight(["probe", login("app", WRONG)]);
        assert.equal(probed.code, 1, probed.stderr);
        assert.match(probed.stderr, /ACCESS_REFUSED/);
        for (const r of [failed, probed]) {
          assert.ok(!r.stderr.includes(WRONG), r.stderr);
        }
      },
    );

    await t.step(
      "wrong credentials are permanent (403 ACCESS_REFUSED), without the password",
      async () => {
        await assertPermanent(login("app", WRONG), /ACCESS_REFUSED.*\(403\)/);
        await assertPermanent(
          login("app", PASSWORD, "nobody"),
          /ACCESS_REFUSED.*\(403\)/,
        );
      },
    );

    await t.step(
      "an unknown virtual host is permanent (530 NOT_ALLOWED)",
      async () => {
        await assertPermanent(
          login("nope"),
          /NOT_ALLOWED - vhost nope not found \(530\)/,
        );
      },
    );

    await t.step(
      "a virtual host the user may not use is permanent",
      async () => {
        await assertPermanent(
          login("other"),
          /access to vhost 'other' refused for user 'app' \(530\)/,
        );
      },
    );

    await t.step(
      "amqps: ready with the CA given by cacertfile, with and without a user",
      async () => {
        await assertReady(mq.url({ tls: true }));
        await assertReady(
          mq.url({ tls: true, user: "app", password: PASSWORD, vhost: "app" }),
        );
      },
    );

    await t.step(
      "amqps: a certificate the roots do not vouch for is permanent",
      async () => {
        await assertPermanent(
          `amqps://app:${PASSWORD}@127.0.0.1:${mq.tlsPort}/app`,
          /TLS certificate error/,
        );
      },
    );

    await t.step(
      "amqps to the plain port and amqp to the TLS port are not ready",
      async () => {
        await assertNotReady(
          `amqps://127.0.0.1:${mq.port}?cacertfile=${
            encodeURIComponent(mq.caFile!)
          }`,
          /127\.0\.0\.1:\d+/,
          2000,
        );
        await assertNotReady(
          `amqp://127.0.0.1:${mq.tlsPort}`,
          /127\.0\.0\.1:\d+/,
          2000,
        );
      },
    );

    await t.step(
      "doctor's facts give the broker's product and version from Connection.Start",
      async () => {
        const facts = await amqp.facts!(
          amqp.parse(mq.url(), "t"),
          AbortSignal.timeout(10_000),
        );
        const logged = /Starting RabbitMQ (\S+)/.exec(await mq.log())?.[1];
        assert.equal(facts.value, logged);
        assert.equal(facts.summary, `RabbitMQ ${logged}`);
        assert.equal(facts.data.protocol, "0-9-1");
        assert.ok((facts.data.mechanisms as string[]).includes("PLAIN"));
      },
    );

    await t.step("stopped: not ready again", async () => {
      await mq.stop();
      await assertNotReady(mq.url(), /refused/);
      await assertNotReady(login("app"), /refused/);
    });
  },
});

Deno.test("amqp check: a refused port is not ready, with and without a user", async () => {
  const port = closedPort();
  await assertNotReady(`amqp://127.0.0.1:${port}`, /refused/);
  await assertNotReady(
    `amqp://app:${PASSWORD}@127.0.0.1:${port}/app`,
    /refused/,
  );
});

const faults: [FaultKind, RegExp][] = [
  ["accept-close", /closed by .* while waiting for Connection.Start|reset/],
  ["silent", /no Connection.Start from .* before the attempt timed out/],
  ["garbage", /is not answering as AMQP 0-9-1: unexpected frame type 0xff/],
];
for (const [kind, pattern] of faults) {
  Deno.test(`amqp check: a listener that does '${kind}' is not ready, within the attempt's deadline`, async () => {
    await using server = startFaultServer(kind);
    for (
      const url of [
        `amqp://127.0.0.1:${server.port}`,
        `amqp://app:${PASSWORD}@127.0.0.1:${server.port}/app`,
      ]
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

Deno.test("amqp check: a broker answering with the AMQP 1.0 header is permanent", async () => {
  // What an AMQP 1.0-only broker does with a 0-9-1 header: it sends its own
  // header and closes. No such broker is packaged here, so this listener
  // plays one.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(8)).catch(() => null);
      await conn.write(new Uint8Array([65, 77, 81, 80, 0, 1, 0, 0])).catch(
        () => {},
      );
      conn.close();
    }
  })();
  try {
    await assertPermanent(
      `amqp://127.0.0.1:${port}`,
      /does not speak AMQP 0-9-1: it answered with the protocol header of AMQP 1\.0/,
    );
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});
