/**
 * The wait step shared by `run` and `wait`: build the checks, wait, and log
 * one outcome line per target. The caller decides what a timeout means.
 */
import { createCheck, serverUrlFor, type Target } from "../checks/mod.ts";
import type { Options } from "../config/resolve_options.ts";
import { formatDuration } from "../config/duration.ts";
import type { Log } from "../log/logger.ts";
import type { StatusLine } from "../log/status_line.ts";
import { elapsedOfBudget, type TargetResult, waitFor } from "./wait_for.ts";
import type { Clock } from "../time/clock.ts";
import { NotReadyInTimeError, TargetFailedError } from "../errors.ts";

/** The outcome of the wait step. */
export interface WaitOutcome {
  readonly ready: boolean;
  readonly results: readonly TargetResult[];
  readonly elapsedMs: number;
}

/**
 * The error that ends a wait under `--on-timeout fail`: a permanent failure
 * (exit 1, with the server's reason) wins over a timeout (exit 124, only
 * transient failures seen). `what` names the targets: "Dependencies" (run)
 * or "Targets" (wait).
 */
export function waitFailure(
  outcome: WaitOutcome,
  what: string,
): TargetFailedError | NotReadyInTimeError {
  const failed = outcome.results.filter((r) => r.state === "failed");
  if (failed.length > 0) {
    return new TargetFailedError(
      `${what} failed: ${failed.map((r) => r.id).join(", ")}`,
      failed.map((r) => `${r.id}: ${r.reason}`).join("; "),
    );
  }
  return new NotReadyInTimeError(
    `${what} not ready in time: ${
      outcome.results.filter((r) => r.state !== "ready").map((r) => r.id)
        .join(", ")
    }`,
  );
}

/** Logs how one target's wait ended, as soon as it ends. */
function logResult(r: TargetResult, log: Log): void {
  const fields = {
    phase: "wait",
    target: r.id,
    attempt: r.attempts,
    elapsed_ms: Math.round(r.elapsedMs),
  };
  const after = formatDuration(r.elapsedMs);
  if (r.state === "ready") {
    log.info(
      `✓ ${r.id} is ready (${after}, ${r.attempts} ${
        r.attempts === 1 ? "attempt" : "attempts"
      })`,
      fields,
    );
  } else if (r.state === "failed") {
    log.error(`✗ ${r.id}: ${r.reason}`, { ...fields, reason: r.reason });
  } else if (r.state === "timeout") {
    const reason = r.reason ?? "no answer";
    log.warn(`✗ ${r.id} not ready after ${after}: ${reason}`, {
      ...fields,
      reason,
    });
  } else {
    log.warn(`✗ ${r.id}: gave up, another target failed`, fields);
  }
}

/** What a step of a command works with, from the command's context. */
export interface StepContext {
  /** A stop signal (SIGTERM...): the step rethrows its reason. */
  readonly signal: AbortSignal;
  readonly log: Log;
  readonly clock: Clock;
  /** The live status line of a terminal, when there is one. */
  readonly status?: StatusLine;
}

/**
 * Waits for the targets under the options' budget; rethrows a stop signal.
 * `onReady(i)` is called as soon as target `i` is ready.
 */
export async function waitStep(
  targets: readonly Target[],
  options: Options,
  step: StepContext,
  onReady?: (index: number) => void,
): Promise<WaitOutcome> {
  const { signal, log, clock, status } = step;
  const started = clock.now();
  for (const t of targets) {
    const better = await serverUrlFor(t);
    if (better) {
      log.info(
        `${t.url} is checked as ${t.id} (the port only); ${better} waits until the server itself is ready`,
        { phase: "wait", target: t.id },
      );
    }
  }
  const checks = await Promise.all(
    targets.map((t) => createCheck(t, { httpStatus: options.httpStatus })),
  );
  // On a terminal, a live line says what is awaited and why, instead of
  // periodic "Still waiting" lines.
  const live = status !== undefined && status.enabled && targets.length > 0;
  const reasons = new Map<number, string>();
  const pending = new Set(targets.keys());
  const draw = () => {
    const first = [...pending][0];
    if (first === undefined) return;
    const more = pending.size > 1 ? ` (+${pending.size - 1} more)` : "";
    const why = reasons.get(first);
    status?.show(
      `[${elapsedOfBudget(clock.now() - started, options.timeout)}] ` +
        `waiting for ${targets[first].id}${why ? `: ${why}` : ""}${more}`,
    );
  };
  const ticker = live ? setInterval(draw, 250) : undefined;
  try {
    const results = await waitFor(checks, {
      timeoutMs: options.timeout,
      attemptTimeoutMs: options.attemptTimeout,
      signal,
      log,
      clock,
      cancelOnFailure: options.onTimeout === "fail",
      stillWaitingEveryMs: live ? Infinity : undefined,
      onReason: (i, why) => reasons.set(i, why),
      onDone: (r, i) => {
        pending.delete(i);
        // Stopped by a signal: main.ts says so, once.
        if (signal.aborted) return;
        logResult(r, log);
        if (r.state === "ready") onReady?.(i);
      },
    });
    return finish(results);
  } finally {
    // Not without a ticker: the first call into the timers costs several ms.
    if (ticker !== undefined) clearInterval(ticker);
    status?.clear();
  }

  function finish(results: TargetResult[]): WaitOutcome {
    return {
      ready: results.every((r) => r.state === "ready"),
      results,
      elapsedMs: clock.now() - started,
    };
  }
}
