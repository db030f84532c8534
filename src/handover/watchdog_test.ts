import assert from "node:assert/strict";
import { startWatchdog, type WatchdogFailure } from "./watchdog.ts";

/** A check from a script of outcomes (true passes); past its end it passes. */
function scripted(results: boolean[]) {
  let calls = 0;
  const check = () => {
    const ok = results[calls++] ?? true;
    return ok ? Promise.resolve() : Promise.reject(new Error("refused"));
  };
  return { check, calls: () => calls };
}

Deno.test("startWatchdog resolves after the given number of consecutive failures", async () => {
  const s = scripted([false, true, false, false, true, false, false, false]);
  await startWatchdog(s.check, {
    intervalMs: 1,
    failures: 3,
    // A bound: a watchdog that never trips fails the test instead of hanging it.
    signal: AbortSignal.timeout(5000),
  });
  // Failures at 1, 3-4 and 6-8: the third in a row is call 8.
  assert.equal(s.calls(), 8);
});

Deno.test("startWatchdog counts a check that throws as failed", async () => {
  let calls = 0;
  await startWatchdog(() => {
    calls++;
    throw new Error("connection refused");
  }, { intervalMs: 1, failures: 2, signal: AbortSignal.timeout(5000) });
  assert.equal(calls, 2);
});

Deno.test("startWatchdog stops checking and rejects when its signal aborts", async () => {
  const stop = new AbortController();
  let calls = 0;
  const done = startWatchdog(() => {
    if (++calls === 2) stop.abort(new Error("app exited"));
    return Promise.resolve();
  }, { intervalMs: 1, failures: 1, signal: stop.signal });
  await assert.rejects(done, /app exited/);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 2);
});

/**
 * A fake clock: each check takes `stepMs` of it, whatever the real time.
 * Returns the failures the watchdog reported and how many checks ran.
 */
async function withFakeClock(
  results: boolean[],
  opts: { stepMs: number; startPeriodMs: number; failures: number },
): Promise<{ failures: WatchdogFailure[]; calls: number; at: number }> {
  let clock = 0;
  const s = scripted(results);
  const failures: WatchdogFailure[] = [];
  await startWatchdog(() => {
    const p = s.check();
    clock += opts.stepMs;
    return p;
  }, {
    intervalMs: 1,
    failures: opts.failures,
    startPeriodMs: opts.startPeriodMs,
    signal: AbortSignal.timeout(5000),
    onFailure: (f) => failures.push(f),
    now: () => clock,
  });
  return { failures, calls: s.calls(), at: clock };
}

Deno.test("startWatchdog: failures before the first pass within the start period do not count (Docker's start_period)", async () => {
  // One check per fake second, a 10 s start period, 3 failures to trip:
  // an app that refuses for 8 s, then is healthy, then fails for good.
  const r = await withFakeClock(
    [...Array(8).fill(false), true, true, ...Array(10).fill(false)],
    { stepMs: 1000, startPeriodMs: 10_000, failures: 3 },
  );
  // Tripped by the third failure after the passes: check 13, not check 3.
  assert.equal(r.calls, 13);
  assert.deepEqual(r.failures.map((f) => f.counted), [
    ...Array(8).fill(false),
    true,
    true,
    true,
  ]);
  assert.deepEqual(r.failures.slice(8).map((f) => f.streak), [1, 2, 3]);
});

Deno.test("startWatchdog: after the first pass, failures count even within the start period", async () => {
  const r = await withFakeClock(
    [true, false, false, false],
    { stepMs: 1000, startPeriodMs: 60_000, failures: 3 },
  );
  assert.equal(r.calls, 4);
  assert.ok(r.failures.every((f) => f.counted));
});

Deno.test("startWatchdog: an app never healthy trips once the start period is over", async () => {
  // Checks begin at 0, 1, ... 9 s; those begun at 5 s and later count.
  const r = await withFakeClock(Array(20).fill(false), {
    stepMs: 1000,
    startPeriodMs: 5000,
    failures: 3,
  });
  assert.equal(r.calls, 8);
  assert.deepEqual(r.failures.map((f) => f.counted), [
    false,
    false,
    false,
    false,
    false,
    true,
    true,
    true,
  ]);
});
