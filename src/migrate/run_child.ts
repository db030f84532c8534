/**
 * Runs the migration command to completion with inherited stdio, in a
 * process group of its own, so that a wrapper (`sh migrate.sh`, `make
 * migrate`, `npm run migrate`) and the migrator it starts are one unit:
 * stop signals go to the whole group, and the step ends only when every
 * process of the group has exited, so the lock is never released while a
 * migrator still runs. When `signal` aborts (preflight got a stop signal),
 * the group gets the same signal, then SIGKILL after the stop timeout; the
 * abort reason is then rethrown.
 */
import { SignalledError } from "../errors.ts";
import { spawnChild } from "../process/spawn_child.ts";

/** How {@linkcode runChild} runs and stops the command. */
export interface RunChildOptions {
  readonly signal: AbortSignal;
  readonly stopTimeoutMs: number;
  /**
   * Called when the command exited but left processes running in its group;
   * they are then stopped as on a stop signal (SIGTERM, SIGKILL after the
   * stop timeout), since the next step must not run beside them.
   */
  readonly onLeftovers?: () => void;
}

/** Runs `argv` and resolves with its exit code (128+N when killed by signal N). */
export async function runChild(
  argv: readonly string[],
  env: Record<string, string>,
  opts: RunChildOptions,
): Promise<number> {
  if (opts.signal.aborted) throw opts.signal.reason;
  const child = spawnChild(argv, env, { processGroup: true });
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  // Signal the group; the first stop also arms SIGKILL for it.
  const stop = (sig: Deno.Signal) => {
    child.kill(sig);
    killTimer ??= setTimeout(() => child.kill("SIGKILL"), opts.stopTimeoutMs);
  };
  const onAbort = () => {
    const reason = opts.signal.reason;
    stop(reason instanceof SignalledError ? reason.signal : "SIGTERM");
  };
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const code = await child.status;
    if (!opts.signal.aborted && child.groupAlive()) {
      opts.onLeftovers?.();
      stop("SIGTERM");
    }
    await child.allExited();
    if (opts.signal.aborted) throw opts.signal.reason;
    return code;
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
  }
}
