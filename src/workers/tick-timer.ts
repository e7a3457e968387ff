/**
 * The game loop's clock and its two instruments, summarised once per heartbeat interval:
 *
 * - **lateness**: when a wake of the loop actually started minus when it was due. The game says when it is next
 *   due (in a round its next snapshot, on the round's own fixed schedule every 50 ms, each wake running the 30 Hz
 *   steps due; 30 Hz with anyone connected otherwise, 10 Hz with nobody), so a late wake does not move the ones
 *   after it. A player sees lateness as a snapshot or an input handled later than it should be.
 * - **work**: everything the game's thread did for one wake — the update plus the handling of every datagram
 *   that arrived since the previous wake (receive, AEAD open, message handling): read at the wake itself
 *   (`--udp-reads wakes`, `datagramsRead`), or, called back per datagram, between timer callbacks.
 *
 * The loop calls `schedule` with the next due time and asks `nextDelayMs` for its timer; the clock is any
 * millisecond clock (performance.now() in the game, a number in tests). Nothing allocates per datagram or per
 * wake: samples go into preallocated arrays.
 */
import { percentileOfSorted } from '../stats/percentile.ts';
import { TICK_BUCKETS_MS } from '../contract/tick-buckets.ts';
import type { TickDurations, TickStats } from '../contract/worker-messages.ts';

/** More than a heartbeat interval can hold at 30 Hz (the longest interval is the 120 s timeout / 4). */
const MAX_SAMPLES = 1024;
/**
 * By default a wake this many periods late (the machine stalled, the process was stopped) is handed the time it
 * started, not its due time, and the periods in between are counted as `missed`: the round then restarts its own
 * schedule instead of running the missed ticks back to back. A caller whose own schedule is coarser passes its
 * threshold (the game loop: one 50 ms snapshot period).
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
  /** The tick period: the unit of `missed`. */
  private readonly periodMs: number;
  private dueMs: number;
  private readonly lateness = new Sample();
  private readonly work = new Sample();
  private tickStartedAt = NaN;
  private datagramStartedAt = NaN;
  /** Datagram handling since the previous tick ended, in ms: it belongs to the next tick's work. */
  private pendingDatagramMs = 0;
  private datagrams = 0;
  private missed = 0;

  /** How late a wake must be to count as a stall, ms. */
  private readonly stallMs: number;

  constructor(periodMs: number, firstDueMs: number, stallMs = MAX_BEHIND_PERIODS * periodMs) {
    if (!(stallMs > 0)) throw new RangeError(`a stall threshold must be > 0 ms, got ${stallMs}`);
    this.periodMs = periodMs;
    this.dueMs = firstDueMs;
    this.stallMs = stallMs;
  }

  /** The next wake is due at `dueMs` (the game's answer to "when next?"). */
  schedule(dueMs: number): void {
    this.dueMs = dueMs;
  }

  /** When the next wake is due, on the caller's clock. */
  get nextDueMs(): number {
    return this.dueMs;
  }

  /**
   * The delay to give the next timer. Timers fire at whole milliseconds and never before their delay is up, so
   * the delay is rounded down: a tick may start up to 1 ms before its slot (counted as 0 lateness) rather than
   * up to 1 ms after it on every tick.
   */
  nextDelayMs(nowMs: number): number {
    return Math.max(0, Math.floor(this.nextDueMs - nowMs));
  }

  /**
   * A wake starts now: records its lateness against its due time and returns the time the game should run it
   * at (caller's clock): its due time, or now after a stall.
   */
  tickStarted(nowMs: number): number {
    const late = Math.max(0, nowMs - this.dueMs);
    this.lateness.add(late);
    this.tickStartedAt = nowMs;
    if (late > this.stallMs) {
      this.missed += Math.floor(late / this.periodMs);
      return nowMs;
    }
    return this.dueMs;
  }

  /** The wake's update is done: its work is the update plus the datagrams handled since the previous wake. */
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

  /** Datagrams read and handled inside the current wake (a socket read at wakes): their time is already its work. */
  datagramsRead(count: number): void {
    this.datagrams += count;
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
