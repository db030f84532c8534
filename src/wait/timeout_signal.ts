/** Deadlines as AbortSignals whose timers can be cleared (no leaked timers in tests). */

/** An AbortSignal that aborts after `ms` or with `parent`; `dispose` clears the timer. */
export function timeoutSignal(
  ms: number,
  parent?: AbortSignal,
): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  const onParent = () => ctl.abort(parent!.reason);
  const timer = setTimeout(
    () => ctl.abort(new DOMException("timed out", "TimeoutError")),
    Math.max(0, ms),
  );
  if (parent?.aborted) onParent();
  else parent?.addEventListener("abort", onParent, { once: true });
  return {
    signal: ctl.signal,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}
