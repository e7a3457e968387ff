import { describe, expect, test } from 'bun:test';
import { JoinLimiter, networkPrefix, SUSPECT_WINDOW_MS, TokenBuckets } from '../../src/matchmaker/rate-limit.ts';

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

describe('networkPrefix', () => {
  test('/24 for IPv4 (also v4-mapped), /56 for IPv6 in any spelling', () => {
    expect(networkPrefix('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkPrefix('::ffff:203.0.113.5')).toBe('203.0.113.0/24');
    expect(networkPrefix('2001:db8:1:2a3b::1')).toBe('2001:db8:1:2a00::/56');
    expect(networkPrefix('2001:0db8:0001:2aff:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2a00::/56');
    expect(networkPrefix('2001:db8:1:2b00::1')).not.toBe(networkPrefix('2001:db8:1:2a00::1'));
    expect(networkPrefix('::1')).toBe('0:0:0:0::/56');
    expect(networkPrefix('unknown')).toBe('unknown');
  });
});

describe('JoinLimiter', () => {
  const limiterAt = (options: Partial<ConstructorParameters<typeof JoinLimiter>[0]> = {}) => {
    const clock = { now: 0 };
    const limiter = new JoinLimiter({ perAddressPerMinute: 2, perPrefixPerMinute: 5, globalPerMinute: 5, newcomersPerMinute: 3, now: () => clock.now, ...options });
    return { clock, limiter };
  };

  test('per address: its own budget, Retry-After in whole seconds', () => {
    const { clock, limiter } = limiterAt({ globalPerMinute: 100 });
    limiter.recordFailure('198.51.100.1');
    limiter.recordFailure('198.51.100.1');
    expect(limiter.decide('198.51.100.1')).toEqual({ allowed: false, scope: 'address', retryAfterSeconds: 30 });
    expect(limiter.retryAfterSeconds('203.0.113.1')).toBe(0);
    clock.now += 30_000;
    expect(limiter.retryAfterSeconds('198.51.100.1')).toBe(0);
  });

  test('per prefix: a /24 shares one budget, however many of its addresses guess', () => {
    const { limiter } = limiterAt({ globalPerMinute: 100 });
    for (let host = 1; host <= 5; host++) {
      expect(limiter.decide(`198.51.100.${host}`).allowed).toBe(true);
      limiter.recordFailure(`198.51.100.${host}`);
    }
    // A sixth address of the same /24 that never guessed is held back with its network; another /24 is not.
    expect(limiter.decide('198.51.100.200')).toMatchObject({ allowed: false, scope: 'prefix' });
    expect(limiter.decide('198.51.101.200').allowed).toBe(true);
    // The same for a /56.
    for (let i = 1; i <= 5; i++) limiter.recordFailure(`2001:db8:0:12${i}0::1`);
    expect(limiter.decide('2001:db8:0:12ff::9')).toMatchObject({ allowed: false, scope: 'prefix' });
    expect(limiter.decide('2001:db8:0:1300::9').allowed).toBe(true);
  });

  test('global spent: suspects wait, a newcomer is still checked (from its own budget) until that is spent too', () => {
    const { clock, limiter } = limiterAt();
    // Five guessers from five networks spend the global budget (5).
    for (let n = 1; n <= 5; n++) limiter.recordFailure(`192.0.${n}.1`);
    // Not a lockout: one who guessed waits for the global refill (12 s a token), ...
    expect(limiter.decide('192.0.1.1')).toEqual({ allowed: false, scope: 'global', retryAfterSeconds: 12 });
    // ... so does a neighbour in a network that guessed, ...
    expect(limiter.decide('192.0.2.99')).toMatchObject({ allowed: false, scope: 'global' });
    // ... but an honest newcomer is checked.
    expect(limiter.decide('203.0.113.9').allowed).toBe(true);
    // Newcomers' wrong guesses spend the newcomers' budget (3), then newcomers wait as well.
    for (let n = 1; n <= 3; n++) limiter.recordFailure(`198.18.${n}.1`);
    expect(limiter.decide('203.0.113.9')).toEqual({ allowed: false, scope: 'newcomers', retryAfterSeconds: 12 });
    // Twelve seconds on the global bucket has a token again: everyone not over their own budget is checked.
    clock.now += 12_000;
    expect(limiter.decide('192.0.1.1').allowed).toBe(true);
    expect(limiter.decide('203.0.113.9').allowed).toBe(true);
  });

  test('suspicion lasts ten minutes, then an address is a newcomer again', () => {
    const { clock, limiter } = limiterAt({ globalPerMinute: 1, newcomersPerMinute: 1000 });
    limiter.recordFailure('192.0.2.1');
    clock.now += 30_000; // the address's own budget is back, the global one (1/min) is not
    expect(limiter.decide('192.0.2.1')).toMatchObject({ allowed: false, scope: 'global' });
    limiter.recordFailure('198.51.100.1'); // keep the global bucket empty
    clock.now = SUSPECT_WINDOW_MS + 1;
    for (let i = 0; i < 20; i++) limiter.recordFailure(`10.9.${i}.1`); // spent again, by newcomers' budget
    expect(limiter.decide('192.0.2.1').allowed).toBe(true);
  });

  test('at most global + newcomers guesses a minute are checked, whatever the number of addresses', () => {
    const { clock, limiter } = limiterAt({ perAddressPerMinute: 10, perPrefixPerMinute: 30, globalPerMinute: 50, newcomersPerMinute: 20 });
    let checked = 0;
    let address = 0;
    // A botnet: a fresh address in a fresh /24 on every attempt, 10,000 attempts spread over 10 simulated minutes.
    for (let i = 0; i < 10_000; i++) {
      clock.now = i * 60;
      const a = `10.${(address >> 8) & 255}.${address & 255}.7`;
      address++;
      if (limiter.decide(a).allowed) {
        checked++;
        limiter.recordFailure(a);
      }
    }
    // 10 minutes at (50 + 20)/min, plus the two bursts.
    expect(checked).toBeLessThanOrEqual(10 * 70 + 70 + 1);
    expect(checked).toBeGreaterThanOrEqual(10 * 70 - 10);
    // Memory stays bounded by the suspects' window and cap, not by the attempts.
    expect(limiter.suspectCount).toBeLessThanOrEqual(2 * 20_000);
  });
});
