/**
 * `preflight wait` through the CLI, against real servers: hand-over by exec,
 * exit codes, permanent failures that end the wait at once, JSON logs.
 */
import assert from "node:assert/strict";
import { closedPort, startFaultServer, startPostgres } from "./_servers.ts";
import { preflightArgv, runPreflight } from "./_cli.ts";

function procField(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1] ?? "";
}

Deno.test("wait hands over by exec: the command keeps preflight's PID, has no ignored or blocked signals, only fds 0-2, and the environment", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  // launch.py starts preflight from a clean state (no signal ignored or
  // blocked, no extra fd), as a container runtime does; Deno's own children
  // would otherwise inherit its ignored real-time signals 32 and 33.
  const launch = new URL("./fixtures/launch.py", import.meta.url).pathname;
  const child = new Deno.Command("/usr/bin/python3", {
    args: [
      launch,
      "--",
      ...preflightArgv(),
      "wait",
      `tcp://127.0.0.1:${port}`,
      "--",
      "sleep",
      "30",
    ],
    env: { PATH: Deno.env.get("PATH")!, FOO: "bar baz" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let cmdline = "";
    for (let i = 0; i < 400 && !cmdline.startsWith("sleep"); i++) {
      await new Promise((r) => setTimeout(r, 25));
      cmdline = (await Deno.readTextFile(`/proc/${child.pid}/cmdline`))
        .replaceAll("\0", " ");
    }
    assert.match(cmdline, /^sleep 30/);
    const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
    assert.equal(procField(status, "SigIgn"), "0000000000000000");
    assert.equal(procField(status, "SigBlk"), "0000000000000000");
    const fds = [...Deno.readDirSync(`/proc/${child.pid}/fd`)].map((e) =>
      Number(e.name)
    ).sort();
    assert.deepEqual(fds, [0, 1, 2]);
    const environ = (await Deno.readTextFile(`/proc/${child.pid}/environ`))
      .split("\0");
    assert.ok(environ.includes("FOO=bar baz"), environ.join("\n"));
    assert.ok(environ.includes("PREFLIGHT_WAIT=ready"), environ.join("\n"));
  } finally {
    listener.close();
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("wait exits 0 when every target is ready and 124 when one is not ready in time", async () => {
  await using pg = await startPostgres();
  let r = await runPreflight(["wait", pg.url(), `tcp://127.0.0.1:${pg.port}`]);
  assert.equal(r.code, 0, r.stderr);
  r = await runPreflight([
    "wait",
    "--timeout",
    "500ms",
    pg.url(),
    `tcp://127.0.0.1:${closedPort()}`,
  ]);
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /connection refused/);
});

Deno.test("a wrong password ends the wait at once with exit 1 and the server's message instead of burning the budget", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: "right-pw-3b1c",
  });
  const t0 = performance.now();
  const r = await runPreflight([
    "wait",
    "--timeout",
    "60s",
    pg.url("postgres", "wrong-pw-8e2d", "postgres"),
  ]);
  const ms = performance.now() - t0;
  // 1, not 124: 124 means "not ready in time", only transient failures seen.
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /password authentication failed for user "postgres"/);
  assert.ok(ms < 30_000, `took ${Math.round(ms)} ms of a 60 s budget`);
  assert.ok(!r.stderr.includes("wrong-pw-8e2d"));
});

Deno.test("an accept-then-close proxy is never reported ready as postgres:// or redis://", async () => {
  await using proxy = await startFaultServer("accept-close");
  for (const scheme of ["postgres", "redis"]) {
    const r = await runPreflight([
      "wait",
      "--timeout",
      "700ms",
      `${scheme}://127.0.0.1:${proxy.port}`,
    ]);
    assert.equal(r.code, 124, `${scheme}: ${r.stderr}`);
  }
});

Deno.test("--log-format json prints one object per line with ts, level, msg, phase and target", async () => {
  const r = await runPreflight([
    "wait",
    "--log-format",
    "json",
    "--timeout",
    "300ms",
    `tcp://127.0.0.1:${closedPort()}`,
  ]);
  assert.equal(r.code, 124);
  const lines = r.stderr.trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.length >= 2);
  for (const l of lines) {
    assert.equal(typeof l.ts, "string");
    assert.ok(["debug", "info", "warn", "error"].includes(l.level));
    assert.equal(typeof l.msg, "string");
  }
  const result = lines.find((l) => /not ready after/.test(l.msg));
  assert.ok(result, r.stderr);
  assert.equal(result.phase, "wait");
  assert.match(result.target, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(typeof result.elapsed_ms, "number");
});

Deno.test("with --on-timeout continue, a permanent failure ends only that target's wait: the others are still waited for", async () => {
  await using pg = await startPostgres({
    auth: "scram",
    password: "right-pw-77aa",
  });
  const port = closedPort();
  let listener: Deno.Listener | undefined;
  const opener = setTimeout(() => {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
  }, 1000);
  try {
    const r = await runPreflight([
      "wait",
      "--on-timeout",
      "continue",
      "--timeout",
      "20s",
      pg.url("postgres", "wrong-pw-1d0e", "postgres"),
      `tcp://127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /password authentication failed/);
    assert.match(
      r.stderr,
      new RegExp(`✓ tcp://127\\.0\\.0\\.1:${port} is ready`),
    );
  } finally {
    clearTimeout(opener);
    listener?.close();
  }
});

Deno.test("with --on-timeout fail, a permanent failure (wrong Redis password) ends the wait at once: the target that is never ready is given up, not waited for to the deadline", async () => {
  const { startRedis } = await import("./_redis.ts");
  await using redis = await startRedis({ password: "cancel-Secret-4d1e" });
  await using silent = startFaultServer("silent");
  const r = await runPreflight(
    [
      "wait",
      "--on-timeout",
      "fail",
      "--timeout",
      "120s",
      `redis://:wrong-pw-0c2b@127.0.0.1:${redis.port}`,
      // Accepts, never answers: never ready.
      `postgres://127.0.0.1:${silent.port}`,
    ],
    {},
    // Without the cancellation the wait runs its 120 s: killed here first.
    { timeoutMs: 60_000 },
  );
  assert.notEqual(r.code, 0, r.stderr);
  assert.notEqual(r.code, 137, `waited to the deadline:\n${r.stderr}`);
  assert.match(r.stderr, /WRONGPASS|invalid username-password pair/);
  assert.match(
    r.stderr,
    new RegExp(
      `✗ postgres://127\\.0\\.0\\.1:${silent.port}: gave up, another target failed`,
    ),
  );
});
