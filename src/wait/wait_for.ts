/**
 * The wait loop, separate from the checks: every target is polled
 * concurrently under one deadline, each attempt under its own timer, and
 * only changes of state (plus a periodic "still waiting") are logged.
 */
import {
  type Check,
  NotReadyError,
  PermanentError,
  reasonOf,
} from "../checks/check.ts";
import type { Log } from "../log/logger.ts";
import { formatDuration } from "../config/duration.ts";
import { pollInterval } from "./poll_schedule.ts";
import { type Clock, realClock } from "../time/clock.ts";

/** How one target's wait ended. */
export interface TargetResult {
  readonly id: string;
  /**
   * ready; failed (permanent error); timeout (budget spent while not ready);
   * cancelled (another target failed permanently).
   */
  readonly state: "ready" | "failed" | "timeout" | "cancelled";
  readonly elapsedMs: number;
  readonly attempts: number;
  /** The last reason it was not ready, or the permanent error. */
  readonly reason?: string;
}

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Total budget for all targets. */
  readonly timeoutMs: number;
  /** Limit of one attempt (capped by what is left of the budget). */
  readonly attemptTimeoutMs: number;
  /** Aborts the whole wait (SIGTERM/SIGINT); its reason is rethrown. */
  readonly signal?: AbortSignal;
  readonly log?: Log;
  /** How often "still waiting" is logged per target; Infinity: never (a live status line says it). */
  readonly stillWaitingEveryMs?: number;
  /** Called when a target's reason for not being ready changes. */
  readonly onReason?: (index: number, reason: string) => void;
  /**
   * End the whole wait when one target fails permanently (the others are
   * cancelled): right when that failure decides the outcome anyway
   * (`--on-timeout fail`). Otherwise only that target's wait ends.
   */
  readonly cancelOnFailure?: boolean;
  /** Called as soon as a target's wait ends, so its outcome is logged then. */
  readonly onDone?: (result: TargetResult, index: number) => void;
  /** The budget's, the attempts' and the polling's time (default real). */
  readonly clock?: Clock;
}

/** "12s of 60s", or "12s, no deadline" for `--timeout 0`. */
export function elapsedOfBudget(elapsedMs: number, budgetMs: number): string {
  const secs = `${Math.round(elapsedMs / 1000)}s`;
  return budgetMs === Infinity
    ? `${secs}, no deadline`
    : `${secs} of ${formatDuration(budgetMs)}`;
}

async function waitOne(
  index: number,
  check: Check,
  deadline: AbortSignal,
  cancelled: AbortSignal,
  started: number,
  endsAt: number,
  opts: WaitForOptions,
): Promise<TargetResult> {
  const log = opts.log;
  const clock = opts.clock ?? realClock;
  const every = opts.stillWaitingEveryMs ?? 5000;
  let attempts = 0;
  let reason: string | undefined;
  let nextStillWaiting = started + every;
  const result = (state: TargetResult["state"]): TargetResult => ({
    id: check.id,
    state,
    elapsedMs: clock.now() - started,
    attempts,
    reason,
  });
  while (!deadline.aborted) {
    const attemptStart = clock.now();
    attempts++;
    // Capped by what is left of the budget, which may be nothing already.
    const limit = Math.max(
      0,
      Math.min(opts.attemptTimeoutMs, endsAt - attemptStart),
    );
    const attempt = clock.timeout(limit, deadline);
    try {
      await check.check(attempt.signal);
      return result("ready");
    } catch (e) {
      // An attempt whose limit was the rest of the budget was cut by the
      // deadline, even when its own timer fired a moment before the
      // deadline's: the last attempt that answered says more than "no answer".
      const cut = deadline.aborted || limit < opts.attemptTimeoutMs;
      const why = attempt.signal.aborted && !(e instanceof PermanentError)
        ? (reason && cut
          ? reason
          : limit < opts.attemptTimeoutMs
          ? "no answer before the deadline"
          : `no answer within ${formatDuration(limit)}`)
        : reasonOf(e);
      if (e instanceof PermanentError) {
        reason = why;
        return result("failed");
      }
      if (!(e instanceof NotReadyError) && !attempt.signal.aborted) {
        // An unexpected error from a check is a bug there; keep waiting but say so.
        log?.debug(`${check.id}: unexpected error: ${why}`, {
          target: check.id,
        });
      }
      if (why !== reason) {
        log?.debug(`${check.id} not ready: ${why}`, {
          phase: "wait",
          target: check.id,
          attempt: attempts,
          reason: why,
        });
        opts.onReason?.(index, why);
      }
      reason = why;
    } finally {
      attempt.dispose();
    }
    const now = clock.now();
    if (now >= nextStillWaiting && !deadline.aborted) {
      log?.info(
        `Still waiting (${
          elapsedOfBudget(now - started, opts.timeoutMs)
        }): ${check.id}: ${reason}`,
        {
          phase: "wait",
          target: check.id,
          attempt: attempts,
          elapsed_ms: Math.round(now - started),
          reason,
        },
      );
      nextStillWaiting = now + every;
    }
    const next = attemptStart + pollInterval(now - started);
    try {
      // Checked against the clock, not left to the timer: the next attempt
      // never starts before `next` (the 20 attempts/s cap).
      for (let left = next - now; left > 0; left = next - clock.now()) {
        await clock.delay(left, deadline);
      }
    } catch {
      break;
    }
  }
  // Cancelled only when that is what ended the wait, not the deadline.
  return result(
    cancelled.aborted && deadline.reason === cancelled.reason
      ? "cancelled"
      : "timeout",
  );
}

/**
 * Waits for every check concurrently, until each is ready, has failed
 * permanently, or the budget is spent (with `cancelOnFailure`, one permanent
 * failure cancels the others). Rethrows the reason of `opts.signal`.
 */
export async function waitFor(
  checks: readonly Check[],
  opts: WaitForOptions,
): Promise<TargetResult[]> {
  const clock = opts.clock ?? realClock;
  const started = clock.now();
  const endsAt = started + opts.timeoutMs;
  const deadline = clock.timeout(opts.timeoutMs, opts.signal);
  const cancel = new AbortController();
  const signal = AbortSignal.any([deadline.signal, cancel.signal]);
  try {
    const results = await Promise.all(
      checks.map(async (c, i) => {
        const r = await waitOne(
          i,
          c,
          signal,
          cancel.signal,
          started,
          endsAt,
          opts,
        );
        opts.onDone?.(r, i);
        if (r.state === "failed" && opts.cancelOnFailure) cancel.abort();
        return r;
      }),
    );
    if (opts.signal?.aborted) throw opts.signal.reason;
    return results;
  } finally {
    deadline.dispose();
  }
}
