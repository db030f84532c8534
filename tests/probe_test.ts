/** `preflight probe` through the CLI (and in-process for its deadline): exit 0/1 only, silence when healthy, one line, JSON, the hard deadline. */
import assert from "node:assert/strict";
import { closedPort, startFaultServer } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";
import { runHandler } from "./_context.ts";
import { FakeClock } from "./_fake_clock.ts";

function serve200(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/health"
        ? new Response("{}")
        : new Response("no", { status: 503 }),
  );
}

Deno.test("probe is silent and exits 0 when healthy, including the default target on $PORT", async () => {
  const server = serve200();
  try {
    let r = await runPreflight([
      "probe",
      `http://127.0.0.1:${server.addr.port}/health`,
    ]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
    r = await runPreflight(["probe"], { PORT: String(server.addr.port) });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("probe prints one line saying what failed and exits 1", async () => {
  const server = serve200();
  try {
    const r = await runPreflight([
      "probe",
      `http://127.0.0.1:${server.addr.port}/other`,
      `tcp://127.0.0.1:${closedPort()}`,
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^unhealthy: http:\/\/127\.0\.0\.1:\d+\/other: HTTP 503 from .*; tcp:\/\/127\.0\.0\.1:\d+: connection refused by/,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("probe's hard deadline cuts off a silent peer and keeps the outcome of targets that answered", async () => {
  await using silent = startFaultServer("silent");
  const server = serve200();
  try {
    const t0 = performance.now();
    const r = await runPreflight([
      "probe",
      "--json",
      "--timeout",
      "1s",
      `http://127.0.0.1:${server.addr.port}/health`,
      `http://127.0.0.1:${silent.port}/`,
      `tcp://127.0.0.1:${closedPort()}`,
    ]);
    assert.ok(performance.now() - t0 < 15_000);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[0].ok, true);
    assert.equal(lines[1].ok, false);
    assert.match(lines[1].reason, /no answer/);
    assert.match(lines[2].reason, /connection refused/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("probe answers 1, never 2, on bad input, and keeps its line under 4 KiB", async () => {
  for (
    const [args, env] of [
      [["probe", "--nope"], {}],
      [["probe", "--timeout", "soon"], {}],
      [["probe", "not a url"], {}],
      [["probe"], { PORT: "http" }],
    ] as [string[], Record<string, string>][]
  ) {
    const r = await runPreflight(args, env);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^(probe|unhealthy): .*(Invalid|Unknown) /,
      args.join(" "),
    );
  }
  const many = Array.from(
    { length: 120 },
    (_, i) => `tcp://127.0.0.1:${closedPort()}/x${"é".repeat(i % 7)}`,
  );
  const r = await runPreflight([
    "probe",
    "--timeout",
    "5s",
    ...many.map((u) => u.replace(/\/x.*$/, "")),
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^unhealthy: tcp:\/\/127\.0\.0\.1:/);
  assert.ok(
    new TextEncoder().encode(r.stderr).length <= 4097,
    `${r.stderr.length} chars`,
  );
});

Deno.test("probe --json keeps each target's object under 4 KiB, even for a 10 KB URL answered with a 10 KB reason", async () => {
  // A peer answering with a status line of 10 KB (the reason quotes it), for
  // a URL with a 10 KB query.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(65536)).catch(() => null);
      await conn.write(
        new TextEncoder().encode(`XTTP/1.1 200 ${"\u0001".repeat(10_000)}`),
      ).catch(() => {});
      conn.close();
    }
  })().catch(() => {});
  try {
    const long = `http://127.0.0.1:${listener.addr.port}/health?q=${
      "é".repeat(5000)
    }`;
    const r = await runPreflight([
      "probe",
      "--json",
      long,
      `tcp://127.0.0.1:${closedPort()}`,
    ]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2, r.stdout.slice(0, 500));
    for (const line of lines) {
      const size = new TextEncoder().encode(line).length;
      assert.ok(size < 4096, `an object of ${size} bytes`);
      const o = JSON.parse(line);
      assert.equal(o.ok, false);
      assert.equal(typeof o.reason, "string");
    }
    assert.match(
      JSON.parse(lines[0]).target,
      /^http:\/\/127\.0\.0\.1:\d+\/health\?q=/,
    );
  } finally {
    listener.close();
    await serving;
  }
});

Deno.test("probe's deadline counts from the command's start, shared with the short cut: with 100 ms of 3 s left, a silent peer ends it then, not 3 s later", async () => {
  await using silent = startFaultServer("silent");
  // As main.ts passes it: 2.9 s of the 3 s deadline already spent.
  const clock = new FakeClock(2900);
  const r = await clock.run(runHandler(
    [
      "probe",
      "--json",
      `http://127.0.0.1:${silent.port}/health`,
    ],
    {},
    { clock, startedAt: 0 },
  ));
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).ok, false);
  // A deadline of its own would end at 5.9 s.
  assert.equal(clock.now(), 3000);
});
