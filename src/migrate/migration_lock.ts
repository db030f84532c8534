/**
 * The cross-replica migration lock: a session-level PostgreSQL advisory lock
 * held on one dedicated connection for the whole migration step, so that
 * replicas starting together migrate one at a time. The server releases it
 * when that connection ends, so a crash cannot leave it held; for the same
 * reason a database restart drops it. {@linkcode MigrationLock.ensure} runs
 * before every attempt: it takes the lock (again), waits for another holder,
 * and tells when the database cannot be reached, so that attempt fails
 * without running and the retry schedule goes on, as without a lock.
 */
import { pgAddress, type PostgresTarget } from "../checks/postgres_url.ts";
import type { Log } from "../log/logger.ts";
import { type Clock, realClock } from "../time/clock.ts";
import { hideSecrets } from "../checks/check.ts";
import { connectPostgres } from "../checks/postgres_session.ts";
import {
  classifyLoginError,
  LoginRefusedError,
} from "../checks/postgres_errors.ts";

/** The two-int advisory lock key: 'pref' and 0. */
export const LOCK_KEY: readonly [number, number] = [0x70726566, 0];

/** Who holds the lock, from pg_stat_activity. */
export interface LockHolder {
  readonly pid: number;
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly since: Date | null;
}

/** The lock of one migration step. */
export interface MigrationLock {
  /**
   * Before each attempt. Resolves to `undefined` when the attempt may run:
   * the lock is held (taken now, or still held), or the database refused
   * these credentials for good and the step runs unlocked (said once in a
   * warning). Resolves to a reason when the database cannot be reached: the
   * attempt then fails without running. Throws LockTimeoutError when
   * another session holds the lock past the deadline.
   */
  ensure(): Promise<string | undefined>;
  /** Unlocks and closes the connection. */
  release(): Promise<void>;
}

/** The lock could not be taken before the deadline. */
export class LockTimeoutError extends Error {
  override name = "LockTimeoutError";
}

/** Options of {@linkcode migrationLock}. */
export interface LockOptions {
  /**
   * When waiting for the lock ends, on `clock`: the startup's `--timeout`
   * budget, shared with the wait step.
   */
  readonly deadlineAt: number;
  readonly signal: AbortSignal;
  readonly log: Log;
  /** The deadline's and the polling's time (default real). */
  readonly clock?: Clock;
}

type Sql = import("postgres").Sql;

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

/** Creates the lock of a migration step; nothing connects before the first {@linkcode MigrationLock.ensure}. */
export function migrationLock(
  target: PostgresTarget,
  opts: LockOptions,
): MigrationLock {
  const where = pgAddress(target);
  const clock = opts.clock ?? realClock;
  let sql: Sql | undefined;
  let unlocked = false;
  let heldBefore = false;
  const close = async () => {
    const s = sql;
    sql = undefined;
    await s?.end({ timeout: 0 }).catch(() => {});
  };

  // Takes the lock, waiting while another session holds it. A connection
  // error ends it at once with the reason: the attempt fails, the schedule
  // retries.
  const take = async (): Promise<"held" | "refused" | string> => {
    const left = () => opts.deadlineAt - clock.now();
    const started = clock.now();
    let announced = false;
    let lastReport = 0;
    while (true) {
      if (opts.signal.aborted) throw opts.signal.reason;
      try {
        if (!sql) {
          // The server libpq would pick (host list, sslmode fallbacks,
          // target_session_attrs), on a session kept for the whole step.
          const session = await connectPostgres(
            target,
            AbortSignal.any([opts.signal, AbortSignal.timeout(15_000)]),
            {
              applicationName:
                `preflight migrate ${safeHostname()} pid ${Deno.pid}`,
              extra: { idle_timeout: 0, max_lifetime: null },
            },
          );
          sql = session.sql;
        }
        const [{ locked }] = await withTimeout(
          sql`select pg_try_advisory_lock(${LOCK_KEY[0]}::int, ${
            LOCK_KEY[1]
          }::int) as locked`,
          10_000,
        );
        if (locked) {
          opts.log.debug("Took the migration lock", { phase: "migrate" });
          return "held";
        }
        const now = clock.now();
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
          throw new LockTimeoutError("another replica is still migrating");
        }
        await clock.delay(Math.min(200, Math.max(0, left())), opts.signal);
      } catch (e) {
        if (e instanceof LockTimeoutError || opts.signal.aborted) throw e;
        await close();
        // The checks' classifier: the same reasons, worded the same way.
        const failure = hideSecrets(
          classifyLoginError(e, where),
          target.password,
        );
        if (failure instanceof LoginRefusedError) {
          opts.log.warn(
            `⚠️ Cannot take the migration lock: ${failure.message}; migrating without it`,
            { phase: "migrate" },
          );
          return "refused";
        }
        return failure.message;
      }
    }
  };

  return {
    async ensure() {
      if (unlocked) return undefined;
      if (sql) {
        const stillHeld = await withTimeout(
          sql`select exists(
                select 1 from pg_locks
                 where locktype = 'advisory' and granted and pid = pg_backend_pid()
                   and classid = ${LOCK_KEY[0]}::int::oid and objid = ${
            LOCK_KEY[1]
          }::int::oid
                   and objsubid = 2) as held`,
          5000,
        ).then(([r]) => r.held === true, () => false);
        if (stillHeld) return undefined;
      }
      if (heldBefore) {
        opts.log.warn(
          "⚠️ Lost the migration lock (its database session ended); taking it again...",
          { phase: "migrate" },
        );
      }
      await close();
      const outcome = await take();
      if (outcome === "held") {
        heldBefore = true;
        return undefined;
      }
      if (outcome === "refused") {
        unlocked = true;
        return undefined;
      }
      return outcome;
    },
    async release() {
      if (!sql) return;
      await withTimeout(
        sql`select pg_advisory_unlock(${LOCK_KEY[0]}::int, ${
          LOCK_KEY[1]
        }::int)`,
        5000,
      ).catch(() => {/* closing the session releases it anyway */});
      await close();
    },
  };
}
