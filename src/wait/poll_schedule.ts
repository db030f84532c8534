/**
 * How often a target is polled. Fast at first (a dependency that becomes
 * ready is noticed within 50 ms), never more than 20 attempts per second per
 * target, and slower after the first 10 s so a long outage costs little.
 */

/** Shortest time between the starts of two attempts on one target. */
export const MIN_INTERVAL_MS = 50;
/** Longest time between the starts of two attempts on one target. */
export const MAX_INTERVAL_MS = 500;
const FAST_PHASE_MS = 10_000;

/** Interval before the next attempt, given the time since the wait began. */
export function pollInterval(elapsedMs: number): number {
  if (!(elapsedMs > FAST_PHASE_MS)) return MIN_INTERVAL_MS;
  // +50 ms per further 5 s, up to the maximum.
  const grown = MIN_INTERVAL_MS + ((elapsedMs - FAST_PHASE_MS) / 5000) * 50;
  return Math.min(MAX_INTERVAL_MS, Math.round(grown));
}
