/**
 * One PostgreSQL shared by the rows that only need a database of their own
 * (signal rows in the lock-wait and migration phases), started on first use
 * and removed by {@linkcode disposeShared} at the end of the run.
 */
import postgres from "postgres";
import { type PgServer, startPostgres } from "../tests/_servers.ts";
import { LOCK_KEY } from "../src/migrate/migration_lock.ts";
import { newSecret } from "./secrets.ts";

/** The shared server, its superuser password and per-row databases. */
export interface SharedPostgres {
  readonly pg: PgServer;
  readonly password: string;
  /** Creates database `name` (once) and returns its login URL. */
  database(name: string): Promise<string>;
}

let shared: Promise<SharedPostgres> | undefined;
const created = new Map<string, Promise<void>>();
const holders = new Set<() => Promise<void>>();

/** The shared server, started on first call. */
export function sharedPostgres(): Promise<SharedPostgres> {
  shared ??= (async () => {
    const password = newSecret();
    const pg = await startPostgres({ auth: "scram", password });
    return {
      pg,
      password,
      async database(name: string) {
        if (!created.has(name)) {
          created.set(
            name,
            pg.psql(`create database "${name}"`).then(() => {}),
          );
        }
        await created.get(name);
        return pg.url("postgres", password, name);
      },
    };
  })();
  return shared;
}

/** A session of the harness holding preflight's migration lock. */
export interface LockHolder extends AsyncDisposable {
  /** Server PID of the holding session. */
  readonly pid: number;
  release(): Promise<void>;
}

/**
 * Takes preflight's advisory lock (LOCK_KEY) in database `url` on a reserved
 * postgres.js connection, as another replica in the middle of its migrations
 * would, and keeps it until released.
 */
export async function holdMigrationLock(url: string): Promise<LockHolder> {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: "fault matrix lock holder" },
  });
  const conn = await sql.reserve();
  await conn`select pg_advisory_lock(${LOCK_KEY[0]}::int, ${LOCK_KEY[1]}::int)`;
  const [{ pid }] = await conn`select pg_backend_pid() as pid`;
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    holders.delete(release);
    conn.release();
    await sql.end({ timeout: 1 });
  };
  holders.add(release);
  return { pid, release, [Symbol.asyncDispose]: release };
}

/** Releases every lock holder and removes the shared server. */
export async function disposeShared(): Promise<void> {
  for (const release of [...holders]) await release().catch(() => {});
  if (!shared) return;
  const s = await shared.catch(() => undefined);
  shared = undefined;
  created.clear();
  await s?.pg.cleanup();
}
