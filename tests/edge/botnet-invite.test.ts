/**
 * The botnet, through a trusted reverse proxy: a real listener on 127.0.0.1 with --trust-proxy 127.0.0.1/32,
 * guessers arriving as many forwarded addresses (a fresh /24 for every guess, the worst case for per-address and
 * per-prefix budgets), with the product's defaults. They spend every passcode budget — a newcomer with the right
 * passcode is refused too — while a friend holding the invite link joins at once, and a rejoin key still works.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { FakeLauncher } from '../matchmaker/support/fake-launcher.ts';
import { freePortRange } from '../matchmaker/support/env.ts';
import { tempDir } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(overrides: Partial<Config> = {}): Promise<RunningServer> {
  const dir = tempDir();
  const config: Config = { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir.path, 'data'), gamePorts: await freePortRange(2), maxGames: 2, trustProxy: ['127.0.0.1/32'], ...overrides };
  const server = await startServer({ config, launcher: new FakeLauncher() });
  cleanups.push(() => dir.remove(), () => server.stop());
  return server;
}

async function post(server: RunningServer, path: string, body: unknown, forwardedFor: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.localUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Bot number i: its own /24 (and /16), so no per-address or per-prefix budget is ever shared. */
const bot = (i: number) => `10.${(i >> 8) & 0xff}.${i & 0xff}.7`;

describe('a botnet behind a trusted proxy cannot keep a friend with the invite link out', () => {
  test('every passcode budget spent by forwarded guessers; the invite joins at once; a rejoin key is served', async () => {
    const server = await serve();
    const created = await post(server, '/api/games', { name: 'Ada' }, '198.51.100.1');
    expect(created.status).toBe(201);
    const passcode = String(created.body.passcode);
    const wrong = passcode === 'ZZZZZZ' ? 'YYYYYY' : 'ZZZZZZ';
    const invite = new URL(String(created.body.inviteUrl)).searchParams.get('invite') ?? '';
    expect(invite.length).toBeGreaterThanOrEqual(22);

    // Guess from fresh forwarded addresses until a newcomer is refused too (bounded: the design checks at most
    // the global budget plus the newcomers' one a minute, 600 by default).
    let checked = 0;
    let refused = 0;
    let i = 0;
    const guessing = performance.now();
    for (; i < 5000; i += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, k) => post(server, '/api/games/join', { passcode: wrong, name: 'bot' }, bot(i + k))));
      for (const a of answers) {
        if (a.status === 404) checked++;
        else if (a.status === 429) refused++;
        else throw new Error(`unexpected ${a.status}: ${JSON.stringify(a.body)}`);
      }
      if (refused >= 100) break;
    }
    expect(refused).toBeGreaterThanOrEqual(100);
    // Both budgets refill as the minute goes on (a slow, loaded run takes seconds): what came back meanwhile counts.
    const minutes = (performance.now() - guessing) / 60_000;
    expect(checked).toBeLessThanOrEqual(Math.floor(defaultConfig().joinFailuresGlobal * 2 * (1 + minutes)));
    // Spent for everyone new: a newcomer with the RIGHT passcode gets 429 (the budget gives no oracle).
    const newcomer = await post(server, '/api/games/join', { passcode, name: 'Late' }, '203.0.113.50');
    expect(newcomer.status).toBe(429);

    // The friend with the link, at once (no wait, no Retry-After), from a fresh address and from a bot's.
    const started = performance.now();
    const friend = await post(server, '/api/games/join', { invite, name: 'Friend' }, '203.0.113.9');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(friend.status).toBe(200);
    expect(friend.body).toMatchObject({ gameId: created.body.gameId, name: 'Friend', role: 'player' });
    const neighbour = await post(server, '/api/games/join', { invite, name: 'Neighbour' }, bot(3));
    expect(neighbour.status).toBe(200);
    // And the friend's seat comes back with its key, whatever the budgets say.
    const rejoin = await post(server, '/api/games/rejoin', { rejoinKey: friend.body.rejoinKey }, bot(4));
    expect(rejoin.status).toBe(200);
    expect(rejoin.body.name).toBe('Friend');
  }, 60_000);
});
