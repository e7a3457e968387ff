/**
 * What one node takes from the others, or from whoever can write to Redis, is checked before it is used:
 * results copies and heartbeats that do not read as such are ignored (no 500 later), a heartbeat's URL must be a
 * plain http(s) origin (requests with players' keys are forwarded there), and a peer's answer is read only up to
 * its cap (a huge or endless body is abandoned, not buffered).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { Forwarder } from '../../src/matchmaker/cluster/forwarder.ts';
import { parseNodeInfo, parseStoredGame } from '../../src/matchmaker/cluster/redis-directory.ts';
import { GameError } from '../../src/matchmaker/errors.ts';

const servers: { stop(force?: boolean): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

const good = {
  gameId: 'g1',
  name: 'Ada',
  difficulty: 'hard',
  maxPlayers: 4,
  finishedAt: 1_764_600_000_000,
  outcome: 'finished',
  players: [{ rank: 1, name: 'Ada', score: 7, left: false }],
};

describe('results copies from Redis', () => {
  test('a well-formed copy of the asked game reads as it was written', () => {
    expect(parseStoredGame(JSON.stringify(good), 'g1')).toEqual(good as never);
  });

  test.each([
    ['not JSON', '{"gameId":'],
    ['not an object', '42'],
    ['null', 'null'],
    ['another game', JSON.stringify({ ...good, gameId: 'g2' })],
    ['an unknown difficulty', JSON.stringify({ ...good, difficulty: 'nightmare' })],
    ['no players array', JSON.stringify({ ...good, players: 'Ada' })],
    ['a player without a score', JSON.stringify({ ...good, players: [{ rank: 1, name: 'Ada', left: false }] })],
    ['a null player', JSON.stringify({ ...good, players: [null] })],
    ['an unknown outcome', JSON.stringify({ ...good, outcome: 'won' })],
  ])('%s: none', (_what, json) => {
    expect(parseStoredGame(json, 'g1')).toBeUndefined();
  });
});

describe('heartbeats from Redis', () => {
  const beat = (apiUrl: unknown) => JSON.stringify({ nodeId: 'n1', apiUrl, live: 2, maxGames: 8, draining: false });

  test('a node URL that is an http(s) origin is taken', () => {
    expect(parseNodeInfo(beat('http://10.0.0.2:8080'))).toEqual({ nodeId: 'n1', apiUrl: 'http://10.0.0.2:8080', live: 2, maxGames: 8, draining: false });
    expect(parseNodeInfo(beat('https://node-b.example.org'))?.apiUrl).toBe('https://node-b.example.org');
  });

  test.each(['file:///etc/passwd', 'javascript:alert(1)', 'http://user:pw@10.0.0.2:8080', 'http://10.0.0.2:8080/elsewhere', 'http://10.0.0.2:8080?x=1', 'not a url', 42])(
    'a node URL %p: the heartbeat is ignored',
    (apiUrl) => {
      expect(parseNodeInfo(beat(apiUrl))).toBeUndefined();
    },
  );

  test('junk is ignored, not thrown', () => {
    for (const junk of ['{', 'null', '[]', 7, undefined]) expect(parseNodeInfo(junk)).toBeUndefined();
  });
});

describe("a peer's answer", () => {
  async function peer(body: () => BodyInit, headers: Record<string, string> = {}): Promise<string> {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(body(), { headers: { 'content-type': 'application/json', ...headers } }) });
    servers.push(server);
    return `http://127.0.0.1:${server.port}`;
  }
  const ask = (apiUrl: string) => new Forwarder('a').forward({ apiUrl, method: 'GET', path: '/api/games/x', clientAddress: '127.0.0.1', timeoutMs: 3000 });

  test('a small one is passed on as it is', async () => {
    const forwarded = await ask(await peer(() => '{"state":"lobby"}'));
    expect(await forwarded.response.json()).toEqual({ state: 'lobby' });
  });

  test('an endless body (no length) is abandoned past the cap: 503 node_unreachable, quickly', async () => {
    let sent = 0;
    const url = await peer(
      () =>
        new ReadableStream({
          pull(controller) {
            sent += 64 * 1024;
            controller.enqueue(new Uint8Array(64 * 1024).fill(32));
          },
        }),
    );
    const started = performance.now();
    const error = await ask(url).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GameError);
    expect((error as GameError).code).toBe('node_unreachable');
    expect(performance.now() - started).toBeLessThan(2500);
    // Read no further than about the cap (256 KiB) plus what was in flight.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });

  test('a declared length over the cap is refused without reading it', async () => {
    const error = await ask(await peer(() => 'x'.repeat(300 * 1024))).then(() => undefined, (e: unknown) => e);
    expect((error as GameError).code).toBe('node_unreachable');
  });
});
