import assert from "node:assert/strict";
import { helpText } from "./help.ts";

Deno.test("help run opens with what run does by default and the switch that turns off each part", () => {
  const text = helpText("run");
  const [usage, blank, first] = text.split("\n");
  assert.match(usage, /^Usage: preflight \[run\]/);
  assert.equal(blank, "");
  assert.match(first, /^By default, run does three things/);
  const opening = text.slice(0, text.indexOf("Options:"));
  for (
    const words of [
      "Waits up to 60s",
      "PGHOST:PGPORT",
      "--no-wait [PREFLIGHT_NO_WAIT]",
      "--no-db [PREFLIGHT_NO_DB]",
      "'alembic upgrade head'",
      "up to 6",
      "--no-migrate [PREFLIGHT_NO_MIGRATE]",
      "MIGRATE_CMD=''",
      "--no-migrate-lock",
      "Hands over to the app by exec",
      "--supervise",
    ]
  ) {
    assert.ok(opening.includes(words), `'${words}' missing from:\n${opening}`);
  }
});
