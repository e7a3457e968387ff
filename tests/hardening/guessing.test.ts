/**
 * Passcode guessing: a client sending wrong passcodes as fast as it can is held to the configured budget, per
 * address and globally, with 429 + Retry-After for the rest, and then cannot get in even with the right code.
 * The limits are per minute (token buckets whose capacity is also the burst); the suite uses small capacities
 * so the burst is spent in milliseconds and a rate of a few per second so refill is visible within seconds.
 * bench/guessing.ts runs the same guesser against the defaults for 60 s.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { PASSCODE_ALPHABET, PASSCODE_LENGTH } from '../../src/matchmaker/passcodes.ts';
import { testApp } from '../matchmaker/support/app.ts';
import { seededRandom } from '../support/prng.ts';
import { expectedFindsPerDay, guess, wrongPasscode } from './support-api/guess.ts';
import { serve, type Served } from './support-api/harness.ts';

const opened: Served[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function withGame(overrides: Parameters<typeof serve>[0]) {
  const served = await serve(overrides, { ports: 1 });
  opened.push(served);
  const response = await fetch(`${served.server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"host"}' });
  expect(response.status).toBe(201);
  const game = (await response.json()) as { passcode: string };
  return { served, url: served.server.localUrl, passcode: game.passcode };
}

const join = (url: string, passcode: string) =>
  fetch(`${url}/api/games/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passcode, name: 'friend' }) });

describe('passcode guessing against a real server', () => {
  test('per address: the burst, then the refill rate; 429 with Retry-After; the right code is refused too', async () => {
    // 120 per minute = a burst of 120, then 2 per second.
    const perMinute = 120;
    const { url, passcode } = await withGame({ joinFailuresPerAddress: perMinute, joinFailuresPerPrefix: 1_000_000, joinFailuresGlobal: 1_000_000 });
    expect((await join(url, passcode)).status).toBe(200);
    const tally = await guess({ url, seconds: 3, concurrency: 8, random: seededRandom(1), avoid: new Set([passcode]) });

    expect([...tally.other]).toEqual([]);
    const budget = perMinute + (tally.elapsedMs / 60_000) * perMinute;
    expect(tally.checked).toBeLessThanOrEqual(Math.floor(budget) + 1);
    // The refill is delivered too (the limit is a rate, not a ban), within one token of the budget.
    expect(tally.checked).toBeGreaterThanOrEqual(Math.floor(budget) - 1);
    // The guesser really tried hard: far more attempts than checks.
    expect(tally.limited).toBeGreaterThan(tally.checked * 2);
    // One token comes back every 0.5 s: Retry-After rounds up to 1 s.
    expect([...tally.retryAfter]).toEqual(['1']);
    // After the burst, checks arrive at the refill rate, not faster.
    const afterBurst = tally.checkedAt.slice(perMinute);
    const steadyMs = tally.elapsedMs - (tally.checkedAt[perMinute - 1] ?? 0);
    expect(afterBurst.length).toBeLessThanOrEqual(Math.ceil((steadyMs / 60_000) * perMinute) + 1);
  }, 20_000);

  test('out of attempts, even the right passcode is refused (no oracle while limited)', async () => {
    // 3 per minute: a token comes back only every 20 s, so no refill can slip in before the right guess.
    const { url, passcode } = await withGame({ joinFailuresPerAddress: 3, joinFailuresPerPrefix: 1_000_000, joinFailuresGlobal: 1_000_000 });
    const wrong = passcode === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
    for (let i = 0; i < 3; i++) expect((await join(url, wrong)).status).toBe(404);
    expect((await join(url, wrong)).status).toBe(429);
    const right = await join(url, passcode);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await right.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  }, 20_000);

  test('globally: a lower global limit holds one address to it, with the wait it implies', async () => {
    const { url, passcode } = await withGame({ joinFailuresPerAddress: 100_000, joinFailuresPerPrefix: 100_000, joinFailuresGlobal: 6 });
    const tally = await guess({ url, seconds: 1, concurrency: 8, random: seededRandom(2), avoid: new Set([passcode]) });
    expect([...tally.other]).toEqual([]);
    expect(tally.checked).toBe(6);
    expect(tally.limited).toBeGreaterThan(20);
    // 6 per minute: the next attempt is about 10 s away.
    const waits = [...tally.retryAfter].map(Number);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...waits)).toBeLessThanOrEqual(10);
  }, 20_000);

  test('globally across many addresses: the total checked stays at the global budget plus the newcomers\' one', async () => {
    // The header-addressed app plays 200 clients, each in a /24 of its own; its limiter runs on a hand clock, so
    // the budget is exact. The newcomers' budget defaults to the global figure (src/matchmaker/rate-limit.ts).
    const t = testApp({ perAddress: 5, global: 50 });
    const random = seededRandom(3);
    let checked = 0;
    let limited = 0;
    const attempt = async (client: number) => {
      const response = await t.app.handle(
        new Request('http://localhost/api/games/join', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-test-client': `198.51.${client}.1` },
          body: JSON.stringify({ passcode: wrongPasscode(random, new Set()), name: 'bot' }),
        }),
      );
      if (response.status === 404) checked++;
      else if (response.status === 429) limited++;
      else throw new Error(`unexpected ${response.status}`);
    };
    for (let round = 0; round < 3; round++) for (let client = 0; client < 200; client++) await attempt(client);
    // The first 50 clients spend the global budget; the next 50, newcomers then, spend the newcomers' budget; from
    // there every guess is refused: the first 100 clients are suspects, the other 100 newcomers without a budget.
    expect(checked).toBe(100);
    expect(limited).toBe(500);
    // Six seconds later each bucket has refilled five tokens (50 per minute) and no more: five guesses from anyone,
    // five more from the clients that were never checked.
    t.clock.now += 6_000;
    for (let client = 0; client < 200; client++) await attempt(client);
    expect(checked).toBe(110);
  });

  test('the expected-finds formula', () => {
    expect(PASSCODE_ALPHABET.length ** PASSCODE_LENGTH).toBe(2 ** 30);
    // Defaults: 300 checked per minute globally and 300 from newcomers once that is spent, 32 live games.
    expect(expectedFindsPerDay(300, 32)).toBeCloseTo((300 * 1440 * 32) / 2 ** 30, 12);
    expect(expectedFindsPerDay(300 + 300, 32)).toBeLessThan(0.026);
  });
});
