/**
 * Runs one child to completion with inherited stdio. When `signal` aborts
 * (preflight got SIGTERM/SIGINT/SIGHUP), the child gets the same signal, then
 * SIGKILL after the stop timeout; the abort reason is then rethrown.
 */
import { SignalledError } from "../errors.ts";
import { spawnChild } from "../handover/spawn_child.ts";

/** Runs `argv` and resolves with its exit code (128+N when killed by signal N). */
export async function runChild(
  argv: readonly string[],
  env: Record<string, string>,
  opts: { signal: AbortSignal; stopTimeoutMs: number },
): Promise<number> {
  if (opts.signal.aborted) throw opts.signal.reason;
  const child = spawnChild(argv, env);
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    const reason = opts.signal.reason;
    const sig: Deno.Signal = reason instanceof SignalledError
      ? reason.signal
      : "SIGTERM";
    try {
      child.kill(sig);
    } catch { /* already gone */ }
    killTimer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, opts.stopTimeoutMs);
  };
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const status = await child.status;
    if (opts.signal.aborted) throw opts.signal.reason;
    // Deno reports 128+N for a child killed by signal N, as a shell does.
    return status.code;
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
  }
}
