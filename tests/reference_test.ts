/** docs/reference.md is generated from the code; it must not drift. */
import assert from "node:assert/strict";
import {
  formatMarkdown,
  REFERENCE_PATH,
  referenceText,
  targetDocs,
} from "../scripts/reference.ts";
import { OPTIONS } from "../src/cli/options.ts";
import { KINDS } from "../src/checks/mod.ts";

Deno.test("docs/reference.md is what scripts/reference.ts generates from the code (option table, commands, variables, exit codes)", async () => {
  const expected = await formatMarkdown(referenceText(await targetDocs()));
  const actual = await Deno.readTextFile(REFERENCE_PATH);
  assert.ok(
    actual === expected,
    "docs/reference.md is stale: run `deno run -A scripts/reference.ts --write`",
  );
});

Deno.test("the generated reference has a row for every option and its variable, and every kind of target", async () => {
  const text = referenceText(await targetDocs());
  for (const [schemes] of KINDS) {
    for (const s of schemes) assert.ok(text.includes(`${s}://`), `${s}://`);
  }
  for (const o of OPTIONS) {
    if (o.name === "help") continue;
    assert.ok(text.includes(`--${o.name}`), `--${o.name} missing`);
  }
  assert.ok(text.includes("`PREFLIGHT_NO_DB`"));
  assert.ok(text.includes("| 124 |"));
});
