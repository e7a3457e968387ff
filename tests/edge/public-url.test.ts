/**
 * --public-url is the base of relayUrl (ws/wss after its scheme) and of every link (publicBase); without it the
 * request's Host and scheme are used. Bad values are one-line setting errors.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { parseConfig, type Config } from '../../src/config.ts';
import { publicBase } from '../../src/matchmaker/edge/public-url.ts';
import type { RunningServer } from '../../src/matchmaker/server.ts';
import { serveInProcess } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const serve = (overrides: Partial<Config>): Promise<RunningServer> => serveInProcess(overrides, cleanups);

async function relayUrlOfNewGame(server: RunningServer, headers: Record<string, string> = {}): Promise<{ relayUrl: string; gameId: string }> {
  const response = await fetch(`${server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: 'ann' }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { relayUrl: string; gameId: string };
}

describe('--public-url', () => {
  test('https://games.example.org: relayUrl is wss://games.example.org/relay, whatever Host the request had', async () => {
    const server = await serve({ publicUrl: 'https://games.example.org/' });
    const game = await relayUrlOfNewGame(server, { host: 'evil.example:1234' });
    expect(game.relayUrl).toBe(`wss://games.example.org/relay?game=${encodeURIComponent(game.gameId)}`);
  });

  test('http://192.168.1.20:8080: relayUrl is ws:// with that port', async () => {
    const server = await serve({ publicUrl: 'http://192.168.1.20:8080/' });
    const game = await relayUrlOfNewGame(server);
    expect(game.relayUrl).toBe(`ws://192.168.1.20:8080/relay?game=${encodeURIComponent(game.gameId)}`);
  });

  test('unset: relayUrl follows the Host header the request was sent with', async () => {
    const server = await serve({});
    const game = await relayUrlOfNewGame(server, { host: 'lan-box:9999' });
    expect(game.relayUrl).toBe(`ws://lan-box:9999/relay?game=${encodeURIComponent(game.gameId)}`);
  });

  test('publicBase(request) outside a listener is the request URL origin', () => {
    expect(publicBase(new Request('https://x.example:8443/api/games?a=1')).href).toBe('https://x.example:8443/');
  });

  test('bad values are one-line errors naming the setting; good ones are normalized', () => {
    const cases: [string, RegExp][] = [
      ['games.example.org', /absolute URL/],
      ['ftp://games.example.org', /https:\/\/ or http:\/\//],
      ['https://games.example.org/huddle', /site root/],
      ['https://games.example.org/?x=1', /site root/],
      ['https://user:pw@games.example.org', /user name or password/],
    ];
    for (const [value, message] of cases) {
      const result = parseConfig(['--public-url', value], {});
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toStartWith('invalid --public-url');
        expect(result.error).toMatch(message);
        expect(result.error).not.toContain('\n');
      }
    }
    const env = parseConfig([], { HUDDLE_PUBLIC_URL: 'https://Games.Example.org' });
    expect(env.ok && env.config.publicUrl).toBe('https://games.example.org/');
  });
});
