import { bodyFields } from "./http_report.ts";

function assertEquals<T>(actual: T, expected: T): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`expected ${e}, got ${a}`);
}

Deno.test("bodyFields lists a health body's fields, nested ones with dots", () => {
  assertEquals(
    bodyFields({
      status: "degraded",
      checks: { database: "ok", redis: "error: refused" },
      revision: null,
      workers: [1, 2],
    }),
    [
      "status=degraded",
      "checks.database=ok",
      "checks.redis=error: refused",
      "revision=null",
      "workers=[2 items]",
    ],
  );
  assertEquals(bodyFields(null), ["body=null"]);
  assertEquals(bodyFields({ a: 1 }, 0), []);
});
