import { describe, expect, test } from 'bun:test';
import { ReplayProtection } from '../../src/protocol/netcode/replay.ts';

const U64_MAX = (1n << 64n) - 1n;

/** What a reader does: test, then record only if accepted. */
function receive(window: ReplayProtection, sequence: bigint): boolean {
  if (window.alreadyReceived(sequence)) return false;
  window.advance(sequence);
  return true;
}

describe('ReplayProtection', () => {
  test('a fresh window accepts 0 once', () => {
    const window = new ReplayProtection();
    expect(receive(window, 0n)).toBe(true);
    expect(receive(window, 0n)).toBe(false);
  });

  test('out-of-order packets inside the window are accepted once', () => {
    const window = new ReplayProtection();
    for (const sequence of [10n, 5n, 7n, 6n, 11n]) expect(receive(window, sequence)).toBe(true);
    for (const sequence of [10n, 5n, 7n, 6n, 11n]) expect(receive(window, sequence)).toBe(false);
    expect(window.mostRecentSequence).toBe(11n);
  });

  test('the window edge: most - 255 accepted, most - 256 refused', () => {
    const window = new ReplayProtection();
    window.advance(1000n);
    expect(window.alreadyReceived(744n)).toBe(true);
    expect(window.alreadyReceived(743n)).toBe(true);
    expect(window.alreadyReceived(745n)).toBe(false);
  });

  test('below 256 nothing is too old', () => {
    const window = new ReplayProtection();
    window.advance(255n);
    expect(window.alreadyReceived(0n)).toBe(false);
  });

  test('a slot reused by a newer sequence refuses the older one', () => {
    const window = new ReplayProtection();
    expect(receive(window, 1n)).toBe(true);
    expect(receive(window, 257n)).toBe(true);
    expect(receive(window, 1n)).toBe(false);
  });

  test('the window edge across the 2^32 boundary of the low half', () => {
    const window = new ReplayProtection();
    const most = (1n << 32n) + 10n;
    window.advance(most);
    expect(window.alreadyReceived(most - 256n)).toBe(true);
    expect(window.alreadyReceived(most - 255n)).toBe(false);
    expect(receive(window, (1n << 32n) - 1n)).toBe(true);
    expect(receive(window, (1n << 32n) - 1n)).toBe(false);
  });

  test('near 2^64 the subtraction-side test does not overflow', () => {
    const window = new ReplayProtection();
    window.advance(U64_MAX);
    // The reference's `seq + 256 <= most` wraps for these and would refuse them.
    expect(window.alreadyReceived(U64_MAX - 10n)).toBe(false);
    expect(window.alreadyReceived(U64_MAX - 255n)).toBe(false);
    expect(window.alreadyReceived(U64_MAX - 256n)).toBe(true);
    expect(window.alreadyReceived(0n)).toBe(true);
  });

  test('0xffffffffffffffff is accepted once (the reference would accept it forever)', () => {
    const window = new ReplayProtection();
    expect(receive(window, U64_MAX)).toBe(true);
    expect(receive(window, U64_MAX)).toBe(false);
    expect(receive(window, U64_MAX)).toBe(false);
  });

  test('the empty marker is separate: a slot holding 0 is not "empty"', () => {
    const window = new ReplayProtection();
    window.advance(0n);
    expect(window.alreadyReceived(0n)).toBe(true);
    expect(window.alreadyReceived(256n)).toBe(false);
  });

  test('reset forgets everything', () => {
    const window = new ReplayProtection();
    window.advance(5000n);
    window.reset();
    expect(window.mostRecentSequence).toBe(0n);
    expect(receive(window, 0n)).toBe(true);
    expect(receive(window, 5000n)).toBe(true);
  });

  test('refuses sequences outside u64', () => {
    const window = new ReplayProtection();
    expect(() => window.alreadyReceived(-1n)).toThrow(RangeError);
    expect(() => window.advance(U64_MAX + 1n)).toThrow(RangeError);
  });
});
