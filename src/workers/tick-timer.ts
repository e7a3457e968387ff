/**
 * The game loop's clock and its two instruments, summarised once per heartbeat interval:
 *
 * - **lateness**: when a tick actually started minus when it was due. Tick n is due at start + n · period, a
 *   fixed schedule: a late tick does not move the ones after it (a loop that rescheduled from its own start, as
 *   setInterval does, would hide lateness by drifting). A player sees lateness as a snapshot or an input handled
 *   later than it should be.
 * - **work**: everything the game's thread did for one period — the tick's own update plus the handling of every
 *   datagram that arrived since the previous tick (receive, AEAD open, message handling), which runs outside
 *   the tick, between timer callbacks.
 *
 * The loop asks `nextDelayMs` for its timer; the clock is any millisecond clock (performance.now() in the game,
 * a number in tests). Nothing allocates per datagram or per tick: samples go into preallocated arrays.
 */
import { percentileOfSorted } from '../stats/percentile.ts';
import { TICK_BUCKETS_MS } from '../contract/tick-buckets.ts';
import type { TickDurations, TickStats } from '../contract/worker-messages.ts';

/** More than a heartbeat interval can hold at 30 Hz (the longest interval is the 120 s timeout / 4). */
const MAX_SAMPLES = 1024;
/**
 * A loop this many periods behind (the machine stalled, the process was stopped) starts a new schedule from now
 * instead of running the missed ticks back to back; the skipped slots are counted as `missed`.
 */
const MAX_BEHIND_PERIODS = 5;

class Sample {
  private readonly values = new Float64Array(MAX_SAMPLES);
  private readonly counts = new Array<number>(TICK_BUCKETS_MS.length + 1).fill(0);
  private max = 0;
  count = 0;

  add(ms: number): void {
    if (this.count < MAX_SAMPLES) this.values[this.count] = ms;
    this.count++;
    if (ms > this.max) this.max = ms;
    let bucket = 0;
    while (bucket < TICK_BUCKETS_MS.length && ms > TICK_BUCKETS_MS[bucket]!) bucket++;
    this.counts[bucket]!++;
  }

  take(): TickDurations {
    const sorted = this.values.slice(0, Math.min(this.count, MAX_SAMPLES)).sort();
    const out = {
      p50Ms: round(percentileOfSorted(sorted, 50)),
      p99Ms: round(percentileOfSorted(sorted, 99)),
      // The true maximum, even past MAX_SAMPLES.
      maxMs: round(this.max),
      counts: [...this.counts],
    };
    this.counts.fill(0);
    this.max = 0;
    this.count = 0;
    return out;
  }
}

export class TickTimer {
  private readonly periodMs: number;
  private startMs: number;
  /** Index of the next tick due, counted from startMs. */
  private next = 0;
  private readonly lateness = new Sample();
  private readonly work = new Sample();
  private tickStartedAt = NaN;
  private datagramStartedAt = NaN;
  /** Datagram handling since the previous tick ended, in ms: it belongs to the next tick's work. */
  private pendingDatagramMs = 0;
  private datagrams = 0;
  private missed = 0;

  constructor(periodMs: number, startMs: number) {
    this.periodMs = periodMs;
    this.startMs = startMs;
  }

  /** Starts the schedule over from `nowMs` (the loop's first tick is due then); the samples so far are kept. */
  startSchedule(nowMs: number): void {
    this.startMs = nowMs;
    this.next = 0;
  }

  /** When the next tick is due, on the caller's clock. */
  get nextDueMs(): number {
    return this.startMs + this.next * this.periodMs;
  }

  /**
   * The delay to give the next timer. Timers fire at whole milliseconds and never before their delay is up, so
   * the delay is rounded down: a tick may start up to 1 ms before its slot (counted as 0 lateness) rather than
   * up to 1 ms after it on every tick.
   */
  nextDelayMs(nowMs: number): number {
    return Math.max(0, Math.floor(this.nextDueMs - nowMs));
  }

  /** A tick starts now: records its lateness against its slot; returns the slot's due time (caller's clock). */
  tickStarted(nowMs: number): number {
    let due = this.nextDueMs;
    if (nowMs - due > MAX_BEHIND_PERIODS * this.periodMs) {
      const behind = Math.floor((nowMs - due) / this.periodMs);
      this.missed += behind;
      this.next += behind;
      due = this.nextDueMs;
    }
    this.lateness.add(Math.max(0, nowMs - due));
    this.next++;
    this.tickStartedAt = nowMs;
    return due;
  }

  /** The tick's update is done: its work is the update plus the datagrams handled since the previous tick. */
  tickEnded(nowMs: number): void {
    if (Number.isNaN(this.tickStartedAt)) return;
    this.work.add(nowMs - this.tickStartedAt + this.pendingDatagramMs);
    this.pendingDatagramMs = 0;
    this.tickStartedAt = NaN;
  }

  datagramStarted(nowMs: number): void {
    this.datagramStartedAt = nowMs;
  }

  datagramEnded(nowMs: number): void {
    if (Number.isNaN(this.datagramStartedAt)) return;
    this.pendingDatagramMs += nowMs - this.datagramStartedAt;
    this.datagramStartedAt = NaN;
    this.datagrams++;
  }

  /** Summarises and resets (the schedule goes on); undefined when no tick ran since the last call. */
  take(): TickStats | undefined {
    if (this.lateness.count === 0) return undefined;
    const ticks = this.lateness.count;
    const stats: TickStats = {
      ticks,
      missed: this.missed,
      datagrams: this.datagrams,
      lateness: this.lateness.take(),
      // A tick still running when the heartbeat fires cannot have ended; there is always at least one that did.
      work: this.work.count > 0 ? this.work.take() : { p50Ms: 0, p99Ms: 0, maxMs: 0, counts: TICK_BUCKETS_MS.map(() => 0).concat(0) },
    };
    this.missed = 0;
    this.datagrams = 0;
    return stats;
  }
}

function round(ms: number): number {
  return Math.min(600_000, Math.round(ms * 1000) / 1000);
}
