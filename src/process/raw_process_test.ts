import assert from "node:assert/strict";
import {
  argvBytes,
  entryBytes,
  environBytes,
  parseEnviron,
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
