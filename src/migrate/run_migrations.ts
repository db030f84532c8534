/**
 * The migration retries, with the old script's markers: up to N attempts,
 * the delay doubling from `--migrate-delay` up to `--migrate-max-delay`.
 */
import type { Log } from "../log/logger.ts";
import { backoffDelays } from "./backoff.ts";
import { runChild } from "./run_child.ts";
import { formatDuration } from "../config/duration.ts";
import { createCheck, type Target } from "../checks/mod.ts";
import { type Clock, realClock } from "../time/clock.ts";

/** Time limit of the readiness check after a failed attempt. */
const READY_CHECK_MS = 5000;

/**
 * Failed attempts in a row, each followed by the database answering ready,
 * after which a failure is taken as deterministic and not retried.
 */
const DETERMINISTIC_AFTER = 2;

/** Settings of {@linkcode runMigrations}. */
export interface MigrationRun {
  readonly argv: readonly string[];
  /** The marker name, e.g. "Alembic". */
  readonly name: string;
  readonly env: Record<string, string>;
  readonly attempts: number;
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly stopTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly log: Log;
  /** The delays' time (default real). */
  readonly clock?: Clock;
  /**
   * Runs before each attempt: the migration lock is checked, and taken again
   * if lost. A reason means the attempt fails without running.
   */
  readonly beforeAttempt?: () => Promise<string | undefined>;
  /**
   * The database (as the wait step checks it), asked after each failed
   * attempt: when it answered ready after {@linkcode DETERMINISTIC_AFTER}
   * failures in a row, the failure is not transient (no alembic.ini, a
   * broken revision) and the remaining attempts are skipped. Undefined (no
   * database, `--no-db`): the whole schedule runs.
   */
  readonly database?: Target;
}

/** How the migration step ended. */
export interface MigrationOutcome {
  readonly ok: boolean;
  readonly attempts: number;
  readonly lastExitCode?: number;
}

/** Runs the migration command until it succeeds or the attempts run out. */
export async function runMigrations(
  m: MigrationRun,
): Promise<MigrationOutcome> {
  const delays = backoffDelays(m.attempts, m.delayMs, m.maxDelayMs);
  const clock = m.clock ?? realClock;
  const ready = m.database ? await readinessOf(m.database, clock) : undefined;
  let code: number | undefined;
  // Failed attempts in a row after which the database answered ready.
  let withDatabaseReady = 0;
  for (let n = 1; n <= m.attempts; n++) {
    const blocked = await m.beforeAttempt?.();
    m.log.info(`${m.name} attempt ${n}/${m.attempts}...`, {
      phase: "migrate",
      attempt: n,
    });
    if (blocked !== undefined) {
      // Never migrate without the lock once it was lost: fail this attempt.
      m.log.warn(
        `✗ ${m.name} not run: cannot take the migration lock: ${blocked}.`,
        { phase: "migrate", attempt: n, reason: blocked },
      );
      withDatabaseReady = 0;
    } else {
      code = await runChild(m.argv, m.env, {
        signal: m.signal,
        stopTimeoutMs: m.stopTimeoutMs,
        onLeftovers: () =>
          m.log.warn(
            `⚠️ ${m.name} left processes running in its process group; stopping them`,
            { phase: "migrate", attempt: n },
          ),
      });
      if (code === 0) return { ok: true, attempts: n, lastExitCode: 0 };
      m.log.warn(`✗ ${m.name} exited with code ${code}.`, {
        phase: "migrate",
        attempt: n,
        exit_code: code,
        reason: `exited with code ${code}`,
      });
      // Asked only when another attempt would follow.
      withDatabaseReady = n < m.attempts && ready && await ready(m.signal)
        ? withDatabaseReady + 1
        : 0;
      if (withDatabaseReady >= DETERMINISTIC_AFTER) {
        const left = m.attempts - n;
        m.log.warn(
          `✗ ${m.name} failed twice in a row while the database was ready: the error is not transient (see its output above, e.g. no alembic.ini or a broken revision); skipping the remaining ${left} ${
            left === 1 ? "attempt" : "attempts"
          }.`,
          {
            phase: "migrate",
            attempt: n,
            exit_code: code,
            reason: "failed while the database was ready",
          },
        );
        return { ok: false, attempts: n, lastExitCode: code };
      }
    }
    if (n < m.attempts) {
      const d = delays[n - 1];
      m.log.info(`Retrying in ${formatDuration(d)}...`, {
        phase: "migrate",
        attempt: n,
        delay_ms: d,
      });
      await clock.delay(d, m.signal);
    }
  }
  return { ok: false, attempts: m.attempts, lastExitCode: code };
}

/**
 * Whether the database answers ready now, as the wait step would judge it,
 * within {@linkcode READY_CHECK_MS}; rethrows a stop signal.
 */
async function readinessOf(
  database: Target,
  clock: Clock,
): Promise<(signal: AbortSignal) => Promise<boolean>> {
  const check = await createCheck(database, {});
  return async (signal) => {
    const attempt = clock.timeout(READY_CHECK_MS, signal);
    try {
      await check.check(attempt.signal);
      return true;
    } catch {
      if (signal.aborted) throw signal.reason;
      return false;
    } finally {
      attempt.dispose();
    }
  };
}
