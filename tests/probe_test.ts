/** `preflight probe` through the CLI: exit 0/1 only, silence when healthy, one line, JSON, the hard deadline. */
import assert from "node:assert/strict";
import { closedPort, startFaultServer } from "./_servers.ts";
import { runPreflight } from "./_cli.ts";

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
