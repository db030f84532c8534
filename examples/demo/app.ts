/**
 * Usage: PORT=8000 deno run -A examples/demo/app.ts
 *
 * The demo's application (what `preflight run` hands over to): a tiny HTTP
 * server whose `/health` reports how the start went (`PREFLIGHT_WAIT`,
 * `PREFLIGHT_MIGRATIONS`, set by preflight) and the row count of the table
 * the migration created. So that `deno task demo` ends by itself, it stops
 * after two `/health` requests, 3 s after the first one, or after 30 s
 * without any.
 */
import { connectDb, TABLE, within } from "./db.ts";

const MAX_REQUESTS = 2;
const LINGER_MS = 3_000;
const IDLE_MS = 30_000;

const port = Number(Deno.env.get("PORT") || "8000");
const wait = Deno.env.get("PREFLIGHT_WAIT") ?? "unset";
const migrations = Deno.env.get("PREFLIGHT_MIGRATIONS") ?? "unset";
const sql = connectDb();
const stop = Promise.withResolvers<string>();
let served = 0;
let lingerTimer: ReturnType<typeof setTimeout> | undefined;

async function health(): Promise<Response> {
  try {
    const [{ n }] = await within(
      sql.unsafe(`select count(*)::int as n from ${TABLE}`),
      5_000,
      "Row count",
    );
    // A degraded start (dependencies timed out, migrations failed) is
    // reported, not hidden: the app is up, but says how it came up.
    const status = wait === "ready" && migrations === "applied"
      ? "ok"
      : "degraded";
    return Response.json({ status, wait, migrations, [TABLE]: n });
  } catch (e) {
    return Response.json(
      { status: "error", wait, migrations, error: (e as Error).message },
      { status: 503 },
    );
  }
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ hostname, port }) =>
    console.log(
      `[app] Listening on http://${hostname}:${port}/health ` +
        `(PREFLIGHT_WAIT=${wait}, PREFLIGHT_MIGRATIONS=${migrations})`,
    ),
}, async (req) => {
  if (new URL(req.url).pathname !== "/health") {
    return new Response("Not found\n", { status: 404 });
  }
  const res = await health();
  served++;
  if (served >= MAX_REQUESTS) stop.resolve(`served ${served} requests`);
  lingerTimer ??= setTimeout(
    () => stop.resolve(`${LINGER_MS / 1000}s after the first request`),
    LINGER_MS,
  );
  return res;
});

const idleTimer = setTimeout(
  () => stop.resolve(`no request within ${IDLE_MS / 1000}s`),
  IDLE_MS,
);
const reason = await stop.promise;
clearTimeout(idleTimer);
clearTimeout(lingerTimer);
// shutdown() lets the response in flight finish before the server closes.
await server.shutdown();
await sql.end({ timeout: 1 }).catch(() => {});
console.log(`[app] Stopping: ${reason}`);
