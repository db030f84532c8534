/**
 * The cross-replica migration lock: a session-level PostgreSQL advisory lock
 * held on one dedicated connection for the whole migration step, so that
 * replicas starting together migrate one at a time. The server releases it
 * when that connection ends, so a crash cannot leave it held; for the same
 * reason a database restart drops it, and {@linkcode HeldLock.ensure} takes
 * it again before each attempt.
 */
import type { Target } from "../checks/target.ts";
import type { Log } from "../log/logger.ts";
import { delay } from "../wait/delay.ts";
import { scrub } from "../config/redact.ts";
import { postgresJsOptions } from "../checks/postgres_options.ts";

/** The two-int advisory lock key: 'pref' and 0. */
export const LOCK_KEY: readonly [number, number] = [0x70726566, 0];

/** Who holds the lock, from pg_stat_activity. */
export interface LockHolder {
  readonly pid: number;
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly since: Date | null;
}

/** A held lock. */
export interface HeldLock {
  /**
   * Makes sure this session still holds the lock (a database restart ends
   * the session and frees it), taking it again, and waiting for another
   * holder, when it does not. Resolves to `undefined` when held, or to the
   * reason the database cannot be reached (the attempt then fails without
   * running: never unlocked). Throws LockTimeoutError past the deadline.
   */
  ensure(): Promise<string | undefined>;
  /** Unlocks and closes the connection. */
  release(): Promise<void>;
}

/** The lock could not be taken before the deadline. */
export class LockTimeoutError extends Error {
  override name = "LockTimeoutError";
}

/** Options of {@linkcode acquireMigrationLock}. */
export interface LockOptions {
  /**
   * When waiting for the lock ends, on the `performance.now()` clock: the
   * startup's `--timeout` budget, shared with the wait step.
   */
  readonly deadlineAt: number;
  readonly signal: AbortSignal;
  readonly log: Log;
}

type Sql = import("postgres").Sql;

const PERMANENT = new Set(["28P01", "28000", "3D000", "42501"]);

function describe(h: LockHolder): string {
  const since = h.since ? ` since ${h.since.toISOString()}` : "";
  const from = h.clientAddr ? ` from ${h.clientAddr}` : "";
  return `pid ${h.pid} (${h.applicationName || "unnamed"}${from}${since})`;
}

function safeHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown-host";
  }
}

/** postgres.js can hang when the peer is not Postgres: bound every query. */
function withTimeout<T>(p: PromiseLike<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${Math.round(ms / 1000)}s`)),
        ms,
      );
    }),
  ]);
}

async function holderOf(sql: Sql): Promise<string> {
  const rows = await withTimeout(
    sql`select a.pid, a.application_name, a.client_addr::text as client_addr, a.backend_start
          from pg_locks l join pg_stat_activity a on a.pid = l.pid
         where l.locktype = 'advisory' and l.granted
           and l.classid = ${LOCK_KEY[0]}::int::oid and l.objid = ${
      LOCK_KEY[1]
    }::int::oid and l.objsubid = 2
           and l.database = (select oid from pg_database where datname = current_database())`,
    5000,
  ).catch(() => []);
  return rows.length > 0
    ? describe({
      pid: rows[0].pid,
      applicationName: rows[0].application_name,
      clientAddr: rows[0].client_addr,
      since: rows[0].backend_start,
    })
    : "another session";
}

/**
 * Takes the lock, waiting while another session holds it, until
 * `deadlineAt` passes (LockTimeoutError) or `signal` aborts (rethrown); at
 * least one attempt is made, even when the budget is already spent.
 * Resolves to `undefined` when the database refuses these credentials for
 * good; the caller then migrates without the lock and says so.
 */
export async function acquireMigrationLock(
  target: Target,
  opts: LockOptions,
): Promise<HeldLock | undefined> {
  const { default: postgres } = await import("postgres");
  const connectOptions = postgresJsOptions(target);
  let sql: Sql | undefined;
  const close = async () => {
    const s = sql;
    sql = undefined;
    await s?.end({ timeout: 0 }).catch(() => {});
  };

  // One loop for the first time and for taking it again after a restart.
  // `once`: give up at the first connection error (the database is down)
  // instead of retrying until the deadline.
  const take = async (once = false): Promise<"held" | "refused" | string> => {
    const started = performance.now();
    const left = () => opts.deadlineAt - performance.now();
    let announced = false;
    let lastReport = 0;
    let lastError = "";
    while (true) {
      if (opts.signal.aborted) throw opts.signal.reason;
      try {
        // A fresh client after a connection error: postgres.js would
        // otherwise retry a dead peer on its own schedule.
        sql ??= postgres({
          ...connectOptions,
          max: 1,
          idle_timeout: 0,
          max_lifetime: null,
          connect_timeout: Math.max(
            1,
            Math.ceil(Math.min(5000, left()) / 1000),
          ),
          connection: {
            application_name:
              `preflight migrate ${safeHostname()} pid ${Deno.pid}`,
          },
          onnotice: () => {},
        });
        const [{ locked }] = await withTimeout(
          sql`select pg_try_advisory_lock(${LOCK_KEY[0]}::int, ${
            LOCK_KEY[1]
          }::int) as locked`,
          Math.max(1000, Math.min(10_000, left())),
        );
        if (locked) {
          opts.log.debug("Took the migration lock", { phase: "migrate" });
          return "held";
        }
        const now = performance.now();
        if (!announced || now - lastReport > 5000) {
          opts.log.info(
            `${
              announced ? "Still waiting" : "Waiting"
            } for the migration lock held by ${await holderOf(sql)}...`,
            { phase: "migrate", elapsed_ms: Math.round(now - started) },
          );
          announced = true;
          lastReport = now;
        }
        if (left() <= 0) {
          throw new LockTimeoutError(
            "Could not take the migration lock in time: another replica is still migrating",
          );
        }
        await delay(Math.min(200, Math.max(0, left())), opts.signal);
      } catch (e) {
        if (e instanceof LockTimeoutError || opts.signal.aborted) throw e;
        await close();
        const code = (e as { code?: string }).code ?? "";
        const msg = scrub((e as Error).message ?? String(e));
        if (PERMANENT.has(code)) {
          opts.log.warn(
            `⚠️ Cannot take the migration lock: ${msg}; migrating without it`,
            { phase: "migrate" },
          );
          return "refused";
        }
        if (once) return msg;
        if (msg !== lastError) {
          opts.log.debug(`Migration lock: ${msg}; retrying`, {
            phase: "migrate",
          });
          lastError = msg;
        }
        if (left() <= 0) {
          throw new LockTimeoutError(
            `Could not take the migration lock in time: ${msg}`,
          );
        }
        await delay(Math.min(500, Math.max(0, left())), opts.signal);
      }
    }
  };

  try {
    if (await take() === "refused") return undefined;
  } catch (e) {
    await close();
    throw e;
  }
  return {
    async ensure() {
      const stillHeld = sql
        ? await withTimeout(
          sql`select exists(
                select 1 from pg_locks
                 where locktype = 'advisory' and granted and pid = pg_backend_pid()
                   and classid = ${LOCK_KEY[0]}::int::oid and objid = ${
            LOCK_KEY[1]
          }::int::oid
                   and objsubid = 2) as held`,
          5000,
        ).then(([r]) => r.held === true, () => false)
        : false;
      if (stillHeld) return undefined;
      opts.log.warn(
        "⚠️ Lost the migration lock (its database session ended); taking it again...",
        { phase: "migrate" },
      );
      await close();
      const outcome = await take(true);
      if (outcome === "held") return undefined;
      return outcome === "refused" ? "the database refused the login" : outcome;
    },
    async release() {
      if (!sql) return;
      await withTimeout(
        sql`select pg_advisory_unlock(${LOCK_KEY[0]}::int, ${
          LOCK_KEY[1]
        }::int)`,
        5000,
      ).catch(() => {/* closing the session releases it anyway */});
      await sql.end({ timeout: 1 }).catch(() => {});
      sql = undefined;
    },
  };
}
