import { describe, expect, test } from 'bun:test';
import { JoinLimiter, TokenBuckets } from '../../src/matchmaker/rate-limit.ts';

describe('TokenBuckets', () => {
  test('capacity failures pass, the next is blocked until a token comes back', () => {
    const clock = { now: 0 };
    const buckets = new TokenBuckets({ capacity: 3, windowMs: 60_000, now: () => clock.now });
    for (let i = 0; i < 3; i++) {
      expect(buckets.blockedForMs('a')).toBe(0);
      buckets.take('a');
    }
    expect(buckets.blockedForMs('a')).toBe(20_000);
    expect(buckets.blockedForMs('b')).toBe(0);
    clock.now += 19_999;
    expect(buckets.blockedForMs('a')).toBe(1);
    clock.now += 1;
    expect(buckets.blockedForMs('a')).toBe(0);
    buckets.take('a');
    expect(buckets.blockedForMs('a')).toBe(20_000);
  });

  test('full buckets are forgotten and the number of tracked keys is bounded', () => {
    const clock = { now: 0 };
    const buckets = new TokenBuckets({ capacity: 2, windowMs: 1000, now: () => clock.now, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) buckets.take(`k${i}`);
    expect(buckets.trackedKeys).toBeLessThanOrEqual(101);
    clock.now += 1000;
    buckets.blockedForMs('k999');
    expect(buckets.blockedForMs('k999')).toBe(0);
  });
});

describe('JoinLimiter', () => {
  test('per address and global limits, Retry-After in whole seconds', () => {
    const clock = { now: 0 };
    const limiter = new JoinLimiter({ perAddressPerMinute: 2, globalPerMinute: 5, now: () => clock.now });
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    expect(limiter.retryAfterSeconds('a')).toBe(30);
    expect(limiter.retryAfterSeconds('b')).toBe(0);
    limiter.recordFailure('b');
    limiter.recordFailure('c');
    limiter.recordFailure('d');
    // Five failures overall: everyone waits now, even a fresh address.
    expect(limiter.retryAfterSeconds('e')).toBe(12);
    clock.now += 12_000;
    expect(limiter.retryAfterSeconds('e')).toBe(0);
    expect(limiter.retryAfterSeconds('a')).toBe(18);
  });
});
