/**
 * Upper edges (ms) of the buckets a heartbeat counts tick lateness and work in (TickDurations.counts has one
 * more, past the last edge), so a reader can add heartbeats up and take a percentile over any window: at the
 * default heartbeat interval one heartbeat holds ~22 ticks, whose "p99" is their largest.
 *
 * Its own module, without TypeBox, because the game side needs the values (worker-messages.ts gives it types only).
 */
export const TICK_BUCKETS_MS = [0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 33, 50, 100] as const;

/**
 * The upper edge of the bucket holding the p-th percentile of bucket counts (nearest rank, as
 * src/stats/percentile.ts): a bound, "p99 ≤ 2 ms"; Infinity when it is past the last edge, NaN for no samples.
 */
export function bucketPercentile(counts: readonly number[], p: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = Math.min(total - 1, Math.floor((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen > rank) return TICK_BUCKETS_MS[i] ?? Infinity;
  }
  return Infinity;
}
