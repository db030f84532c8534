import assert from "node:assert/strict";
import fc from "fast-check";
import { backoffDelay, backoffDelays } from "./backoff.ts";

Deno.test("backoff defaults give the old script's 2, 4, 8, 16, 32 s", () => {
  assert.deepEqual(backoffDelays(6, 2000, 64000), [
    2000,
    4000,
    8000,
    16000,
    32000,
  ]);
});

Deno.test("backoff is capped at the maximum delay", () => {
  assert.deepEqual(backoffDelays(8, 2000, 10000), [
    2000,
    4000,
    8000,
    10000,
    10000,
    10000,
    10000,
  ]);
  assert.deepEqual(backoffDelays(4, 5000, 1000), [1000, 1000, 1000]);
});

Deno.test("backoff with one attempt or none has no delay", () => {
  assert.deepEqual(backoffDelays(1, 2000, 64000), []);
  assert.deepEqual(backoffDelays(0, 2000, 64000), []);
});

Deno.test("backoff with a zero base never waits", () => {
  assert.deepEqual(backoffDelays(4, 0, 64000), [0, 0, 0]);
  assert.equal(backoffDelay(5000, 0, 64000), 0);
  assert.deepEqual(backoffDelays(3, 2000, 0), [0, 0]);
});

Deno.test("backoff stays finite for huge attempt numbers", () => {
  const delays = backoffDelays(3000, 2000, 64000);
  assert.equal(delays.length, 2999);
  assert.ok(
    delays.every((d) => d === Math.min(d, 64000) && Number.isFinite(d)),
  );
  assert.equal(delays.at(-1), 64000);
  assert.equal(backoffDelay(1e9, 2000, 64000), 64000);
  assert.equal(
    backoffDelay(2000, Number.MAX_VALUE, Number.MAX_VALUE),
    Number.MAX_VALUE,
  );
});

Deno.test("backoffDelay agrees with the schedule", () => {
  assert.equal(backoffDelay(1, 2000, 64000), 2000);
  assert.equal(backoffDelay(5, 2000, 64000), 32000);
  assert.equal(backoffDelay(6, 2000, 64000), 64000);
  assert.equal(backoffDelay(7, 2000, 64000), 64000);
});

Deno.test("backoff rejects nonsense arguments with a RangeError", () => {
  assert.throws(() => backoffDelays(1.5, 2000, 64000), RangeError);
  assert.throws(() => backoffDelays(-1, 2000, 64000), RangeError);
  assert.throws(() => backoffDelays(3, NaN, 64000), RangeError);
  assert.throws(() => backoffDelays(3, -1, 64000), RangeError);
  assert.throws(() => backoffDelays(3, 2000, Infinity), RangeError);
  assert.throws(() => backoffDelay(0, 2000, 64000), RangeError);
});

const attempts = fc.integer({ min: 0, max: 300 });
// Durations reach here as whole milliseconds (parseDuration rounds), up to huge.
const ms = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }),
  fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER, 1e300, Number.MAX_VALUE),
);

Deno.test("property: backoff schedule has attempts-1 finite, capped, non-decreasing delays", () => {
  fc.assert(fc.property(attempts, ms, ms, (n, base, max) => {
    const d = backoffDelays(n, base, max);
    assert.equal(d.length, Math.max(0, n - 1));
    for (let k = 0; k < d.length; k++) {
      assert.ok(Number.isFinite(d[k]) && d[k] >= 0);
      assert.ok(d[k] <= max);
      if (k > 0) assert.ok(d[k] >= d[k - 1]);
      assert.equal(d[k], backoffDelay(k + 1, base, max));
    }
    if (d.length > 0) assert.equal(d[0], Math.min(base, max));
    const total = d.reduce((a, b) => a + b, 0);
    // Relative slack only for float rounding of sums near 1e300.
    assert.ok(total <= Math.max(0, n - 1) * max * (1 + 1e-12));
  }));
});

Deno.test("property: each uncapped delay doubles the previous one", () => {
  fc.assert(
    fc.property(
      attempts,
      fc.integer({ min: 1, max: 100_000 }),
      fc.integer({ min: 1, max: 1e9 }),
      (n, base, max) => {
        const d = backoffDelays(n, base, max);
        for (let k = 1; k < d.length; k++) {
          assert.equal(d[k], Math.min(d[k - 1] * 2, max));
          assert.equal(d[k], Math.min(base * 2 ** k, max));
        }
      },
    ),
  );
});
