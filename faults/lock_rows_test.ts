/**
 * The fault rows that caught the migration lock being lost on a database
 * restart, run as tests so the suite guards the fix (the whole matrix is
 * `deno task faults`).
 */
import assert from "node:assert/strict";
import { runRow } from "./fault_row.ts";
import { migrationRows } from "./rows_migrate.ts";

for (
  const id of [
    "mig-db-restart-lock",
    "mig-db-stopped-gone",
    "mig-db-stopped-back",
  ]
) {
  Deno.test(`fault row ${id} matches the contract`, async () => {
    const row = migrationRows().find((r) => r.id === id);
    assert.ok(row, id);
    const result = await runRow(row);
    assert.ok(
      result.pass,
      `${id}: ${
        JSON.stringify(result.observation?.checks ?? result, null, 1)
      }\n${result.observation?.log ?? result.error ?? ""}`,
    );
  });
}
