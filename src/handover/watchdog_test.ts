import assert from "node:assert/strict";
import { startWatchdog, type WatchdogFailure } from "./watchdog.ts";
import { FakeClock } from "../../tests/_fake_clock.ts";

/** A check from a script of outcomes (true passes); past its end it passes. */
function scripted(results: boolean[]) {
  let calls = 0;
  const check = () => {
    const ok = results[calls++] ?? true;
    return ok ? Promise.resolve() : Promise.reject(new Error("refused"));
  };
  return { check, calls: () => calls };
}

Deno.test("startWatchdog resolves after the given number of consecutive failures, one check per interval", async () => {
  const clock = new FakeClock();
  const s = scripted([false, true, false, false, true, false, false, false]);
  const at: number[] = [];
  await clock.run(startWatchdog(() => (at.push(clock.now()), s.check()), {
    intervalMs: 10_000,
    failures: 3,
    signal: new AbortController().signal,
    clock,
  }));
  // Failures at 1, 3-4 and 6-8: the third in a row is call 8.
  assert.equal(s.calls(), 8);
  // The first check one interval after the start, then one per interval.
  assert.deepEqual(at, [1, 2, 3, 4, 5, 6, 7, 8].map((n) => n * 10_000));
});

Deno.test("startWatchdog counts a check that throws as failed", async () => {
  const clock = new FakeClock();
  let calls = 0;
  await clock.run(startWatchdog(() => {
    calls++;
    throw new Error("connection refused");
  }, {
    intervalMs: 10_000,
    failures: 2,
    signal: new AbortController().signal,
    clock,
  }));
  assert.equal(calls, 2);
  assert.equal(clock.now(), 20_000);
});

Deno.test("startWatchdog stops checking and rejects when its signal aborts", async () => {
  const clock = new FakeClock();
  const stop = new AbortController();
  let calls = 0;
  const done = startWatchdog(() => {
    if (++calls === 2) stop.abort(new Error("app exited"));
    return Promise.resolve();
  }, { intervalMs: 10_000, failures: 1, signal: stop.signal, clock });
  await assert.rejects(clock.run(done), /app exited/);
  // No timer left behind: nothing would check again.
  assert.equal(clock.pending, 0);
  await clock.advance(60_000);
  assert.equal(calls, 2);
});

/**
 * Checks of `stepMs` each (the check itself takes that much of the fake
 * clock), one `intervalMs` apart. Returns the failures the watchdog
 * reported, how many checks ran and when it tripped.
 */
async function withFakeClock(
  results: boolean[],
  opts: {
    stepMs: number;
    intervalMs?: number;
    startPeriodMs: number;
    failures: number;
  },
): Promise<{ failures: WatchdogFailure[]; calls: number; at: number }> {
  const clock = new FakeClock();
  const s = scripted(results);
  const failures: WatchdogFailure[] = [];
  await clock.run(startWatchdog(async () => {
    await clock.advance(opts.stepMs);
    return s.check();
  }, {
    intervalMs: opts.intervalMs ?? 0,
    failures: opts.failures,
    startPeriodMs: opts.startPeriodMs,
    signal: new AbortController().signal,
    onFailure: (f) => failures.push(f),
    clock,
  }));
  return { failures, calls: s.calls(), at: clock.now() };
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
