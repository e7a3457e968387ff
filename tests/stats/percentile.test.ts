import { describe, expect, test } from 'bun:test';
import { median, percentile, percentileOfSorted } from '../../src/stats/percentile.ts';

const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
/** Deterministic shuffle, so the order of the input cannot matter by accident. */
const shuffled = (xs: number[]): number[] => xs.map((x, i) => [((i * 7919) % 104729) / 104729, x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

describe('percentile: nearest rank at index floor(p/100 · n), no interpolation', () => {
  test('pins the definition the figures used', () => {
    expect(percentile(oneTo(100), 99)).toBe(100); // index 99: one above the textbook rank when p·n is whole
    expect(percentile(oneTo(100), 50)).toBe(51);
    expect(percentile(oneTo(1000), 99)).toBe(991);
    expect(percentile(oneTo(150), 99)).toBe(149); // a heartbeat's ~150 ticks: p99 leaves out the largest
    expect(percentile([1, 2, 3, 4], 50)).toBe(3);
    expect(percentile([10, 20, 30], 90)).toBe(30);
  });

  test('always a measured value, min at p0 and max at p100, whatever the order', () => {
    const xs = shuffled(oneTo(37).map((x) => x * 1.5));
    expect(percentile(xs, 0)).toBe(1.5);
    expect(percentile(xs, 100)).toBe(37 * 1.5);
    for (const p of [1, 25, 50, 75, 90, 99, 99.9]) expect(xs).toContain(percentile(xs, p));
  });

  test('sorts numerically and leaves the input alone', () => {
    const xs = [10, 9, 100, 1];
    expect(percentile(xs, 50)).toBe(10);
    expect(xs).toEqual([10, 9, 100, 1]);
  });

  test('the sorted variant agrees and takes typed arrays', () => {
    const xs = shuffled(oneTo(257));
    const sorted = Float64Array.from(xs).sort();
    for (const p of [0, 50, 99, 100]) expect(percentileOfSorted(sorted, p)).toBe(percentile(xs, p));
  });

  test('no samples is NaN, never 0', () => {
    expect(percentile([], 99)).toBeNaN();
    expect(percentileOfSorted(new Float64Array(0), 50)).toBeNaN();
  });
});

describe('median', () => {
  test('the middle sample; the mean of the two middle ones for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });
});

describe('the game loop reports its ticks with this definition', () => {
  test('TickTimer: lateness p50, p99 and max of a heartbeat of 150 ticks, then reset', async () => {
    const { TickTimer } = await import('../../src/workers/tick-timer.ts');
    // A 20 ms period, so every lateness here (0.1–15 ms) leaves each tick starting after the previous one.
    const timer = new TickTimer(20, 0);
    shuffled(oneTo(150)).forEach((tenths, n) => {
      timer.schedule(n * 20);
      timer.tickStarted(n * 20 + tenths / 10);
      timer.tickEnded(n * 20 + tenths / 10);
    });
    expect(timer.take()?.lateness).toMatchObject({ p50Ms: 7.6, p99Ms: 14.9, maxMs: 15 });
    expect(timer.take()).toBeUndefined();
  });
});
