/** The README's configuration table is generated from the option table; they must not drift. */
import assert from "node:assert/strict";
import {
  optionsTable,
  readmeTable,
  tableCells,
} from "../scripts/options_table.ts";

Deno.test("the README's configuration table matches the option table in src/cli/options.ts", () => {
  const readme = Deno.readTextFileSync(
    new URL("../README.md", import.meta.url),
  );
  assert.deepEqual(
    tableCells(readmeTable(readme)),
    tableCells(optionsTable()),
    "README.md is out of date: run `deno run -A scripts/options_table.ts --write && deno fmt README.md`",
  );
});

Deno.test("the README pins the Deno version that CI installs and shows the test command", () => {
  const readme = Deno.readTextFileSync(
    new URL("../README.md", import.meta.url),
  );
  const install = Deno.readTextFileSync(
    new URL("../scripts/install-deps.sh", import.meta.url),
  );
  const pinned = /DENO_VERSION=(\S+)/.exec(install)?.[1];
  assert.ok(pinned);
  assert.ok(readme.includes(`npm install -g deno@${pinned}`));
  assert.ok(readme.includes("deno task test"));
});
