import assert from "node:assert/strict";
import { editDistance, suggest } from "./suggest.ts";

Deno.test("editDistance counts insertions, deletions, substitutions and adjacent transpositions", () => {
  assert.equal(editDistance("timeout", "timeout"), 0);
  assert.equal(editDistance("timout", "timeout"), 1);
  assert.equal(editDistance("tiemout", "timeout"), 1);
  assert.equal(editDistance("timeoutt", "timeout"), 1);
  assert.equal(editDistance("tineout", "timeout"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

Deno.test("suggest() offers the closest word only when it is a likely typo", () => {
  const commands = ["run", "wait", "migrate", "probe", "doctor", "restart"];
  assert.equal(suggest("migrat", commands), "migrate");
  assert.equal(suggest("docter", commands), "doctor");
  assert.equal(suggest("WAIT", commands), "wait");
  assert.equal(suggest("frobnicate", commands), undefined);
  const schemes = ["tcp", "postgres", "postgresql", "redis", "rediss", "http"];
  assert.equal(suggest("postgress", schemes), "postgres");
  assert.equal(suggest("htp", schemes), "http");
  assert.equal(suggest("pg", schemes), undefined);
  assert.equal(suggest("mysql", schemes), undefined);
});
