/**
 * Budgets an attacker cannot turn against players (issue 9, DESIGN.md section 12), each a finding of the outside
 * tester reproduced first:
 * - log floods: 20,000 wrong joins wrote 2.2 MB of warn lines; the same for bad report tokens and refused keys;
 * - the global guess budget was a lockout: once spent, every join got 429, the right passcode too;
 * - successful joins were unbounded: a passcode holder minted tokens without end and every client id was kept.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/log.ts';
import { JoinLimiter } from '../../src/matchmaker/rate-limit.ts';
import { createApp } from '../../src/matchmaker/app.ts';
import { GameRegistry } from '../../src/matchmaker/registry.ts';
import { ResultsStore } from '../../src/matchmaker/results-store.ts';
import { FakeLauncher } from '../matchmaker/support/fake-launcher.ts';
import { testSettings } from '../matchmaker/support/registry.ts';
import { seededRandom } from '../support/prng.ts';
import { wrongPasscode } from './support-api/guess.ts';
import { serve, type Served } from './support-api/harness.ts';

const opened: Served[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** `count` requests, `concurrency` in flight; returns the statuses seen. */
async function flood(count: number, concurrency: number, send: (i: number) => Promise<Response>): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const response = await send(next++);
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

describe('client-caused log lines are sampled per event, the rest counted in /metrics', () => {
  test('20,000 wrong joins, 5,000 bad report tokens and 5,000 unknown keys write a bounded number of lines', async () => {
    const lines: { event: string; suppressed?: number }[] = [];
    let bytes = 0;
    // The product's logger (JSON lines), writing where a test can count them.
    const log = createLogger({ format: 'json', write: (line) => ((bytes += line.length + 1), lines.push(JSON.parse(line) as { event: string })) });
    const served = await serve({}, { ports: 1, log });
    opened.push(served);
    const url = served.server.localUrl;
    const created = await post(url, '/api/games', { name: 'host' });
    const { gameId, passcode } = (await created.json()) as { gameId: string; passcode: string };
    const random = seededRandom(9);
    const avoid = new Set([passcode]);
    const before = lines.length;
    const started = performance.now();

    const joins = await flood(20_000, 16, () => post(url, '/api/games/join', { passcode: wrongPasscode(random, avoid), name: 'bot' }));
    const reports = await flood(5_000, 16, () =>
      post(url, `/internal/games/${gameId}/report`, { status: 'in_progress', difficulty: 'easy' }, { authorization: 'Bearer nope' }),
    );
    const rejoins = await flood(5_000, 16, (i) => post(url, '/api/games/rejoin', { rejoinKey: `A${String(i).padStart(23, '0')}` }));
    const elapsedMs = performance.now() - started;

    expect(joins.get(429)).toBeGreaterThan(19_000);
    expect(reports.get(401)).toBe(5_000);
    expect([...rejoins.keys()].every((status) => status === 404 || status === 429)).toBe(true);

    const flooded = lines.slice(before);
    const byEvent = new Map<string, { written: number; summaries: number; summarised: number }>();
    for (const line of flooded) {
      const entry = byEvent.get(line.event) ?? { written: 0, summaries: 0, summarised: 0 };
      if (line.suppressed === undefined) entry.written++;
      else {
        entry.summaries++;
        entry.summarised += line.suppressed;
      }
      byEvent.set(line.event, entry);
    }
    // At most 20 lines per event per 10 s window, plus one summary per window that held lines back.
    const windows = Math.ceil(elapsedMs / 10_000) + 1;
    for (const [event, entry] of byEvent) {
      expect({ event, written: entry.written <= 20 * windows }).toEqual({ event, written: true });
      expect(entry.summaries).toBeLessThanOrEqual(windows);
    }
    expect(flooded.length).toBeLessThan(8 * 21 * windows);
    expect(bytes).toBeLessThan(100_000);

    // What was held back is in /metrics, per event: with what was written, it accounts for every request.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const suppressed = (event: string) => metric(metrics, `huddle_log_lines_suppressed_total{event="${event}"}`);
    const written = (event: string) => byEvent.get(event)?.written ?? 0;
    expect(written('join.refused') + written('join.rate_limited') + suppressed('join.refused') + suppressed('join.rate_limited')).toBe(20_000);
    expect(written('report.unauthorized') + suppressed('report.unauthorized')).toBe(5_000);
    expect(written('rejoin.refused') + written('rejoin.rate_limited') + suppressed('rejoin.refused') + suppressed('rejoin.rate_limited')).toBe(5_000);
    expect(suppressed('join.rate_limited')).toBeGreaterThan(19_000);
    // Summaries already written say the same as the counter, never more.
    for (const [event, entry] of byEvent) expect(entry.summarised).toBeLessThanOrEqual(suppressed(event));
  }, 60_000);
});

/** The real app over a fake launcher; the client address from a header, so one process plays a botnet. */
function botnetApp(limits: ConstructorParameters<typeof JoinLimiter>[0], settings = {}) {
  const launcher = new FakeLauncher();
  const store = new ResultsStore(':memory:');
  const registry = new GameRegistry({ settings: testSettings(settings), launcher, store, reportUrl: (id) => `http://127.0.0.1:9/internal/games/${id}/report` });
  const app = createApp({
    config: { maxPlayers: 8, maxBodyBytes: 4096, createToken: undefined, joinFailuresPerAddress: 1, joinFailuresGlobal: 1 },
    registry,
    store,
    limiter: new JoinLimiter(limits),
    clientAddress: (request) => request.headers.get('x-test-client') ?? '192.0.2.1',
  });
  const call = async (path: string, body: unknown, address: string) => {
    const response = await app.handle(
      new Request(`http://localhost${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-client': address }, body: JSON.stringify(body) }),
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string } }, headers: response.headers };
  };
  return { app, launcher, store, registry, call };
}

describe('the global guess budget is not a lockout', () => {
  test('a botnet spends the global budget: its addresses are refused, an honest newcomer with the passcode gets in', async () => {
    const clock = { now: 0 };
    const { call, store } = botnetApp({ perAddressPerMinute: 10, perPrefixPerMinute: 30, globalPerMinute: 50, newcomersPerMinute: 20, now: () => clock.now });
    const created = await call('/api/games', { name: 'host' }, '203.0.113.1');
    expect(created.status).toBe(201);
    const passcode = created.body.passcode as string;
    const rejoinKey = created.body.rejoinKey as string;
    const random = seededRandom(21);
    let checked = 0;
    // 2,000 guesses from 400 addresses in 100 /24s: the global budget (50) goes, then the newcomers' (20).
    for (let i = 0; i < 2_000; i++) {
      const address = `10.0.${i % 100}.${Math.floor(i / 100) % 4}`;
      const answer = await call('/api/games/join', { passcode: wrongPasscode(random, new Set([passcode])), name: 'bot' }, address);
      if (answer.status === 404) checked++;
      else expect(answer.status).toBe(429);
    }
    expect(checked).toBe(70);
    // Before the fix: the right passcode from anyone got 429 here. Now a bot's address is still refused (no oracle)…
    const bot = await call('/api/games/join', { passcode, name: 'bot' }, '10.0.5.1');
    expect(bot.status).toBe(429);
    expect(bot.body.error?.code).toBe('rate_limited');
    // …and so would a fresh newcomer be while the newcomers' budget is spent; it refills at 20/min.
    clock.now += 3_000;
    const friend = await call('/api/games/join', { passcode, name: 'friend' }, '198.51.100.7');
    expect(friend.status).toBe(200);
    // A right rejoin key is always served, from a bot's address too.
    expect((await call('/api/games/rejoin', { rejoinKey }, '10.0.5.1')).status).toBe(200);
    store.close();
  });

  test('a newcomer is served at once while only the global budget is spent', async () => {
    const clock = { now: 0 };
    const { call, store } = botnetApp({ perAddressPerMinute: 10, perPrefixPerMinute: 30, globalPerMinute: 30, newcomersPerMinute: 30, now: () => clock.now });
    const created = await call('/api/games', { name: 'host' }, '203.0.113.1');
    const passcode = created.body.passcode as string;
    const random = seededRandom(22);
    for (let i = 0; i < 30; i++) await call('/api/games/join', { passcode: wrongPasscode(random, new Set([passcode])), name: 'bot' }, `10.1.${i}.1`);
    expect((await call('/api/games/join', { passcode: wrongPasscode(random, new Set([passcode])), name: 'bot' }, '10.1.0.1')).status).toBe(429);
    expect((await call('/api/games/join', { passcode, name: 'friend' }, '198.51.100.8')).status).toBe(200);
    store.close();
  });
});

describe('successful joins are bounded per game', () => {
  test('100,000 joins against one game: the rate bound holds and its bookkeeping stays bounded', async () => {
    const clock = { now: 0 };
    const launcher = new FakeLauncher();
    const store = new ResultsStore(':memory:');
    const registry = new GameRegistry({
      settings: testSettings({ ticketsPerGame: 60, maxPlayers: 8, maxSpectators: 16 }),
      launcher,
      store,
      reportUrl: () => 'http://127.0.0.1:9/',
      clock: () => clock.now,
    });
    const host = await registry.create({ name: 'host' });
    // A real worker reports the seats actually taken: nobody connects with these tokens, so it says 1.
    launcher.last.emit({ type: 'players', count: 1, names: ['host'], spectators: 0 });
    const counts = { ok: 0, tooMany: 0, full: 0 };
    const retryAfter = new Set<string>();
    // 100,000 joins, the clock moving 100 ms every 100 of them: 100 s of a passcode holder going flat out.
    for (let i = 0; i < 100_000; i++) {
      if (i % 100 === 0) clock.now += 100;
      try {
        registry.join({ passcode: host.passcode, name: 'bot' });
        counts.ok++;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'too_many_tickets') {
          counts.tooMany++;
          retryAfter.add((error as { headers: Record<string, string> }).headers['Retry-After'] ?? 'missing');
        } else if (code === 'game_full') counts.full++;
        else throw error;
      }
    }
    // The burst (60) and 60 a minute over 100 s: at most 160 tickets, not 100,000.
    expect(counts.ok).toBeLessThanOrEqual(60 + Math.ceil((clock.now / 60_000) * 60) + 1);
    expect(counts.ok).toBeGreaterThanOrEqual(150);
    expect(counts.tooMany + counts.full).toBe(100_000 - counts.ok);
    expect(retryAfter.has('1')).toBe(true);
    const book = registry.bookkeeping(host.gameId)!;
    expect(book.seats).toBe(counts.ok + 1);
    expect(book.clientIds).toBe(book.seats);

    // Hours of it: the game's bookkeeping stops at its seat limit, refusals cost nothing.
    for (let i = 0; i < 100_000; i++) {
      if (i % 10 === 0) clock.now += 1_000;
      try {
        registry.join({ passcode: host.passcode, name: 'bot' });
      } catch {}
    }
    const after = registry.bookkeeping(host.gameId)!;
    expect(after.seats).toBe(after.limit);
    expect(after.clientIds).toBe(after.limit);
    expect(after.limit).toBe(16 * (8 + 16));
    store.close();
  });

  test('over HTTP: 429 too_many_tickets with Retry-After and the JSON shape; a rejoin of a real seat is still served', async () => {
    const served = await serve({ ticketsPerGame: 10 }, { ports: 1 });
    opened.push(served);
    const url = served.server.localUrl;
    const created = (await (await post(url, '/api/games', { name: 'host' })).json()) as { passcode: string; rejoinKey: string };
    const statuses = await flood(2_000, 8, () => post(url, '/api/games/join', { passcode: created.passcode, name: 'bot' }));
    // The burst of 10 (the host's own seat spent one), then refusals; a few may be game_full once 8 seats are held.
    expect(statuses.get(200) ?? 0).toBeLessThanOrEqual(10);
    expect(statuses.get(429) ?? 0).toBeGreaterThan(1_900);
    const refused = await post(url, '/api/games/join', { passcode: created.passcode, name: 'bot' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe('too_many_tickets');
    // The host's own seat has a budget of its own.
    expect((await post(url, '/api/games/rejoin', { rejoinKey: created.rejoinKey })).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metric(metrics, 'huddle_join_attempts_total{outcome="too_many_tickets"}')).toBeGreaterThan(1_900);
  }, 30_000);
});
