/**
 * The stutter a player sees: the time between two arena snapshots arriving at the client (the server sends one
 * every 50 ms, so on a healthy link the gaps sit near 50 ms; a late tick, a lost datagram or a busy client shows
 * as a longer one). Kept as a 1 ms histogram over the player's whole session plus the exact worst gap, so a bot
 * playing for minutes costs a fixed ~1 KB and nothing per snapshot beyond one clock read.
 *
 * The game client's owner (the bot, a bench) calls `arrived` for each snapshot that decoded; `reset` starts a
 * new measuring window (the gap across it still counts, measured from the last snapshot before it).
 */
import { percentileOfSorted } from '../stats/percentile.ts';

/** Gaps of 0..BINS-1 ms each have a bin; longer ones share the last, and the max stays exact. */
const BINS = 1000;

export interface SnapshotGapSummary {
  /** Snapshots that arrived in the window. */
  snapshots: number;
  /** Gaps measured (one per snapshot after the first ever). */
  gaps: number;
  /** Nearest-rank percentiles (src/stats/percentile.ts) at 1 ms resolution: the bin's upper edge. */
  p50Ms: number;
  p99Ms: number;
  /** The longest gap, exact. */
  maxMs: number;
}

export class SnapshotGaps {
  private readonly bins = new Uint32Array(BINS);
  private last = NaN;
  private snapshots = 0;
  private gaps = 0;
  private max = 0;

  /** A snapshot arrived at `nowMs` (any millisecond clock, e.g. performance.now()). */
  arrived(nowMs: number): void {
    this.snapshots++;
    if (!Number.isNaN(this.last)) {
      const gap = Math.max(0, nowMs - this.last);
      this.bins[Math.min(BINS - 1, Math.floor(gap))]!++;
      this.gaps++;
      if (gap > this.max) this.max = gap;
    }
    this.last = nowMs;
  }

  /** Forgets the counts so far (a new window); the next gap is still measured from the last snapshot. */
  reset(): void {
    this.bins.fill(0);
    this.snapshots = 0;
    this.gaps = 0;
    this.max = 0;
  }

  summary(): SnapshotGapSummary {
    return { snapshots: this.snapshots, gaps: this.gaps, p50Ms: this.percentile(50), p99Ms: this.percentile(99), maxMs: Math.round(this.max * 1000) / 1000 };
  }

  /** The p-th percentile's bin as its upper edge in ms (a gap of 49.3 ms is in the bin "≤ 50"); NaN with no gaps. */
  private percentile(p: number): number {
    if (this.gaps === 0) return NaN;
    // Same rank rule as percentileOfSorted, over the bins instead of the samples.
    const rank = Math.min(this.gaps - 1, Math.floor((p / 100) * this.gaps));
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.bins[i]!;
      if (seen > rank) return i === BINS - 1 ? Math.round(this.max * 1000) / 1000 : i + 1;
    }
    return percentileOfSorted([this.max], 100);
  }
}
