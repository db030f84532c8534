/**
 * Usage: deno run -A examples/demo/migrate.ts
 *
 * The demo's migration (run by `preflight run` as MIGRATE_CMD): creates the
 * `demo_items` table and its first row when absent, so running it twice is
 * harmless, as a migration tool's `upgrade head` is. Exit 0 when the schema
 * is current, 1 otherwise (preflight then retries with backoff).
 */
import { connectDb, TABLE, within } from "./db.ts";

const sql = connectDb();
try {
  const rows = await within(
    sql.begin(async (tx) => {
      await tx.unsafe(
        `create table if not exists ${TABLE} (
           id serial primary key,
           name text not null unique,
           created_at timestamptz not null default now()
         )`,
      );
      await tx.unsafe(
        `insert into ${TABLE} (name) values ($1) on conflict (name) do nothing`,
        ["hello from the demo migration"],
      );
      const [{ n }] = await tx.unsafe(
        `select count(*)::int as n from ${TABLE}`,
      );
      return n as number;
    }),
    15_000,
    "Migration",
  );
  console.log(`[migrate] Table ${TABLE} is current (${rows} row(s))`);
} catch (e) {
  console.error(`[migrate] Failed: ${(e as Error).message}`);
  Deno.exitCode = 1;
} finally {
  await sql.end({ timeout: 1 }).catch(() => {});
}
