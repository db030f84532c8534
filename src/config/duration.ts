/**
 * The longest duration accepted, in milliseconds (about 24.8 days): timers
 * and `AbortSignal.timeout` fire at once for anything longer.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * {@linkcode MAX_DURATION_MS} as a duration, rounded down to whole seconds,
 * for messages.
 */
export const MAX_DURATION_TEXT = "596h31m23s";

/**
 * Parses a duration such as `500ms`, `10s`, `2m`, `1m30s`, `1h` or a bare
 * number of seconds (`2`, `0.5`) into milliseconds. Returns `undefined` when
 * the text is not a duration, or longer than {@linkcode MAX_DURATION_MS}, so
 * callers can name the option in their error (with
 * {@linkcode durationExpectation}).
 */
export function parseDuration(text: string): number | undefined {
  const ms = parseAnyDuration(text);
  return ms !== undefined && ms <= MAX_DURATION_MS ? ms : undefined;
}

/**
 * What a duration option accepts, worded for the error about `text`: the
 * maximum when `text` is a well-formed duration that is too long, else the
 * accepted forms.
 */
export function durationExpectation(text: string): string {
  const ms = parseAnyDuration(text);
  return ms !== undefined && ms > MAX_DURATION_MS
    ? `a duration of at most ${MAX_DURATION_TEXT} (about 24.8 days)`
    : "a duration such as 500ms, 10s, 2m, 1m30s or a number of seconds";
}

/** A well-formed duration in whole milliseconds, however long; else undefined. */
function parseAnyDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return whole(Number(s) * 1000);
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
  return whole(total);
}

/** Rounds to whole milliseconds; Infinity (an absurdly long number) stays too long. */
function whole(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms) : Infinity;
}

/** Formats milliseconds the way logs show them: `2s`, `1.5s`, `250ms`. */
export function formatDuration(ms: number): string {
  // Round first, so 999.6 ms shows as 1s, not 1000ms, and 1001 ms as 1s, not 1.0s.
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  return `${Math.round(ms / 10) / 100}s`;
}
