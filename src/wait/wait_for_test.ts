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

/** A scripted check: not ready for its first `after` attempts, then ready (or failing for good). */
function scripted(
  id: string,
  after: number,
  end: "ready" | "permanent" | "never" = "ready",
) {
  const starts: number[] = [];
  const check: Check = {
    id,
    check(signal) {
      starts.push(performance.now());
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
  const a = scripted("a", 3);
  const b = scripted("b", 0);
  const results = await waitFor([a.check, b.check], {
    timeoutMs: 10_000,
    attemptTimeoutMs: 1000,
  });
  assert.deepEqual(results.map((r) => [r.id, r.state, r.attempts]), [[
    "a",
    "ready",
    4,
  ], ["b", "ready", 1]]);
});

Deno.test("waitFor never starts two attempts on one target less than 50 ms apart", async () => {
  const a = scripted("a", 6);
  await waitFor([a.check], { timeoutMs: 10_000, attemptTimeoutMs: 1000 });
  for (let i = 1; i < a.starts.length; i++) {
    // 1 ms of slack for timer rounding.
    assert.ok(
      a.starts[i] - a.starts[i - 1] >= MIN_INTERVAL_MS - 1,
      `attempts ${i - 1}-${i}`,
    );
  }
});

Deno.test("with cancelOnFailure, a permanent failure ends that target at once and cancels the others", async () => {
  const bad = scripted("bad", 1, "permanent");
  const slow = scripted("slow", 0, "never");
  const t0 = performance.now();
  const results = await waitFor([bad.check, slow.check], {
    timeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    cancelOnFailure: true,
  });
  assert.ok(performance.now() - t0 < 10_000);
  assert.equal(results[0].state, "failed");
  assert.equal(results[0].reason, "password authentication failed");
  assert.equal(results[1].state, "cancelled");
});

Deno.test("without cancelOnFailure, a permanent failure ends only that target's wait; the others go on", async () => {
  const bad = scripted("bad", 0, "permanent");
  const late = scripted("late", 4);
  const done: string[] = [];
  const results = await waitFor([bad.check, late.check], {
    timeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    onDone: (r) => done.push(`${r.id}:${r.state}`),
  });
  assert.deepEqual(results.map((r) => r.state), ["failed", "ready"]);
  // Each outcome is reported when it happens, not at the end.
  assert.deepEqual(done, ["bad:failed", "late:ready"]);
});

Deno.test("waitFor gives up after the budget with the last reason", async () => {
  const never = scripted("never", 0, "never");
  const [r] = await waitFor([never.check], {
    timeoutMs: 200,
    attemptTimeoutMs: 1000,
  });
  assert.equal(r.state, "timeout");
  assert.match(r.reason ?? "", /^not yet/);
});

Deno.test("a stop signal ends the wait by rethrowing its reason", async () => {
  const never = scripted("never", 0, "never");
  const stop = new AbortController();
  setTimeout(() => stop.abort(new SignalledError("SIGTERM", 15)), 100);
  await assert.rejects(
    waitFor([never.check], {
      timeoutMs: 30_000,
      attemptTimeoutMs: 1000,
      signal: stop.signal,
    }),
    SignalledError,
  );
});

Deno.test("an attempt that hangs is cut off by the attempt timeout and retried", async () => {
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
  const [r] = await waitFor([hang], {
    timeoutMs: 10_000,
    attemptTimeoutMs: 100,
  });
  assert.equal(r.state, "ready");
  assert.equal(r.attempts, 3);
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
  const [r] = await waitFor([flaky], {
    timeoutMs: 700,
    attemptTimeoutMs: 100,
    log,
    stillWaitingEveryMs: 250,
  });
  assert.ok(r.attempts >= 8, `only ${r.attempts} attempts`);
  const debug = lines.filter(([l]) => l === "debug").map(([, m]) => m);
  assert.deepEqual(debug, [
    "db not ready: connection refused",
    "db not ready: starting up",
  ]);
  const still = lines.filter(([l, m]) =>
    l === "info" && m.startsWith("Still waiting")
  );
  assert.ok(still.length >= 1 && still.length <= 3, JSON.stringify(lines));
});

Deno.test("waitFor never reports a negative or zero attempt limit: an attempt started after the deadline has 'no answer before the deadline'", async () => {
  // The first check holds the thread for 20 ms, so the second one's first
  // attempt starts after the 1 ms budget is spent.
  const hog: Check = {
    id: "hog",
    check() {
      const until = performance.now() + 20;
      while (performance.now() < until) { /* busy */ }
      return Promise.reject(new NotReadyError("not yet"));
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
  const results = await waitFor([hog, hang], {
    timeoutMs: 1,
    attemptTimeoutMs: 5000,
  });
  assert.equal(results[1].state, "timeout");
  assert.equal(results[1].reason, "no answer before the deadline");
});
