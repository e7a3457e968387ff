/** The player-side stutter instrument (src/game/snapshot-gaps.ts) on a clock the test drives. */
import { describe, expect, test } from 'bun:test';
import { SnapshotGaps } from '../../src/game/snapshot-gaps.ts';

describe('SnapshotGaps', () => {
  test('gaps between arrivals: p50/p99 at 1 ms resolution (upper edge), worst exact', () => {
    const gaps = new SnapshotGaps();
    let t = 1000;
    gaps.arrived(t); // the first snapshot: no gap yet
    // 98 gaps of 50.2 ms, one of 75.5 ms, one of 212.25 ms.
    for (let i = 0; i < 98; i++) gaps.arrived((t += 50.2));
    gaps.arrived((t += 75.5));
    gaps.arrived((t += 212.25));
    const s = gaps.summary();
    expect(s).toMatchObject({ snapshots: 101, gaps: 100, p50Ms: 51, maxMs: 212.25 });
    // p99 of 100 gaps is the largest but one… nearest rank index 99 = the largest.
    expect(s.p99Ms).toBe(213);
  });

  test('no gaps is NaN, never 0; reset starts a window but measures the gap across it', () => {
    const gaps = new SnapshotGaps();
    expect(gaps.summary().p99Ms).toBeNaN();
    gaps.arrived(0);
    gaps.arrived(50);
    gaps.reset();
    expect(gaps.summary()).toMatchObject({ snapshots: 0, gaps: 0, maxMs: 0 });
    gaps.arrived(450); // a 400 ms stall spanning the window's start counts in the window
    expect(gaps.summary()).toMatchObject({ snapshots: 1, gaps: 1, p99Ms: 401, maxMs: 400 });
  });

  test('a gap past the last bin is reported with its exact length', () => {
    const gaps = new SnapshotGaps();
    gaps.arrived(0);
    gaps.arrived(2500.5);
    expect(gaps.summary()).toMatchObject({ p50Ms: 2500.5, p99Ms: 2500.5, maxMs: 2500.5 });
  });
});
