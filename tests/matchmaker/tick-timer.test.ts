/**
 * The game loop's instruments (src/workers/tick-timer.ts) on a clock the test drives: lateness against the due
 * times the game gives it (here a round due every period on its own clock, which a late wake does not move), work that includes the datagrams handled between ticks, the bucket
 * counts a reader adds up over heartbeats, and the resynchronisation after a stall.
 */
import { describe, expect, test } from 'bun:test';
import { TickTimer } from '../../src/workers/tick-timer.ts';
import { bucketPercentile, TICK_BUCKETS_MS } from '../../src/contract/tick-buckets.ts';
import { TickStats } from '../../src/contract/worker-messages.ts';
import { Value } from '@sinclair/typebox/value';

const PERIOD = 1000 / 30;

/**
 * Runs one wake that starts at `at` and whose update takes `updateMs`, for a game due every `period` on its own
 * clock (as the round is): its next wake is a period after the time this one was run at, not after `at`.
 */
function tick(timer: TickTimer, at: number, updateMs = 0, period = PERIOD): void {
  const ranAt = timer.tickStarted(at);
  timer.tickEnded(at + updateMs);
  timer.schedule(ranAt + period);
}

describe('TickTimer lateness', () => {
  test('is measured against start + n · period: a late tick does not move the schedule', () => {
    const timer = new TickTimer(PERIOD, 1000);
    expect(timer.nextDueMs).toBe(1000);
    tick(timer, 1000); // on time
    tick(timer, 1000 + PERIOD + 12); // 12 ms late
    // The next slot is still start + 2 · period, not 12 ms later.
    expect(timer.nextDueMs).toBeCloseTo(1000 + 2 * PERIOD, 9);
    // The tick is handed its slot's time (the game runs it at that time), however late it started.
    expect(timer.tickStarted(1000 + 2 * PERIOD + 0.5)).toBeCloseTo(1000 + 2 * PERIOD, 9);
    timer.tickEnded(1000 + 2 * PERIOD + 0.5);
    const stats = timer.take();
    expect(stats?.ticks).toBe(3);
    expect(stats?.lateness.maxMs).toBe(12);
    expect(stats?.lateness.p50Ms).toBe(0.5);
    expect(stats?.missed).toBe(0);
  });

  test('the first wake is due when the loop schedules it: the time before it is not lateness', () => {
    const timer = new TickTimer(PERIOD, 0);
    timer.schedule(250); // the game took 250 ms to start its loop
    expect(timer.nextDueMs).toBe(250);
    tick(timer, 250.2);
    expect(timer.take()).toMatchObject({ ticks: 1, missed: 0, lateness: { maxMs: 0.2 } });
  });

  test('a tick a whole period late is followed at once by the next one, which is late too', () => {
    const timer = new TickTimer(PERIOD, 0);
    tick(timer, 0);
    tick(timer, PERIOD + 40); // 40 ms late: slot 2 (66.7 ms) is already past
    expect(timer.nextDelayMs(PERIOD + 40)).toBe(0);
    tick(timer, PERIOD + 40.1);
    const late = timer.take()?.lateness;
    expect(late?.maxMs).toBe(40);
    expect(late?.p50Ms).toBeCloseTo(PERIOD + 40.1 - 2 * PERIOD, 3);
  });

  test('an early timer counts as on time; the delay is rounded down to whole ms', () => {
    const timer = new TickTimer(PERIOD, 0);
    tick(timer, 0);
    expect(timer.nextDelayMs(0.2)).toBe(Math.floor(PERIOD - 0.2));
    tick(timer, PERIOD - 0.7);
    expect(timer.take()?.lateness.maxMs).toBe(0);
  });

  test('a caller may set its own stall threshold: the game loop counts one snapshot period late as a stall', () => {
    const timer = new TickTimer(PERIOD, 0, 50);
    tick(timer, 0);
    // Due at 33.3, woken 60 ms late: past 50 ms, so run at now (the round then restarts its snapshots from there).
    expect(timer.tickStarted(PERIOD + 60)).toBe(PERIOD + 60);
    timer.tickEnded(PERIOD + 60);
    timer.schedule(PERIOD + 60 + PERIOD);
    // 40 ms late is still a late wake run at its due time.
    expect(timer.tickStarted(2 * PERIOD + 60 + 40)).toBeCloseTo(2 * PERIOD + 60, 9);
    expect(() => new TickTimer(PERIOD, 0, 0)).toThrow(RangeError);
    expect(() => new TickTimer(PERIOD, 0, Number.NaN)).toThrow(RangeError);
  });

  test('after a stall of more than 5 periods the wake runs at now and the skipped periods are counted', () => {
    const timer = new TickTimer(PERIOD, 0);
    tick(timer, 0);
    // Due at 33.3: 466.7 ms late, 14 whole periods. The game runs it at 500, not at 33.3 (and restarts from there).
    expect(timer.tickStarted(500)).toBe(500);
    timer.tickEnded(500);
    timer.schedule(500 + PERIOD);
    const stats = timer.take();
    expect(stats?.missed).toBe(14);
    expect(stats?.lateness.maxMs).toBeCloseTo(500 - PERIOD, 3);
    // Five periods late is still a late wake run at its due time, not a stall.
    expect(timer.tickStarted(500 + 6 * PERIOD - 1)).toBeCloseTo(500 + PERIOD, 9);
    timer.tickEnded(500 + 6 * PERIOD);
    timer.take();
    timer.schedule(500 + 7 * PERIOD);
    tick(timer, 500 + 7 * PERIOD);
    expect(timer.take()).toMatchObject({ ticks: 1, missed: 0 });
  });
});

describe('TickTimer work', () => {
  test("a tick's work is its update plus every datagram handled since the previous tick", () => {
    const timer = new TickTimer(PERIOD, 0);
    tick(timer, 0, 0.3); // no datagram before it
    // Two datagrams between the ticks: 0.2 ms and 0.5 ms of handling.
    timer.datagramStarted(10);
    timer.datagramEnded(10.2);
    timer.datagramStarted(20);
    timer.datagramEnded(20.5);
    tick(timer, PERIOD, 1); // 1 ms update + 0.7 ms of datagrams
    // A datagram after the last tick belongs to the next one, not to this heartbeat's ticks.
    timer.datagramStarted(40);
    timer.datagramEnded(43);
    const stats = timer.take();
    expect(stats?.datagrams).toBe(3);
    expect(stats?.work.maxMs).toBeCloseTo(1.7, 6);
    expect(stats?.work.p50Ms).toBeCloseTo(1.7, 6); // upper middle of two
    tick(timer, 2 * PERIOD, 0.1);
    expect(timer.take()?.work.maxMs).toBeCloseTo(3.1, 6);
  });

  test('a datagram that throws is still timed (game-main ends the timing in finally)', () => {
    const timer = new TickTimer(PERIOD, 0);
    timer.datagramStarted(1);
    try {
      throw new Error('hostile datagram');
    } catch {
      // game-main logs it
    } finally {
      timer.datagramEnded(3);
    }
    tick(timer, PERIOD, 0);
    expect(timer.take()?.work.maxMs).toBe(2);
  });
});

describe('TickTimer summaries', () => {
  test('bucket counts add up to the ticks, fit the contract, and give a percentile bound across heartbeats', () => {
    const timer = new TickTimer(PERIOD, 0);
    const lates = [0, 0.1, 0.3, 0.9, 1.2, 1.9, 2.5, 7, 20, 150];
    lates.forEach((late, n) => tick(timer, n * PERIOD + late, 0.05));
    const first = timer.take()!;
    expect(Value.Check(TickStats, first)).toBe(true);
    expect(first.lateness.counts).toHaveLength(TICK_BUCKETS_MS.length + 1);
    expect(first.lateness.counts.reduce((a, b) => a + b, 0)).toBe(10);
    // 0 and 0.1 in ≤0.25; 0.3 in ≤0.5; 0.9 in ≤1; 1.2 in ≤1.5; 1.9 in ≤2; 2.5 in ≤3; 7 in ≤8; 20 in ≤24; 150 past 100.
    expect(first.lateness.counts).toEqual([2, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
    expect(first.work.counts[0]).toBe(10);

    // A reader adds heartbeats up: 90 more on-time ticks make the p99 of all 100 "≤ 24 ms" and the p50 "≤ 0.25 ms".
    for (let n = 10; n < 100; n++) tick(timer, n * PERIOD, 0.05);
    const second = timer.take()!;
    const sum = first.lateness.counts.map((c, i) => c + (second.lateness.counts[i] ?? 0));
    expect(bucketPercentile(sum, 50)).toBe(0.25);
    expect(bucketPercentile(sum, 98)).toBe(24);
    expect(bucketPercentile(sum, 99)).toBe(Infinity);
    expect(bucketPercentile(sum.map(() => 0), 99)).toBeNaN();
  });

  test('the max is exact even past the samples kept, and take() resets everything but the schedule', () => {
    const timer = new TickTimer(1, 0);
    for (let n = 0; n < 1500; n++) tick(timer, n + (n === 1400 ? 0.9 : 0), 0, 1);
    const stats = timer.take()!;
    expect(stats.ticks).toBe(1500);
    expect(stats.lateness.maxMs).toBe(0.9);
    expect(timer.take()).toBeUndefined();
    expect(timer.nextDueMs).toBe(1500);
  });
});
