/**
 * Sleeping that an AbortSignal can cut short. Built on `AbortSignal.timeout`,
 * not `setTimeout`: in this Deno the first `setTimeout` of a process costs
 * about 12 ms, which would make the second attempt of a wait that late. The
 * timer keeps the process alive while it is waited for (Deno refs an
 * `AbortSignal.timeout` timer while it has "abort" listeners), not after.
 */

/**
 * Resolves after `ms`, never sooner (a fraction of a millisecond rounds up),
 * or rejects early when `signal` aborts.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = AbortSignal.timeout(Math.max(0, Math.ceil(ms)));
    const onTimer = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      timer.removeEventListener("abort", onTimer);
      reject(signal!.reason);
    };
    timer.addEventListener("abort", onTimer, { once: true });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
