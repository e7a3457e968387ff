/**
 * The one percentile and median of the project (the server's tick stats and every bench), so that a "p99" means
 * the same thing in /metrics, the admin view and BENCHMARKS.md.
 *
 * Percentile: nearest rank, no interpolation — the sample at 0-based index floor(p/100 · n) of the ascending
 * order, clamped to the last, so it is always a value that was measured. This is what every figure before the
 * consolidation used (the five copies all computed `sorted[min(n - 1, floor(p · n))]`). It sits one sample above
 * the textbook nearest rank (index ceil(p · n) - 1) when p · n is whole: p99 of 100 samples is the largest, p50
 * of an even count the upper middle one, p100 the maximum.
 *
 * Median: the middle sample, or the mean of the two middle samples for an even count (what the hosting and load
 * figures, whose counts are numbers of games, used; the 5-run medians are odd counts, where both agree).
 *
 * Both return NaN for no samples, so an empty measurement cannot pass for zero.
 */

/** Nearest-rank percentile (`p` in 0..100) of samples already in ascending order; no copy, no sort. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor((p / 100) * sorted.length)))]!;
}

/** Nearest-rank percentile (`p` in 0..100) of samples in any order; `values` is not modified. */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(ascending(values), p);
}

/** Median of samples in any order: the mean of the two middle ones for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = ascending(values);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}
