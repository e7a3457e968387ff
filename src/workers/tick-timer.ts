/**
 * Durations of the game loop's ticks between two heartbeats: a bounded sample (one heartbeat interval at 30 Hz
 * is a few dozen ticks) summarised as p50/p99/max, so the matchmaker and load tests see whether a worker keeps
 * its tick budget.
 */
import { percentileOfSorted } from '../stats/percentile.ts';
import type { TickStats } from '../contract/worker-messages.ts';

const MAX_SAMPLES = 4096;

export class TickTimer {
  private readonly samples = new Float64Array(MAX_SAMPLES);
  private count = 0;

  record(milliseconds: number): void {
    if (this.count < MAX_SAMPLES) this.samples[this.count++] = milliseconds;
  }

  /** Summarises and resets; undefined when no tick ran. */
  take(): TickStats | undefined {
    if (this.count === 0) return undefined;
    const sorted = this.samples.slice(0, this.count).sort();
    const stats = {
      ticks: this.count,
      p50Ms: round(percentileOfSorted(sorted, 50)),
      p99Ms: round(percentileOfSorted(sorted, 99)),
      maxMs: round(percentileOfSorted(sorted, 100)),
    };
    this.count = 0;
    return stats;
  }
}

function round(ms: number): number {
  return Math.min(600_000, Math.round(ms * 1000) / 1000);
}
