/**
 * The hand-over shared by `run` and `wait`: replace the process image with
 * the app (the default, so the app keeps the PID and gets signals directly),
 * or supervise it as a child when asked, when a watchdog is set, or where
 * exec is impossible.
 */
import type { Options } from "../config/resolve_options.ts";
import type { Log } from "../log/logger.ts";
import { resolveCommand } from "../process/resolve_command.ts";
import {
  canExec,
  type PreparedExec,
  prepareExec,
} from "../process/exec_app.ts";
import { createCheck, parseTarget } from "../checks/mod.ts";
import { type Clock, realClock } from "../time/clock.ts";

/** What the hand-over needs besides the command. */
export interface HandOverOptions {
  readonly options: Options;
  readonly signal: AbortSignal;
  readonly log: Log;
  /** The exec of `argv` prepared before the wait (see validateHandOver). */
  readonly prepared?: PreparedExec;
  /** The watchdog's time (default real). */
  readonly clock?: Clock;
}

/**
 * Starts the app. With exec this never returns; supervised, it resolves
 * with the exit code preflight should end with.
 */
export async function handOver(
  argv: readonly string[],
  env: Record<string, string>,
  ho: HandOverOptions,
): Promise<number> {
  const { options, log } = ho;
  const clock = ho.clock ?? realClock;
  const supervise = options.supervise || options.watchdog !== undefined ||
    !canExec();
  if (!supervise) {
    // Not found (127) and not executable (126) are reported before anything.
    const exec = ho.prepared ?? prepareExec(argv, env);
    if (ho.signal.aborted) throw ho.signal.reason;
    exec.exec(env);
  }
  resolveCommand(argv[0], env);
  if (ho.signal.aborted) throw ho.signal.reason;
  // Loaded only here: the exec hand-over, the default, never needs them.
  const [{ superviseApp }, { startWatchdog }] = await Promise.all([
    import("./supervise_app.ts"),
    import("./watchdog.ts"),
  ]);
  const stopApp = new AbortController();
  let tripped = false;
  const watchdogDone = new AbortController();
  if (options.watchdog !== undefined) {
    const target = await parseTarget(options.watchdog, "--watchdog");
    const check = await createCheck(target, { httpStatus: options.httpStatus });
    startWatchdog(async () => {
      const t = clock.timeout(
        Math.min(options.watchdogInterval, 10_000),
        watchdogDone.signal,
      );
      try {
        await check.check(t.signal);
      } finally {
        t.dispose();
      }
    }, {
      intervalMs: options.watchdogInterval,
      failures: options.watchdogFailures,
      startPeriodMs: options.watchdogStartPeriod,
      signal: watchdogDone.signal,
      clock,
      onFailure: ({ error, counted, streak }) => {
        // A failure of the start period is said, but does not count.
        const why = `${(error as Error).message}${
          counted
            ? ` (${streak}/${options.watchdogFailures})`
            : " (start period: not counted)"
        }`;
        log.warn(
          `Watchdog: ${target.id} failed: ${why}`,
          { phase: "watchdog", target: target.id },
        );
      },
    }).then(() => {
      if (watchdogDone.signal.aborted) return;
      tripped = true;
      log.error(
        `✗ Watchdog: ${target.id} failed ${options.watchdogFailures} times in a row; stopping the app`,
        { phase: "watchdog", target: target.id },
      );
      stopApp.abort();
    }, () => {});
  }
  try {
    const code = await superviseApp([...argv], env, {
      stopTimeoutMs: options.stopTimeout,
      signal: stopApp.signal,
    });
    return tripped ? 1 : code;
  } finally {
    watchdogDone.abort();
  }
}
