/**
 * The demo's database connection, configured the way the backend example is:
 * `DB_HOST`/`DB_PORT` and `POSTGRES_USER`/`POSTGRES_PASSWORD`/`POSTGRES_DB`
 * (the variables preflight reads too), so the migration and the app need no
 * settings of their own.
 */
import postgres from "postgres";

/** The table the demo migration creates and the app counts. */
export const TABLE = "demo_items";

/** A postgres.js client for the demo database (one connection, no TLS: PGlite has none). */
export function connectDb(): postgres.Sql {
  const env = Deno.env.toObject();
  return postgres({
    host: env.DB_HOST || "127.0.0.1",
    port: Number(env.DB_PORT || "5432"),
    user: env.POSTGRES_USER || "postgres",
    password: env.POSTGRES_PASSWORD || "postgres",
    database: env.POSTGRES_DB || "postgres",
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
}

/**
 * Settles `p` within `ms` or rejects: postgres.js can hang past its own
 * connect_timeout when the peer is not PostgreSQL, so every use is bounded.
 */
export function within<T>(
  p: PromiseLike<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: no answer within ${ms / 1000}s`)),
        ms,
      );
    }),
  ]);
}
