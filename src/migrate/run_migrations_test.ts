import assert from "node:assert/strict";
import { runMigrations } from "./run_migrations.ts";
import { parseTarget } from "../checks/mod.ts";
import type { Log } from "../log/logger.ts";
import { SignalledError } from "../errors.ts";
import { FakeClock } from "../../tests/_fake_clock.ts";

function collector(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  const push = (msg: string) => void lines.push(msg);
  return { log: { debug: push, info: push, warn: push, error: push }, lines };
}

Deno.test("runMigrations stops after two failures in a row with the database ready; a failure with it down resets the count", async () => {
  // A real listener stands for the database (a tcp:// target): open while
  // attempts 1, 3 and 4 run, closed during attempt 2.
  const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (first.addr as Deno.NetAddr).port;
  let listener: Deno.Listener | undefined = first;
  const { log, lines } = collector();
  try {
    const outcome = await runMigrations({
      argv: ["/bin/sh", "-c", "exit 1"],
      name: "Migrate",
      env: { PATH: "/usr/bin:/bin" },
      attempts: 6,
      delayMs: 1,
      maxDelayMs: 1,
      stopTimeoutMs: 1000,
      signal: new AbortController().signal,
      log,
      database: await parseTarget(`tcp://127.0.0.1:${port}`, "test"),
      beforeAttempt: () => {
        const n = lines.filter((l) => / attempt \d+\/6/.test(l)).length + 1;
        if (n === 2) {
          listener?.close();
          listener = undefined;
        } else if (!listener) {
          listener = Deno.listen({ hostname: "127.0.0.1", port });
        }
        return Promise.resolve(undefined);
      },
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.attempts, 4, lines.join("\n"));
    assert.match(
      lines.at(-1)!,
      /^✗ Migrate failed twice in a row while the database was ready: .* skipping the remaining 2 attempts\.$/,
    );
  } finally {
    listener?.close();
  }
});

Deno.test("runMigrations without a database runs the whole schedule", async () => {
  const { log, lines } = collector();
  const outcome = await runMigrations({
    argv: ["/bin/sh", "-c", "exit 1"],
    name: "Migrate",
    env: { PATH: "/usr/bin:/bin" },
    attempts: 3,
    delayMs: 1,
    maxDelayMs: 1,
    stopTimeoutMs: 1000,
    signal: new AbortController().signal,
    log,
  });
  assert.equal(outcome.attempts, 3);
  assert.ok(!lines.some((l) => l.includes("skipping")), lines.join("\n"));
});

Deno.test("runMigrations waits the old script's 2, 4, 8, 16, 32 s between failed attempts (fake clock)", async () => {
  const clock = new FakeClock();
  const { log, lines } = collector();
  const startedAt: number[] = [];
  const outcome = await clock.run(runMigrations({
    argv: ["/bin/sh", "-c", "exit 1"],
    name: "Alembic",
    env: { PATH: "/usr/bin:/bin" },
    attempts: 6,
    delayMs: 2000,
    maxDelayMs: 64_000,
    stopTimeoutMs: 1000,
    signal: new AbortController().signal,
    log,
    clock,
    beforeAttempt: () => {
      startedAt.push(clock.now());
      return Promise.resolve(undefined);
    },
  }));
  assert.deepEqual(outcome, { ok: false, attempts: 6, lastExitCode: 1 });
  assert.deepEqual(
    startedAt.slice(1).map((t, i) => t - startedAt[i]),
    [2000, 4000, 8000, 16_000, 32_000],
  );
  assert.deepEqual(lines.filter((l) => l.startsWith("Retrying")), [
    "Retrying in 2s...",
    "Retrying in 4s...",
    "Retrying in 8s...",
    "Retrying in 16s...",
    "Retrying in 32s...",
  ]);
});

Deno.test("a stop signal during the backoff delay ends runMigrations at once with its reason", async () => {
  const clock = new FakeClock();
  const { log, lines } = collector();
  const stop = new AbortController();
  const running = runMigrations({
    argv: ["/bin/sh", "-c", "exit 1"],
    name: "Alembic",
    env: { PATH: "/usr/bin:/bin" },
    attempts: 6,
    delayMs: 2000,
    maxDelayMs: 64_000,
    stopTimeoutMs: 1000,
    signal: stop.signal,
    log,
    clock,
  });
  // Wait until the first retry delay has begun, then stop 1 s into it.
  while (!lines.some((l) => l.startsWith("Retrying"))) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await clock.advance(1000);
  stop.abort(new SignalledError("SIGTERM", 15));
  await assert.rejects(clock.run(running), SignalledError);
  assert.equal(clock.now(), 1000);
  assert.equal(lines.filter((l) => / attempt \d\/6/.test(l)).length, 1);
});
