/**
 * The DNS check against a real dnsmasq on a loopback port (tests/_dnsmasq.ts)
 * whose records change while a check polls, and against DNS "servers" that
 * do not answer. Names without `server=` are only looked up for `localhost`
 * (from /etc/hosts): a test never asks the machine's real resolver.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { NotReadyError } from "../src/checks/check.ts";
import { kind as dnsKind } from "../src/checks/dns.ts";
import { runPreflight, startPreflight } from "./_cli.ts";
import { dnsmasqMissing, startDnsmasq } from "./_dnsmasq.ts";

const missing = dnsmasqMissing();
if (missing) console.log(`dns check tests against dnsmasq skipped: ${missing}`);

/** One attempt of the check: the error it failed with, or undefined when ready. */
async function attempt(
  url: string,
  timeoutMs = 5000,
): Promise<Error | undefined> {
  try {
    await dnsKind.check(dnsKind.parse(url, "test"), {}).check(
      AbortSignal.timeout(timeoutMs),
    );
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
): Promise<void> {
  const error = await attempt(url, timeoutMs);
  assert.ok(
    error instanceof NotReadyError,
    `expected NotReadyError, got: ${error?.name} ${error?.message}`,
  );
  assert.match(error.message, pattern);
}

/**
 * Polls the check (as the wait loop would) until it passes; resolves with the
 * reasons seen before. Tells `onFirstFailure` when it has failed once, so the
 * test changes the records only while the check is really waiting.
 */
async function pollUntilReady(
  url: string,
  onFirstFailure: () => void,
): Promise<string[]> {
  const check = dnsKind.check(dnsKind.parse(url, "test"), {});
  const reasons: string[] = [];
  const giveUp = AbortSignal.timeout(30_000);
  while (!giveUp.aborted) {
    try {
      await check.check(AbortSignal.timeout(2000));
      return reasons;
    } catch (e) {
      assert.ok(e instanceof NotReadyError, String(e));
      if (reasons.length === 0) onFirstFailure();
      if (!reasons.includes(e.message)) reasons.push(e.message);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never ready: ${reasons.join("; ")}`);
}

Deno.test({
  name: "dns check against a real dnsmasq",
  ignore: missing !== undefined,
  async fn(t) {
    await using dns = await startDnsmasq({
      hosts: { "db.test": ["10.0.0.4", "fd00::4"], "v4.test": ["10.0.0.9"] },
      cnames: { "alias.test": "db.test" },
      srv: [{ name: "_pg._tcp.test", target: "db.test", port: 5432 }],
      txt: { "txt.test": "v=1 ok" },
    });
    const at = `server=${dns.server}`;

    await t.step(
      "a name with an address is ready; with a value, only when a record has it",
      async () => {
        await assertReady(`dns://db.test?${at}`);
        await assertReady(`dns://db.test?value=10.0.0.4&${at}`);
        await assertReady(`dns://db.test?type=A&value=10.0.0.4&${at}`);
        // IPv6 compared in canonical form.
        await assertReady(`dns://db.test?type=AAAA&value=fd00:0:0::4&${at}`);
        await assertNotReady(
          `dns://db.test?value=10.0.0.5&${at}`,
          /^db\.test resolves to address '10\.0\.0\.4', 'fd00::4' at 127\.0\.0\.1:\d+, not to '10\.0\.0\.5'$/,
        );
      },
    );

    await t.step(
      "CNAME, SRV and TXT records, with and without a value",
      async () => {
        await assertReady(`dns://alias.test?type=CNAME&${at}`);
        await assertReady(`dns://alias.test?type=CNAME&value=DB.test.&${at}`);
        await assertReady(
          `dns://_pg._tcp.test?type=SRV&value=db.test:5432&${at}`,
        );
        await assertReady(`dns://_pg._tcp.test?type=SRV&value=db.test&${at}`);
        await assertNotReady(
          `dns://_pg._tcp.test?type=SRV&value=db.test:5433&${at}`,
          /resolves to SRV 'db\.test:5432'/,
        );
        await assertReady(`dns://txt.test?type=TXT&value=v%3D1%20ok&${at}`);
      },
    );

    await t.step(
      "a name that does not exist (NXDOMAIN) or has no record of the type is not ready",
      async () => {
        await assertNotReady(
          `dns://nope.test?${at}`,
          /^nope\.test has no A or AAAA record at 127\.0\.0\.1:\d+ \(yet\)$/,
        );
        await assertNotReady(
          `dns://v4.test?type=AAAA&${at}`,
          /v4\.test has no AAAA record/,
        );
      },
    );

    await t.step(
      "a name added while the check waits becomes ready (dnsmasq re-reads its hosts on SIGHUP)",
      async () => {
        let added: Promise<void> | undefined;
        const reasons = await pollUntilReady(`dns://new.test?${at}`, () => {
          added = dns.setHosts({
            "db.test": ["10.0.0.4", "fd00::4"],
            "new.test": ["10.0.0.7"],
          });
        });
        await added;
        assert.deepEqual(
          reasons.map((r) => r.replace(/:\d+/, ":PORT")),
          ["new.test has no A or AAAA record at 127.0.0.1:PORT (yet)"],
        );
      },
    );

    await t.step(
      "a record changed to the expected value while the check waits becomes ready",
      async () => {
        let moved: Promise<void> | undefined;
        const reasons = await pollUntilReady(
          `dns://db.test?type=A&value=10.0.0.5&${at}`,
          () => {
            moved = dns.setHosts({ "db.test": ["10.0.0.5"] });
          },
        );
        await moved;
        assert.equal(reasons.length, 1);
        assert.match(
          reasons[0],
          /resolves to A '10\.0\.0\.4'.*not to '10\.0\.0\.5'/,
        );
      },
    );

    await t.step(
      "doctor's facts list the records the name has now",
      async () => {
        const facts = await dnsKind.facts!(
          dnsKind.parse(`dns://db.test?type=A&${at}`, "t"),
          AbortSignal.timeout(5000),
        );
        assert.equal(facts.value, "10.0.0.5");
        assert.equal(facts.summary, "A '10.0.0.5'");
        assert.deepEqual(facts.data.records, ["10.0.0.5"]);
      },
    );

    await t.step(
      "stopped: no answer from the server is not ready, within the attempt's deadline",
      async () => {
        await dns.stop();
        const started = performance.now();
        await assertNotReady(
          `dns://db.test?${at}`,
          /no answer about db\.test from 127\.0\.0\.1:\d+ before the attempt timed out/,
          500,
        );
        assert.ok(performance.now() - started < 10_000);
      },
    );
  },
});

Deno.test("dns check: a server that receives queries but never answers is not ready, within the attempt's deadline", async () => {
  const socket = dgram.createSocket("udp4");
  let queries = 0;
  socket.on("message", () => queries++);
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  try {
    const started = performance.now();
    await assertNotReady(
      `dns://db.test?server=127.0.0.1:${socket.address().port}`,
      /no answer about db\.test from 127\.0\.0\.1:\d+ before the attempt timed out/,
      500,
    );
    assert.ok(performance.now() - started < 10_000);
    assert.ok(queries > 0, "the query reached the silent server");
  } finally {
    socket.close();
  }
});

Deno.test("dns check without a server asks the system resolver as the application would (/etc/hosts: localhost)", async () => {
  await assertReady("dns://localhost");
  await assertReady("dns://localhost?value=127.0.0.1");
  await assertNotReady(
    "dns://localhost?value=10.1.2.3",
    /^localhost resolves to address .*'127\.0\.0\.1'.* at the system resolver, not to '10\.1\.2\.3'$/,
  );
});

Deno.test({
  name:
    "wait and probe of dns:// through the CLI: not ready until the name is added, then ready; a value never seen times out (124), being transient; a bad type is a usage error (2)",
  ignore: missing !== undefined,
  async fn() {
    await using server = await startDnsmasq({
      hosts: { "db.test": ["10.0.0.4"] },
    });
    const at = `server=${server.server}`;
    const down = await runPreflight(["probe", `dns://new.test?${at}`]);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /new\.test has no A or AAAA record/);

    await using waiting = startPreflight([
      "wait",
      "--timeout",
      "30s",
      "--log-level",
      "debug",
      `dns://new.test?value=10.0.0.7&${at}`,
      "--",
      "true",
    ]);
    await waiting.waitForStderr(/not ready: new\.test has no A or AAAA record/);
    await server.setHosts({
      "db.test": ["10.0.0.4"],
      "new.test": ["10.0.0.7"],
    });
    const up = await waiting.result;
    assert.equal(up.code, 0, up.stderr);
    assert.match(
      up.stderr,
      /✓ dns:\/\/new\.test\?value=10\.0\.0\.7.* is ready/,
    );

    const healthy = await runPreflight(["probe", `dns://new.test?${at}`]);
    assert.deepEqual([healthy.code, healthy.stderr], [0, ""]);

    // Another value is what waiting for DNS is for: never permanent.
    const other = await runPreflight([
      "wait",
      "--timeout",
      "1s",
      `dns://db.test?value=10.9.9.9&${at}`,
    ]);
    assert.equal(other.code, 124, other.stderr);
    assert.match(other.stderr, /not to '10\.9\.9\.9'/);

    const bad = await runPreflight(["wait", `dns://db.test?type=MX&${at}`]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /unknown record type 'MX'/);
  },
});
