/** One step of a doctor check, bounded by the per-check timeout. */
import { raceAbort } from "../checks/connect.ts";
import { reasonOf } from "../checks/check.ts";
import { formatDuration } from "../config/duration.ts";
import { scrub } from "../redact.ts";
import { timeoutSignal } from "../time/timeout_signal.ts";
import { since } from "./check_line.ts";

/**
 * Runs `fn` under its own deadline, also when `fn` ignores the signal, and
 * returns its value, or the reason it failed (secrets scrubbed), with the
 * time taken.
 */
export async function boundedStep<T>(
  timeoutMs: number,
  signal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
  where: string,
): Promise<{ ms: number; value?: T; error?: string }> {
  const t0 = performance.now();
  const deadline = timeoutSignal(timeoutMs, signal);
  try {
    const value = await raceAbort(fn(deadline.signal), deadline.signal);
    return { ms: since(t0), value };
  } catch (e) {
    const timedOut = deadline.signal.aborted && !signal.aborted;
    return {
      ms: since(t0),
      error: timedOut
        ? `no answer from ${where} within ${formatDuration(timeoutMs)}`
        : scrub(reasonOf(e)),
    };
  } finally {
    deadline.dispose();
  }
}
