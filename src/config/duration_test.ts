import assert from "node:assert/strict";
import fc from "fast-check";
import {
  durationExpectation,
  formatDuration,
  MAX_DURATION_MS,
  MAX_DURATION_TEXT,
  parseDuration,
} from "./duration.ts";

Deno.test("parseDuration reads each unit and their combinations in milliseconds", () => {
  const cases: [string, number][] = [
    ["500ms", 500],
    ["10s", 10_000],
    ["2m", 120_000],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["1h2m3s4ms", 3_723_004],
    ["1h30s", 3_630_000],
    ["1.5s", 1500],
    ["1.5m", 90_000],
    ["0.25h", 900_000],
    ["0s", 0],
    ["0ms", 0],
    ["007s", 7000],
    [" 10s ", 10_000],
    ["2.5ms", 3], // rounded to whole milliseconds
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration reads a bare number as seconds", () => {
  assert.equal(parseDuration("2"), 2000);
  assert.equal(parseDuration("0.5"), 500);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("60"), 60_000);
  assert.equal(parseDuration("0.0004"), 0);
});

Deno.test("parseDuration rejects what is not a duration", () => {
  const bad = [
    "",
    "   ",
    "abc",
    "-1s",
    "-1",
    "+1s",
    "1x",
    "30s1m", // units out of order
    "1s1s", // repeated unit
    "1m1m",
    "1ms1s",
    "s",
    "1.s",
    ".5s",
    "1e3",
    "1e3s",
    "10 s",
    "1m 30s",
    "1S",
    "1H",
    "1d",
    "1sec",
    "0x10",
    "1,5s",
    "Infinity",
    "NaN",
    "１s", // full-width digit
  ];
  for (const text of bad) {
    assert.equal(parseDuration(text), undefined, JSON.stringify(text));
  }
});

Deno.test("parseDuration rejects durations timers cannot hold instead of firing at once", () => {
  assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
  assert.equal(parseDuration(`${MAX_DURATION_MS + 1}ms`), undefined);
  assert.equal(parseDuration("596h"), 596 * 3_600_000);
  assert.equal(parseDuration("1000h"), undefined);
  assert.equal(parseDuration("9".repeat(400)), undefined); // Infinity as a number
  assert.equal(parseDuration(`${"9".repeat(400)}s`), undefined);
  assert.equal(parseDuration("3000000"), undefined);
});

Deno.test("formatDuration shows milliseconds below a second and seconds above", () => {
  const cases: [number, string][] = [
    [0, "0ms"],
    [250, "250ms"],
    [999.4, "999ms"],
    [999.6, "1s"],
    [1000, "1s"],
    [1001, "1s"],
    [1500, "1.5s"],
    [2000, "2s"],
    [3210, "3.21s"],
    [3214, "3.21s"],
    [32000, "32s"],
    [90_000, "90s"],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text, String(ms));
  }
});

// ---- properties ------------------------------------------------------------

const units = [["h", 3_600_000], ["m", 60_000], ["s", 1000], [
  "ms",
  1,
]] as const;

/** A valid duration: a subsequence of the units, largest first, each with an amount. */
const duration = fc.tuple(
  fc.subarray([0, 1, 2, 3], { minLength: 1 }),
  fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 4, maxLength: 4 }),
).map(([which, amounts]) => ({
  text: which.map((k) => `${amounts[k]}${units[k][0]}`).join(""),
  ms: which.reduce((sum, k) => sum + amounts[k] * units[k][1], 0),
}));

Deno.test("property: every well-formed combination of units parses to its sum", () => {
  fc.assert(fc.property(duration, ({ text, ms }) => {
    assert.equal(parseDuration(text), ms);
    assert.equal(parseDuration(` ${text}\t`), ms);
  }));
});

Deno.test("property: units out of order or repeated are rejected", () => {
  const amount = fc.integer({ min: 0, max: 100 });
  const unit = fc.integer({ min: 0, max: 3 });
  fc.assert(fc.property(amount, unit, amount, unit, (a, u1, b, u2) => {
    fc.pre(u2 <= u1); // the second unit is not smaller than the first
    const text = `${a}${units[u1][0]}${b}${units[u2][0]}`;
    assert.equal(parseDuration(text), undefined, text);
  }));
});

Deno.test("property: a bare number of seconds equals the same number with s", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2_000_000 }),
      fc.integer({ min: 0, max: 999 }),
      (int, frac) => {
        const text = frac === 0
          ? `${int}`
          : `${int}.${String(frac).padStart(3, "0")}`;
        assert.equal(parseDuration(text), parseDuration(`${text}s`));
      },
    ),
  );
});

Deno.test("property: any text gives undefined or a whole number of ms a timer can hold", () => {
  const chunk = fc.constantFrom(
    "1",
    "0",
    "9",
    ".",
    "h",
    "m",
    "s",
    "ms",
    " ",
    "-",
    "e",
    "x",
  );
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: chunk, maxLength: 12 }), fc.string()),
      (text) => {
        const ms = parseDuration(text);
        if (ms === undefined) return;
        assert.ok(
          Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_DURATION_MS,
          `${text} -> ${ms}`,
        );
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("property: formatted durations of whole seconds parse back exactly", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2_000_000 }), (s) => {
    assert.equal(parseDuration(formatDuration(s * 1000)), s * 1000);
  }));
});

Deno.test("property: formatted durations parse back within rounding to 10 ms", () => {
  // Up to 5 ms below the maximum: rounding to 10 ms could step past it.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS - 5 }), (ms) => {
      const back = parseDuration(formatDuration(ms))!;
      assert.ok(
        Math.abs(back - ms) <= 5,
        `${ms} -> ${formatDuration(ms)} -> ${back}`,
      );
    }),
  );
});

Deno.test("durationExpectation names the maximum for a duration that is too long, the accepted forms otherwise", () => {
  const max = "a duration of at most 596h31m23s (about 24.8 days)";
  assert.equal(durationExpectation("1000h"), max);
  assert.equal(durationExpectation(`${MAX_DURATION_MS + 1}ms`), max);
  assert.equal(durationExpectation("9".repeat(400)), max);
  assert.match(durationExpectation("abc"), /^a duration such as 500ms/);
  assert.match(durationExpectation("10x"), /^a duration such as 500ms/);
  // The named maximum is itself accepted.
  assert.ok(parseDuration(MAX_DURATION_TEXT)! <= MAX_DURATION_MS);
  assert.ok(parseDuration(MAX_DURATION_TEXT)! > MAX_DURATION_MS - 1000);
});
