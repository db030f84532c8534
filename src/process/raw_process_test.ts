import assert from "node:assert/strict";
import fc from "fast-check";
import {
  argvBytes,
  entryBytes,
  environBytes,
  parseEnviron,
  parseEnvironBlock,
  splitNul,
} from "./raw_process.ts";

const enc = new TextEncoder();
const b = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...enc.encode(p)] : p),
  );

Deno.test("splitNul splits a /proc block on NULs, keeping empty strings", () => {
  assert.deepEqual(
    splitNul(b("a", [0], "", [0], "bc", [0])).map((x) => [...x]),
    [[0x61], [], [0x62, 0x63]],
  );
  assert.deepEqual(splitNul(b("tail")).map((x) => [...x]), [[...b("tail")]]);
});

Deno.test("parseEnviron gives a lossy view and keeps the bytes of the entries that are not UTF-8", () => {
  const latin = b("LATIN=caf", [0xe9]);
  const name = b("N", [0xff], "AME=x");
  const env = parseEnviron([
    b("PATH=/bin"),
    latin,
    name,
    b("PATH=/second"), // the first of a name wins, as with getenv
    b("NOEQUALS"),
    b("=empty-name"),
  ]);
  assert.deepEqual(env.view, {
    PATH: "/bin",
    LATIN: "caf\uFFFD",
    "N\uFFFDAME": "x",
  });
  assert.deepEqual([...env.raw.keys()], ["LATIN=caf\uFFFD", "N\uFFFDAME=x"]);
  assert.deepEqual([...env.raw.get("LATIN=caf\uFFFD")!], [...latin]);
});

Deno.test("entryBytes and environBytes encode UTF-8, and a value that only looks lossy stays as given", () => {
  assert.deepEqual([...entryBytes("A", "é")], [...enc.encode("A=é")]);
  // Not an inherited entry: U+FFFD is encoded as itself.
  assert.deepEqual(
    [...entryBytes("Z_NOT_INHERITED", "\uFFFD")],
    [...enc.encode("Z_NOT_INHERITED=\uFFFD")],
  );
  assert.deepEqual(
    environBytes({ A: "1", B: "2" }).map((x) => new TextDecoder().decode(x)),
    ["A=1", "B=2"],
  );
});

Deno.test("argvBytes encodes words that are not the end of the command line as UTF-8", () => {
  assert.deepEqual(
    argvBytes(["alembic", "upgrade", "\uFFFD"]).map((x) => [...x]),
    [[...enc.encode("alembic")], [...enc.encode("upgrade")], [
      ...enc.encode("\uFFFD"),
    ]],
  );
});

Deno.test("property: parseEnvironBlock reads a block as parseEnviron reads its entries, UTF-8 or not", () => {
  // Entries NAME=VALUE, with repeated names, an '=' in values, entries
  // without '=' or without a name, and now and then a byte that is not UTF-8.
  const entry = fc.record({
    name: fc.constantFrom("A", "PATH", "é", "", "B_1"),
    eq: fc.boolean(),
    value: fc.string({ maxLength: 6 }).filter((t) => !t.includes("\0")),
    raw: fc.oneof(
      { weight: 4, arbitrary: fc.constant([] as number[]) },
      fc.array(fc.constantFrom(0xff, 0xc3, 0x80), {
        minLength: 1,
        maxLength: 2,
      }),
    ),
  }).map((e) => b(e.name, e.eq ? "=" : "", e.value, e.raw));
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
      const block = new Uint8Array(
        entries.flatMap((e) => [...e, 0]),
      );
      const want = parseEnviron(splitNul(block));
      const got = parseEnvironBlock(block);
      assert.deepEqual(got.view, want.view);
      assert.deepEqual(
        [...got.raw].map(([k, v]) => [k, [...v]]),
        [...want.raw].map(([k, v]) => [k, [...v]]),
      );
    }),
    { numRuns: 500 },
  );
});
