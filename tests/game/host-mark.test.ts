import { describe, expect, test } from 'bun:test';
import { type HostCandidate, HostMark } from '../../src/game/host-mark.ts';

const seat = (clientId: bigint, connected: boolean, since: number, order: number): HostCandidate => ({ clientId, connected, since, order });

describe('HostMark', () => {
  test('the creator is host as soon as it connects, even when a friend got in first', () => {
    const mark = new HostMark({ creatorId: 10n });
    const friend = seat(20n, true, 0, 0);
    expect(mark.update(0, [friend])).toBe(false);
    expect(mark.host).toBeUndefined();
    expect(mark.update(0.01, [friend, seat(10n, true, 0.01, 1)])).toBe(false);
    expect(mark.host).toBe(10n);
  });

  test('without the creator after the wait, the first-admitted player is host; a late creator then claims it, announced', () => {
    const mark = new HostMark({ creatorId: 10n, creatorWaitSeconds: 3 });
    const a = seat(20n, true, 0, 0);
    const b = seat(30n, true, 1, 1);
    mark.update(0, [a]);
    expect(mark.update(2.9, [a, b])).toBe(false);
    expect(mark.host).toBeUndefined();
    expect(mark.update(3, [a, b])).toBe(false); // the first host is not news
    expect(mark.host).toBe(20n);
    expect(mark.update(5, [a, b, seat(10n, true, 5, 2)])).toBe(true);
    expect(mark.host).toBe(10n);
  });

  test('a dropped host keeps the mark for the keep time, then the longest-connected connected player gets it', () => {
    const mark = new HostMark({ creatorId: 1n, keepSeconds: 10 });
    mark.update(0, [seat(1n, true, 0, 0), seat(2n, true, 2, 1), seat(3n, true, 1, 2)]);
    const dropped = [seat(1n, false, 5, 0), seat(2n, true, 2, 1), seat(3n, true, 1, 2)];
    expect(mark.update(14.9, dropped)).toBe(false);
    expect(mark.host).toBe(1n);
    // Back within the keep time: still host.
    expect(mark.update(14.9, [seat(1n, true, 14.9, 0), dropped[1]!, dropped[2]!])).toBe(false);
    expect(mark.host).toBe(1n);
    expect(mark.update(24.9, [seat(1n, false, 15, 0), dropped[1]!, dropped[2]!])).toBe(false);
    expect(mark.update(25, [seat(1n, false, 15, 0), dropped[1]!, dropped[2]!])).toBe(true);
    // seat 3 connected earliest (since 1)
    expect(mark.host).toBe(3n);
    // The creator coming back later is a player like the others.
    expect(mark.update(30, [seat(1n, true, 30, 0), dropped[1]!, dropped[2]!])).toBe(false);
    expect(mark.host).toBe(3n);
  });

  test('a released host passes the mark at once; with nobody connected it waits for the next connection', () => {
    const mark = new HostMark();
    mark.update(0, [seat(1n, true, 0, 0), seat(2n, false, 1, 1)]);
    expect(mark.host).toBe(1n);
    expect(mark.update(2, [seat(2n, false, 1, 1)])).toBe(false);
    expect(mark.host).toBeUndefined();
    expect(mark.update(3, [seat(2n, true, 3, 1)])).toBe(true);
    expect(mark.host).toBe(2n);
  });

  test('equal connect times fall back to admission order', () => {
    const mark = new HostMark();
    mark.update(0, [seat(5n, true, 0, 1), seat(6n, true, 0, 0)]);
    expect(mark.host).toBe(6n);
  });
});
