/**
 * Trusted proxies: X-Forwarded-For / Forwarded / X-Forwarded-Proto / X-Forwarded-Host are believed only when the
 * TCP peer is in --trust-proxy, and then every per-address limit (the guess budget, the relay's per-address cap)
 * counts the forwarded client. A real listener on 127.0.0.1 (the peer), fake game workers.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { Config } from '../../src/config.ts';
import { relayExtension } from '../../src/matchmaker/relay/extension.ts';
import type { RunningServer } from '../../src/matchmaker/server.ts';
import { serveInProcess } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const serve = (overrides: Partial<Config>): Promise<RunningServer> => serveInProcess(overrides, cleanups, relayExtension());

const wrongJoin = (server: RunningServer, headers: Record<string, string>) =>
  fetch(`${server.localUrl}/api/games/join`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ passcode: 'ZZZZZZ', name: 'x' }) }).then((r) => r.status);

/** Twelve wrong guesses, each claiming another client (different /8s, so no network prefix is shared). */
async function guessesFromManyClaimedAddresses(server: RunningServer, header: (i: number) => Record<string, string>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push(await wrongJoin(server, header(i)));
  return statuses;
}

describe('forwarded headers from a peer that is not a trusted proxy are ignored', () => {
  test('a guesser rotating X-Forwarded-For still spends one address budget (10 a minute): the 11th is 429', async () => {
    const server = await serve({ trustProxy: [] });
    const statuses = await guessesFromManyClaimedAddresses(server, (i) => ({ 'x-forwarded-for': `${10 + i}.1.2.3` }));
    expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  test('the same with Forwarded: for=…, and with a trusted list that does not hold the peer', async () => {
    const server = await serve({ trustProxy: ['10.0.0.0/8', 'fd00::/8'] });
    const statuses = await guessesFromManyClaimedAddresses(server, (i) => ({ forwarded: `for=${10 + i}.9.9.9;proto=https` }));
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  test('X-Forwarded-Proto and -Host do not change relayUrl', async () => {
    const server = await serve({ trustProxy: [] });
    const created = await fetch(`${server.localUrl}/api/games`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
      body: JSON.stringify({ name: 'ann' }),
    });
    const game = (await created.json()) as { relayUrl: string };
    expect(game.relayUrl.startsWith(`${server.localUrl.replace('http:', 'ws:')}/relay?game=`)).toBe(true);
  });
});

describe('forwarded headers from a trusted proxy are honoured', () => {
  test('each forwarded client has its own guess budget; one forwarded client spends its own', async () => {
    const server = await serve({ trustProxy: ['127.0.0.1/32'] });
    const many = await guessesFromManyClaimedAddresses(server, (i) => ({ 'x-forwarded-for': `${10 + i}.1.2.3` }));
    expect(many.every((s) => s === 404)).toBe(true);
    const one: number[] = [];
    for (let i = 0; i < 11; i++) one.push(await wrongJoin(server, { 'x-forwarded-for': '203.0.113.7' }));
    expect(one.at(-1)).toBe(429);
  });

  test('the right-most address that is not itself trusted is the client; a client-written left part cannot dodge', async () => {
    // The proxy at 127.0.0.1 appends the address it saw (203.0.113.9) to whatever the client sent.
    const server = await serve({ trustProxy: ['127.0.0.0/8'] });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push(await wrongJoin(server, { 'x-forwarded-for': `${10 + i}.7.7.7, 203.0.113.9` }));
    expect(statuses.at(-1)).toBe(429);
  });

  test('Forwarded for= (IPv6 in brackets with a port) when there is no X-Forwarded-For', async () => {
    const server = await serve({ trustProxy: ['127.0.0.1/32'] });
    const many = await guessesFromManyClaimedAddresses(server, (i) => ({ forwarded: `for="[2001:db8:${i}::1]:4711"` }));
    expect(many.every((s) => s === 404)).toBe(true);
  });

  test('X-Forwarded-Proto and -Host make relayUrl wss://<forwarded host>', async () => {
    const server = await serve({ trustProxy: ['127.0.0.1/32'] });
    const created = await fetch(`${server.localUrl}/api/games`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'games.example.org' },
      body: JSON.stringify({ name: 'ann' }),
    });
    const game = (await created.json()) as { relayUrl: string; gameId: string };
    expect(game.relayUrl).toBe(`wss://games.example.org/relay?game=${encodeURIComponent(game.gameId)}`);
  });
});

/** Opens a relay tunnel claiming `forwardedFor`; resolves with the close code, or 0 when it stays open for 300 ms. */
function tunnel(server: RunningServer, gameId: string, forwardedFor: string, opened: WebSocket[]): Promise<number> {
  const ws = new WebSocket(`${server.localUrl.replace('http:', 'ws:')}/relay?game=${gameId}`, { headers: { 'x-forwarded-for': forwardedFor } } as unknown as string[]);
  opened.push(ws);
  return new Promise((resolve) => {
    ws.onclose = (event) => resolve(event.code);
    setTimeout(() => resolve(0), 300);
  });
}

describe('the relay per-address cap counts the same address', () => {
  async function twoTunnels(trustProxy: string[]): Promise<number[]> {
    const server = await serve({ trustProxy, relayMaxPerAddress: 1 });
    const created = await fetch(`${server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ann' }) });
    const { gameId } = (await created.json()) as { gameId: string };
    const opened: WebSocket[] = [];
    cleanups.push(() => opened.forEach((ws) => ws.close()));
    const first = await tunnel(server, gameId, '198.51.100.1', opened);
    const second = await tunnel(server, gameId, '198.51.100.2', opened);
    return [first, second];
  }

  test('untrusted peer: two claimed clients are one address, the second tunnel is refused (4503)', async () => {
    expect(await twoTunnels([])).toEqual([0, 4503]);
  });

  test('trusted proxy: two forwarded clients hold one tunnel each', async () => {
    expect(await twoTunnels(['127.0.0.1/32'])).toEqual([0, 0]);
  });
});
