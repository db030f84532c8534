/**
 * The migration retry schedule (SPEC "run" step 2): the delay before attempt
 * n+1 is `base × 2^(n-1)`, capped at `max`, so the defaults (6 attempts, 2 s,
 * 64 s) give 2, 4, 8, 16, 32 s — the old script's schedule.
 */

/**
 * The delay in milliseconds before attempt `n + 1`, for `n >= 1` (after the
 * n-th failure). Never Infinity or NaN, however large `n` is.
 */
export function backoffDelay(n: number, baseMs: number, maxMs: number): number {
  checkArgs(baseMs, maxMs);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`backoffDelay: n must be an integer >= 1, got ${n}`);
  }
  if (baseMs === 0 || maxMs === 0) return 0;
  // 2^1100 is Infinity; stop doubling once the cap is reached instead.
  let d = baseMs;
  for (let k = 1; k < n && d < maxMs; k++) d *= 2;
  return Math.min(d, maxMs);
}

/**
 * The delays before attempts 2..`attempts`: `attempts - 1` values, each the
 * previous doubled, starting at `baseMs`, capped at `maxMs`. One attempt (or
 * none) means no delay.
 */
export function backoffDelays(
  attempts: number,
  baseMs: number,
  maxMs: number,
): number[] {
  checkArgs(baseMs, maxMs);
  if (!Number.isInteger(attempts) || attempts < 0) {
    throw new RangeError(
      `backoffDelays: attempts must be an integer >= 0, got ${attempts}`,
    );
  }
  const out: number[] = [];
  let d = Math.min(baseMs, maxMs);
  for (let n = 1; n < attempts; n++) {
    out.push(d);
    d = Math.min(d * 2, maxMs);
  }
  return out;
}

function checkArgs(baseMs: number, maxMs: number): void {
  for (const [name, v] of [["baseMs", baseMs], ["maxMs", maxMs]] as const) {
    if (!Number.isFinite(v) || v < 0) {
      throw new RangeError(
        `backoff: ${name} must be a finite number >= 0, got ${v}`,
      );
    }
  }
}
