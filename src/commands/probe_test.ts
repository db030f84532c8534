import assert from "node:assert/strict";
import { defaultProbeTarget, truncateBytes } from "./probe.ts";
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
