/**
 * The watchdog of a supervised app: Docker and Compose never restart a
 * container that is merely "unhealthy", so preflight stops the app itself
 * after repeated failed checks and the restart policy takes over.
 */

/** How often to check and when to give up. */
export interface WatchdogOptions {
  /** Time between the end of one check and the start of the next. */
  readonly intervalMs: number;
  /** Consecutive failed checks that trip the watchdog. */
  readonly failures: number;
  /** Ends the watchdog; the returned promise then rejects with its reason. */
  readonly signal: AbortSignal;
}

/**
 * Calls `check` every `intervalMs` (the first time after one interval, to
 * let the app start) and resolves once `failures` consecutive checks failed.
 * A check that throws counts as failed; a passing check resets the count.
 * The check bounds its own duration.
 */
export function startWatchdog(
  check: () => Promise<boolean>,
  opts: WatchdogOptions,
): Promise<void> {
  const { signal } = opts;
  return new Promise<void>((resolve, reject) => {
    let failed = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const tick = async () => {
      const ok = await check().catch(() => false);
      if (signal.aborted) return;
      failed = ok ? 0 : failed + 1;
      if (failed >= Math.max(1, opts.failures)) {
        signal.removeEventListener("abort", onAbort);
        return resolve();
      }
      timer = setTimeout(tick, opts.intervalMs);
    };
    timer = setTimeout(tick, opts.intervalMs);
  });
}
