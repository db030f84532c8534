/**
 * The longest duration accepted, in milliseconds (about 24.8 days): timers
 * and `AbortSignal.timeout` fire at once for anything longer.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Parses a duration such as `500ms`, `10s`, `2m`, `1m30s`, `1h` or a bare
 * number of seconds (`2`, `0.5`) into milliseconds. Returns `undefined` when
 * the text is not a duration, or longer than {@linkcode MAX_DURATION_MS}, so
 * callers can name the option in their error.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return inRange(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;
  let total = 0;
  let pos = 0;
  let lastRank = Infinity;
  const rank: Record<string, number> = { h: 3, m: 2, s: 1, ms: 0 };
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    const unit = m[2];
    // Units must appear once each, largest first: "1m30s", not "30s1m".
    if (rank[unit] >= lastRank) return undefined;
    lastRank = rank[unit];
    const n = Number(m[1]);
    total += unit === "h"
      ? n * 3_600_000
      : unit === "m"
      ? n * 60_000
      : unit === "s"
      ? n * 1000
      : n;
    pos = re.lastIndex;
  }
  return inRange(total);
}

function inRange(ms: number): number | undefined {
  const rounded = Math.round(ms);
  return Number.isFinite(rounded) && rounded <= MAX_DURATION_MS
    ? rounded
    : undefined;
}

/** Formats milliseconds the way logs show them: `2s`, `1.5s`, `250ms`. */
export function formatDuration(ms: number): string {
  // Round first, so 999.6 ms shows as 1s, not 1000ms, and 1001 ms as 1s, not 1.0s.
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  return `${Math.round(ms / 10) / 100}s`;
}
