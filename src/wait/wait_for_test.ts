import assert from "node:assert/strict";
import fc from "fast-check";
import { waitFor } from "./wait_for.ts";
import {
  MAX_INTERVAL_MS,
  MIN_INTERVAL_MS,
  pollInterval,
} from "./poll_schedule.ts";
import { type Check, NotReadyError, PermanentError } from "../checks/check.ts";
import { SignalledError } from "../errors.ts";
import { FakeClock } from "../../tests/_fake_clock.ts";

/**
 * A scripted check: not ready for its first `after` attempts, then ready
 * (or failing for good). Records when each attempt started, on `clock`.
 */
function scripted(
  clock: FakeClock,
  id: string,
  after: number,
  end: "ready" | "permanent" | "never" = "ready",
) {
  const starts: number[] = [];
  const check: Check = {
    id,
    check(signal) {
      starts.push(clock.now());
      if (signal.aborted) return Promise.reject(new NotReadyError("aborted"));
      if (starts.length <= after || end === "never") {
        return Promise.reject(new NotReadyError(`not yet (${starts.length})`));
      }
      if (end === "permanent") {
        return Promise.reject(
          new PermanentError("password authentication failed"),
        );
      }
      return Promise.resolve();
    },
  };
  return { check, starts };
}

Deno.test("waitFor polls each target until ready and reports attempts", async () => {
  const clock = new FakeClock();
  const a = scripted(clock, "a", 3);
  const b = scripted(clock, "b", 0);
  const results = await clock.run(waitFor([a.check, b.check], {
    timeoutMs: 10_000,
    attemptTimeoutMs: 1000,
    clock,
  }));
  assert.deepEqual(results.map((r) => [r.id, r.state, r.attempts]), [[
    "a",
    "ready",
    4,
  ], ["b", "ready", 1]]);
  // Ready at the fourth attempt, three intervals after the first.
  assert.equal(results[0].elapsedMs, 3 * MIN_INTERVAL_MS);
});

Deno.test("waitFor polls every 50 ms for 10 s, then slower: never two attempts on one target less than 50 ms apart", async () => {
  const clock = new FakeClock();
  const never = scripted(clock, "never", 0, "never");
  await clock.run(waitFor([never.check], {
    timeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    clock,
  }));
  const gaps = never.starts.slice(1).map((t, i) => t - never.starts[i]);
  assert.ok(gaps.every((g) => g >= MIN_INTERVAL_MS), `gaps ${gaps}`);
  // The first 10 s at 50 ms: 200 attempts, then growing gaps.
  assert.ok(gaps.slice(0, 200).every((g) => g === MIN_INTERVAL_MS));
  assert.deepEqual(gaps.slice(-3), [
    pollInterval(never.starts.at(-4)!),
    pollInterval(never.starts.at(-3)!),
    pollInterval(never.starts.at(-2)!),
  ]);
  assert.ok(gaps.at(-1)! > MIN_INTERVAL_MS);
});

Deno.test("with cancelOnFailure, a permanent failure ends that target at once and cancels the others", async () => {
  const clock = new FakeClock();
  const bad = scripted(clock, "bad", 1, "permanent");
  const slow = scripted(clock, "slow", 0, "never");
  const results = await clock.run(waitFor([bad.check, slow.check], {
    timeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    cancelOnFailure: true,
    clock,
  }));
  assert.equal(results[0].state, "failed");
  assert.equal(results[0].reason, "password authentication failed");
  assert.equal(results[1].state, "cancelled");
  // At the second attempt, not at the deadline.
  assert.equal(clock.now(), MIN_INTERVAL_MS);
});

Deno.test("without cancelOnFailure, a permanent failure ends only that target's wait; the others go on", async () => {
  const clock = new FakeClock();
  const bad = scripted(clock, "bad", 0, "permanent");
  const late = scripted(clock, "late", 4);
  const done: string[] = [];
  const results = await clock.run(waitFor([bad.check, late.check], {
    timeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    onDone: (r) => done.push(`${r.id}:${r.state}`),
    clock,
  }));
  assert.deepEqual(results.map((r) => r.state), ["failed", "ready"]);
  // Each outcome is reported when it happens, not at the end.
  assert.deepEqual(done, ["bad:failed", "late:ready"]);
});

Deno.test("waitFor gives up at the deadline, not before and not after, with the last reason", async () => {
  const clock = new FakeClock();
  const never = scripted(clock, "never", 0, "never");
  const [r] = await clock.run(waitFor([never.check], {
    timeoutMs: 60_000,
    attemptTimeoutMs: 1000,
    clock,
  }));
  assert.equal(r.state, "timeout");
  assert.match(r.reason ?? "", /^not yet/);
  assert.equal(r.elapsedMs, 60_000);
  assert.ok(never.starts.at(-1)! < 60_000);
});

Deno.test("a stop signal ends the wait by rethrowing its reason", async () => {
  const clock = new FakeClock();
  const never = scripted(clock, "never", 0, "never");
  const stop = new AbortController();
  const waiting = waitFor([never.check], {
    timeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    signal: stop.signal,
    clock,
  });
  await clock.advance(1000);
  stop.abort(new SignalledError("SIGTERM", 15));
  await assert.rejects(clock.run(waiting), SignalledError);
  assert.equal(clock.now(), 1000);
});

Deno.test("an attempt that hangs is cut off by the attempt timeout and retried", async () => {
  const clock = new FakeClock();
  let calls = 0;
  const hang: Check = {
    id: "hang",
    check(signal) {
      calls++;
      if (calls >= 3) return Promise.resolve();
      return new Promise((_, reject) =>
        signal.addEventListener(
          "abort",
          () => reject(new NotReadyError("aborted")),
        )
      );
    },
  };
  const [r] = await clock.run(waitFor([hang], {
    timeoutMs: 10_000,
    attemptTimeoutMs: 100,
    clock,
  }));
  assert.equal(r.state, "ready");
  assert.equal(r.attempts, 3);
  // Two attempts cut off after 100 ms each; the next starts right away.
  assert.equal(r.elapsedMs, 200);
});

Deno.test("property: the poll interval is between 50 and 500 ms and never shrinks as time passes", () => {
  fc.assert(
    fc.property(
      fc.float({ min: 0, max: 1e7, noNaN: true }),
      fc.float({ min: 0, max: 1e6, noNaN: true }),
      (t, dt) => {
        const a = pollInterval(t);
        const b = pollInterval(t + dt);
        assert.ok(a >= MIN_INTERVAL_MS && a <= MAX_INTERVAL_MS);
        assert.ok(b >= a);
      },
    ),
  );
});

Deno.test("only changes of state and a periodic 'Still waiting' are logged, not every attempt", async () => {
  const clock = new FakeClock();
  const lines: [string, string][] = [];
  const log = {
    debug: (m: string) => lines.push(["debug", m]),
    info: (m: string) => lines.push(["info", m]),
    warn: (m: string) => lines.push(["warn", m]),
    error: (m: string) => lines.push(["error", m]),
  };
  let n = 0;
  const flaky: Check = {
    id: "db",
    // The same reason over and over, then another one.
    check: () =>
      Promise.reject(
        new NotReadyError(++n < 5 ? "connection refused" : "starting up"),
      ),
  };
  const [r] = await clock.run(waitFor([flaky], {
    timeoutMs: 700,
    attemptTimeoutMs: 100,
    log,
    stillWaitingEveryMs: 250,
    clock,
  }));
  // An attempt every 50 ms for 700 ms.
  assert.equal(r.attempts, 14);
  const debug = lines.filter(([l]) => l === "debug").map(([, m]) => m);
  assert.deepEqual(debug, [
    "db not ready: connection refused",
    "db not ready: starting up",
  ]);
  const still = lines.filter(([l, m]) =>
    l === "info" && m.startsWith("Still waiting")
  ).map(([, m]) => m);
  // After the attempts at 250 and 500 ms.
  assert.deepEqual(still, [
    "Still waiting (0s of 700ms): db: starting up",
    "Still waiting (1s of 700ms): db: starting up",
  ]);
});

Deno.test("waitFor never reports a negative or zero attempt limit: an attempt started after the deadline has 'no answer before the deadline'", async () => {
  // The first check takes 20 ms of the clock before it answers, so the
  // second one's first attempt starts after the 1 ms budget is spent.
  const clock = new FakeClock();
  const hog: Check = {
    id: "hog",
    async check() {
      await clock.advance(20);
      throw new NotReadyError("not yet");
    },
  };
  const hang: Check = {
    id: "hang",
    check: (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener(
          "abort",
          () => reject(new NotReadyError("aborted")),
          { once: true },
        )
      ),
  };
  const results = await clock.run(waitFor([hog, hang], {
    timeoutMs: 1,
    attemptTimeoutMs: 5000,
    clock,
  }));
  assert.equal(results[1].state, "timeout");
  assert.equal(results[1].reason, "no answer before the deadline");
});

Deno.test("an attempt cut short by the deadline keeps the last reason an attempt gave (a slow login to a standby says 'is a standby', not 'no answer')", async () => {
  const clock = new FakeClock();
  let attempts = 0;
  const slow: Check = {
    id: "standby",
    check(signal) {
      attempts++;
      // Every attempt answers after 700 ms: the one under way at the
      // deadline is cut short by it.
      return new Promise((_, reject) => {
        const answer = clock.timeout(700, signal);
        answer.signal.addEventListener("abort", () => {
          answer.dispose();
          reject(
            signal.aborted
              ? new NotReadyError("aborted")
              : new NotReadyError("127.0.0.1:5432 is a standby"),
          );
        }, { once: true });
      });
    },
  };
  // Real timers may fire the attempt's limit (the rest of the budget) a
  // moment before the overall deadline: this clock's first timeout, the
  // deadline, fires 1 ms late to show that order.
  let first = true;
  const racing = {
    now: () => clock.now(),
    delay: (ms: number, s?: AbortSignal) => clock.delay(ms, s),
    timeout(ms: number, parent?: AbortSignal) {
      const late = first ? 1 : 0;
      first = false;
      return clock.timeout(ms + late, parent);
    },
  };
  const [r] = await clock.run(waitFor([slow], {
    timeoutMs: 1000,
    attemptTimeoutMs: 5000,
    clock: racing,
  }));
  assert.equal(r.state, "timeout");
  assert.ok(attempts >= 2, `${attempts} attempts`);
  assert.equal(r.reason, "127.0.0.1:5432 is a standby");
});
