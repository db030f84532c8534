/**
 * The watchdog of a supervised app: Docker and Compose never restart a
 * container that is merely "unhealthy", so preflight stops the app itself
 * after repeated failed checks and the restart policy takes over.
 */
import { type Clock, realClock } from "../time/clock.ts";

/** A failed check, as the watchdog judged it. */
export interface WatchdogFailure {
  /** What the check threw. */
  readonly error: unknown;
  /**
   * False during the start period (no check has passed yet, and the check
   * began less than `startPeriodMs` after the watchdog started).
   */
  readonly counted: boolean;
  /** Consecutive counted failures so far, this one included. */
  readonly streak: number;
}

/** How often to check and when to give up. */
export interface WatchdogOptions {
  /** Time between the end of one check and the start of the next. */
  readonly intervalMs: number;
  /** Consecutive failed checks that trip the watchdog. */
  readonly failures: number;
  /**
   * As Docker's `start_period`: until the first check passes, failures of
   * checks begun within this time from the start do not count. Default 0.
   */
  readonly startPeriodMs?: number;
  /** Ends the watchdog; the returned promise then rejects with its reason. */
  readonly signal: AbortSignal;
  /** Called after each failed check, e.g. to log it. */
  readonly onFailure?: (failure: WatchdogFailure) => void;
  /** The intervals' and the start period's time (default real). */
  readonly clock?: Clock;
}

/**
 * Calls `check` every `intervalMs` (the first time after one interval, to
 * let the app start) and resolves once `failures` consecutive checks failed
 * (rejected), not counting those of the start period. A passing check
 * resets the count and ends the start period. The check bounds its own
 * duration.
 */
export async function startWatchdog(
  check: () => Promise<void>,
  opts: WatchdogOptions,
): Promise<void> {
  const { signal } = opts;
  const clock = opts.clock ?? realClock;
  const startedAt = clock.now();
  let streak = 0;
  let passed = false;
  while (true) {
    // Rejects with the signal's reason when it aborts.
    await clock.delay(opts.intervalMs, signal);
    const began = clock.now();
    let error: unknown;
    // A check that throws at once fails like one that rejects.
    const ok = await Promise.resolve().then(check).then(() => true, (e) => {
      error = e;
      return false;
    });
    if (signal.aborted) throw signal.reason;
    if (ok) {
      passed = true;
      streak = 0;
      continue;
    }
    // Docker judges by when the check began (health.go).
    const counted = passed || began - startedAt >= (opts.startPeriodMs ?? 0);
    if (counted) streak++;
    opts.onFailure?.({ error, counted, streak });
    if (streak >= Math.max(1, opts.failures)) return;
  }
}
