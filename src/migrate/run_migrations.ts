/**
 * The migration retries, with the old script's markers: up to N attempts,
 * the delay doubling from `--migrate-delay` up to `--migrate-max-delay`.
 */
import type { Log } from "../log/logger.ts";
import { backoffDelays } from "./backoff.ts";
import { runChild } from "./run_child.ts";
import { delay } from "../wait/delay.ts";
import { formatDuration } from "../config/duration.ts";

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
  /**
   * Runs before each attempt: the migration lock is checked, and taken again
   * if lost. A reason means the attempt fails without running.
   */
  readonly beforeAttempt?: () => Promise<string | undefined>;
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
  let code: number | undefined;
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
        { phase: "migrate", attempt: n },
      );
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
      });
    }
    if (n < m.attempts) {
      const d = delays[n - 1];
      m.log.info(`Retrying in ${formatDuration(d)}...`, {
        phase: "migrate",
        attempt: n,
        delay_ms: d,
      });
      await delay(d, m.signal);
    }
  }
  return { ok: false, attempts: m.attempts, lastExitCode: code };
}
