import assert from "node:assert/strict";
import { startWatchdog } from "./watchdog.ts";

Deno.test("startWatchdog resolves after the given number of consecutive failures", async () => {
  const results = [false, true, false, false, true, false, false, false, true];
  let calls = 0;
  await startWatchdog(() => Promise.resolve(results[calls++] ?? true), {
    intervalMs: 1,
    failures: 3,
    // A bound: a watchdog that never trips fails the test instead of hanging it.
    signal: AbortSignal.timeout(5000),
  });
  // Failures at 1, 3-4 and 6-8: the third in a row is call 8.
  assert.equal(calls, 8);
});

Deno.test("startWatchdog counts a check that throws as failed", async () => {
  let calls = 0;
  await startWatchdog(() => {
    calls++;
    return Promise.reject(new Error("connection refused"));
  }, { intervalMs: 1, failures: 2, signal: AbortSignal.timeout(5000) });
  assert.equal(calls, 2);
});

Deno.test("startWatchdog stops checking and rejects when its signal aborts", async () => {
  const stop = new AbortController();
  let calls = 0;
  const done = startWatchdog(() => {
    if (++calls === 2) stop.abort(new Error("app exited"));
    return Promise.resolve(true);
  }, { intervalMs: 1, failures: 1, signal: stop.signal });
  await assert.rejects(done, /app exited/);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 2);
});
