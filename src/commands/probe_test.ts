import assert from "node:assert/strict";
import { defaultProbeTarget, jsonLine, truncateBytes } from "./probe.ts";
import { ConfigError } from "../errors.ts";

Deno.test("truncateBytes keeps a line under the byte limit without splitting a character", () => {
  assert.equal(truncateBytes("short", 4000), "short");
  const long = "é".repeat(3000); // 6000 bytes
  const cut = truncateBytes(long, 4000);
  assert.ok(new TextEncoder().encode(cut).length <= 4000);
  assert.ok(cut.endsWith("..."));
  assert.ok(!cut.includes("\uFFFD"));
});

Deno.test("the default probe target follows PORT, empty meaning 8000, and rejects a bad PORT naming it", () => {
  assert.equal(defaultProbeTarget({}), "http://127.0.0.1:8000/health");
  assert.equal(
    defaultProbeTarget({ PORT: "" }),
    "http://127.0.0.1:8000/health",
  );
  assert.equal(
    defaultProbeTarget({ PORT: "9000" }),
    "http://127.0.0.1:9000/health",
  );
  assert.throws(
    () => defaultProbeTarget({ PORT: "abc" }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /^Invalid PORT 'abc'/.test((e as Error).message),
  );
});

Deno.test("jsonLine keeps the object under the limit when escaping makes its fields grow", () => {
  // Each control character takes 6 bytes once escaped.
  const r = {
    target: `http://h/${"\u0001".repeat(3000)}`,
    ok: false,
    ms: 12,
    reason: `bad: ${"\u0002".repeat(3000)}`,
  };
  const line = jsonLine(r, 4000);
  assert.ok(new TextEncoder().encode(line).length <= 4000, `${line.length}`);
  const o = JSON.parse(line);
  assert.deepEqual([o.ok, o.ms], [false, 12]);
  assert.ok(o.target.startsWith("http://h/"));
  assert.ok(o.reason.startsWith("bad: "));
  // Short results are left alone.
  const small = { target: "tcp://a:1", ok: true, ms: 1 };
  assert.equal(jsonLine(small, 4000), JSON.stringify(small));
});
