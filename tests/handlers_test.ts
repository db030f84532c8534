/**
 * The command handlers in-process, each with a context of the test's own
 * (tests/_context.ts): its own arguments and environment, captured output,
 * and for the schedules a fake clock, so that a minute of backoff takes no
 * real time. What the binary adds around them (signals, exit, the exec
 * hand-over) is tested through the CLI elsewhere.
 */
import assert from "node:assert/strict";
import { runHandler } from "./_context.ts";
import { FakeClock } from "./_fake_clock.ts";
import { closedPort } from "./_servers.ts";
import {
  ConfigError,
  MigrationError,
  NotReadyInTimeError,
} from "../src/errors.ts";

const PATH = "/usr/bin:/bin";

/** An HTTP server answering /health with 200 and a JSON body. */
function healthServer(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/health"
        ? Response.json({ status: "ok" })
        : new Response("no", { status: 404 }),
  );
}

Deno.test("migrate retries on the old script's schedule, 2 s doubling to 32 s, then exits 3: a minute of backoff in no real time (fake clock)", async () => {
  const clock = new FakeClock();
  const t0 = performance.now();
  const r = await clock.run(runHandler(["migrate", "--no-db"], {
    PATH,
    MIGRATE_CMD: "/bin/sh -c 'exit 7'",
  }, { clock }));
  assert.equal(r.code, 3, r.stderr);
  assert.ok(r.error instanceof MigrationError);
  assert.deepEqual(
    [...r.stderr.matchAll(/Retrying in (\S+)\.\.\./g)].map((m) => m[1]),
    ["2s", "4s", "8s", "16s", "32s"],
  );
  assert.match(r.stderr, /^\[entrypoint\] ⚠️ Migrations did not complete\.$/m);
  // The delays were waited on the context's clock: 62 s of it.
  assert.equal(clock.now(), 62_000);
  assert.ok(performance.now() - t0 < 30_000);
  assert.equal(r.stdout, "");
});

Deno.test("run hands over to a supervised app with the status variables, its exit code passed on", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await runHandler([
      "run",
      "--no-db",
      "--supervise",
      "--",
      "/bin/sh",
      "-c",
      `echo "$PREFLIGHT_WAIT $PREFLIGHT_MIGRATIONS $FROM_ENV" > ${tmp}/status; exit 5`,
    ], { PATH, MIGRATE_CMD: "true", FROM_ENV: "from-the-context" });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(
      (await Deno.readTextFile(`${tmp}/status`)).trim(),
      "ready applied from-the-context",
    );
    for (
      const marker of [
        "Running database migrations...",
        "✓ Migrations applied successfully.",
        "Starting the app...",
      ]
    ) assert.ok(r.stderr.includes(`[entrypoint] ${marker}\n`), r.stderr);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("wait exits 0 once its target is ready, logging on the context's stderr", async () => {
  await using server = healthServer();
  const url = `http://127.0.0.1:${server.addr.port}/health`;
  const r = await runHandler(["wait", url], { PATH });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`^\\[entrypoint\\] ✓ ${url} is ready \\(`, "m"),
  );
  assert.equal(r.stdout, "");
});

Deno.test("wait on a port that never opens ends with exit 124 at its deadline", async () => {
  const port = closedPort();
  const r = await runHandler(
    ["wait", "-t", "300ms", `tcp://127.0.0.1:${port}`],
    {
      PATH,
    },
  );
  assert.equal(r.code, 124, r.stderr);
  assert.ok(r.error instanceof NotReadyInTimeError);
  assert.match(
    r.stderr,
    new RegExp(
      `✗ tcp://127\\.0\\.0\\.1:${port} not ready after .*: connection refused`,
    ),
  );
});

Deno.test("probe --json writes one object per target on the context's stdout and nothing on stderr", async () => {
  await using server = healthServer();
  const url = `http://127.0.0.1:${server.addr.port}/health`;
  const r = await runHandler(["probe", "--json", url], {});
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  const o = JSON.parse(r.stdout);
  assert.equal(o.target, url);
  assert.equal(o.ok, true);
});

Deno.test("probe's default target is the context's PORT, not the test process's", async () => {
  await using server = healthServer();
  const r = await runHandler(["probe"], { PORT: String(server.addr.port) });
  assert.equal(r.code, 0, r.stderr);
  const down = await runHandler(["probe"], { PORT: String(closedPort()) });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^unhealthy: http:\/\/127\.0\.0\.1:\d+\/health: /);
});

Deno.test("doctor prints its report on the context's stdout, coloured only on a terminal without NO_COLOR", async () => {
  await using server = healthServer();
  const env = {
    PATH: "/nonexistent",
    DB_HOST: "127.0.0.1",
    DB_PORT: String(closedPort()),
    PORT: String(server.addr.port),
  };
  const dotenv = "/nonexistent/.env";
  const plain = await runHandler(["doctor", "--timeout", "2s"], env, {
    dotenv,
  });
  assert.equal(plain.code, 1);
  assert.match(plain.stdout, /✗ \d+ failed/);
  assert.ok(!plain.stdout.includes("\x1b["));
  const terminal = await runHandler(["doctor", "--timeout", "2s"], env, {
    dotenv,
    isTerminal: true,
  });
  assert.ok(terminal.stdout.includes("\x1b[31m"), terminal.stdout);
  const noColor = await runHandler(["doctor", "--timeout", "2s"], {
    ...env,
    NO_COLOR: "1",
  }, { dotenv, isTerminal: true });
  assert.ok(!noColor.stdout.includes("\x1b["), noColor.stdout);
  const json = await runHandler(["doctor", "--json", "--timeout", "2s"], env, {
    dotenv,
  });
  const report = JSON.parse(json.stdout);
  assert.equal(report.ok, false);
  const app = report.checks.find((c: { component: string }) =>
    c.component === "app"
  );
  assert.equal(app.status, "pass");
});

Deno.test("version and help write to the context's stdout", async () => {
  const v = await runHandler(["version"], {});
  assert.match(v.stdout, /^preflight \d+\.\d+\.\d+ \(deno /);
  const h = await runHandler(["wait", "--help"], {});
  assert.match(h.stdout, /^Usage: preflight wait \[OPTIONS\] TARGET\.\.\./);
  assert.equal(h.stderr, "");
});

Deno.test("a configuration error is thrown before the handler runs", async () => {
  await assert.rejects(
    runHandler(["wait", "--timeout", "soon", "tcp://127.0.0.1:1"], {}),
    ConfigError,
  );
});
