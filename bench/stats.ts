/**
 * Order statistics for noisy measurements: medians and spreads, never means,
 * because a shared two-core machine produces long-tailed outliers.
 */

/** Median, quartiles and range of one series. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
}

/** The q-quantile (0..1) of `values` by linear interpolation; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Summarises a series (all fields NaN when it is empty). */
export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: quantile(values, 0.5),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
  };
}

/** A number of milliseconds for a table: integer above 10, one decimal below. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return Math.abs(value) >= 10 ? value.toFixed(0) : value.toFixed(1);
}

/** "median (IQR p25..p75; min..max)" in milliseconds. */
export function spread(s: Summary): string {
  if (s.n === 0) return "n/a";
  return `${ms(s.p25)}..${ms(s.p75)}; ${ms(s.min)}..${ms(s.max)}`;
}

/**
 * The largest number of events in any half-open window [t, t + windowMs),
 * for event times in milliseconds.
 */
export function maxInWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** A copy of `items` in random order (Fisher-Yates), so that no tool always runs first. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
