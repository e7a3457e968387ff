/**
 * RedisDirectory against a real redis-server: two or three directories (nodes) sharing one Redis, and the faults a
 * cluster meets (a node that stops beating, a node cut off from Redis, Redis killed and restarted empty, Redis
 * frozen). Every directory, server and proxy a test starts is stopped in afterEach / afterAll.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { ClusterUnavailableError, keyRoute, type NodeInfo } from '../../src/matchmaker/cluster/directory.ts';
import { RedisDirectory, type RedisDirectoryOptions } from '../../src/matchmaker/cluster/redis-directory.ts';
import { ResultsStore, type StoredGame } from '../../src/matchmaker/results-store.ts';
import { DIFFICULTIES } from '../../src/game/lobby.ts';
import type { Logger } from '../../src/log.ts';
import { seededRandom } from '../support/prng.ts';
import { describeRedis, RedisServer, stopAllRedis } from '../support/redis-server.ts';

const directories: RedisDirectory[] = [];
const proxies: CuttableProxy[] = [];
let shared: RedisServer;

afterEach(async () => {
  await Promise.all(directories.splice(0).map((d) => d.stop()));
  for (const proxy of proxies.splice(0)) proxy.close();
});

afterAll(async () => {
  await stopAllRedis();
});

/** A logger that keeps the events it is given, to count them. */
function recordingLogger(): Logger & { events: string[] } {
  const events: string[] = [];
  const keep = (event: string) => void events.push(event);
  return { events, debug: keep, info: keep, warn: keep, error: keep, protect() {}, unprotect() {} };
}

let prefixCount = 0;
function freshPrefix(): string {
  return `t${process.pid}-${++prefixCount}:`;
}

function directory(url: string, nodeId: string, prefix: string, extra: Partial<RedisDirectoryOptions> = {}): RedisDirectory {
  const d = new RedisDirectory({ url, nodeId, prefix, ...extra });
  directories.push(d);
  return d;
}

function selfInfo(nodeId: string, state: { live: number } = { live: 0 }): () => NodeInfo {
  return () => ({ nodeId, apiUrl: `http://${nodeId}.invalid:1`, live: state.live, maxGames: 8, draining: false });
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await condition()) return performance.now() - started;
    await Bun.sleep(25);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** How long a call takes to settle, and how: resolves even when the call rejects. */
async function timed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await call();
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/**
 * A TCP proxy in front of Redis that can cut one node off (close its connections, refuse new ones) while the others
 * keep their direct link: a network partition between one node and Redis.
 */
class CuttableProxy {
  private cut = false;
  private readonly pairs = new Set<{ client: Bun.Socket<Pair>; upstream?: Bun.TCPSocket }>();
  private readonly listener: Bun.TCPSocketListener<Pair>;

  constructor(upstreamPort: number) {
    const pairs = this.pairs;
    this.listener = Bun.listen<Pair>({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        open: (client) => {
          if (this.cut) return void client.end();
          const pair: Pair = { client, pending: [] };
          client.data = pair;
          pairs.add(pair);
          void Bun.connect({
            hostname: '127.0.0.1',
            port: upstreamPort,
            socket: {
              open(upstream) {
                pair.upstream = upstream;
                for (const chunk of pair.pending) upstream.write(chunk);
                pair.pending = [];
              },
              data(_upstream, chunk) {
                pair.client.write(chunk);
              },
              close() {
                pair.client.end();
              },
              error() {
                pair.client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          const pair = client.data;
          if (pair.upstream) pair.upstream.write(chunk);
          else pair.pending.push(Buffer.from(chunk));
        },
        close(client) {
          const pair = client.data;
          if (!pair) return;
          pair.upstream?.end();
          pairs.delete(pair);
        },
      },
    });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.listener.port}`;
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const pair of this.pairs) pair.client.end();
  }

  close(): void {
    this.setCut(true);
    this.listener.stop(true);
  }
}
interface Pair {
  client: Bun.Socket<Pair>;
  upstream?: Bun.TCPSocket;
  pending: Buffer[];
}

describeRedis('RedisDirectory on a real redis-server', () => {
  beforeAll(async () => {
    shared = await RedisServer.start();
  });

  test('nodes register, list each other with their free slots, and drop out when stopped', async () => {
    const prefix = freshPrefix();
    const a = directory(shared.url, 'node-a', prefix);
    const b = directory(shared.url, 'node-b', prefix);
    const load = { live: 1 };
    await a.start(selfInfo('node-a', load));
    await b.start(selfInfo('node-b'));
    expect(a.available).toBe(true);
    const seen = await b.nodes();
    expect(seen.map((n) => n.nodeId)).toEqual(['node-a', 'node-b']);
    expect(seen[0]).toEqual({ nodeId: 'node-a', apiUrl: 'http://node-a.invalid:1', live: 1, maxGames: 8, draining: false });
    load.live = 5;
    await waitFor(async () => (await b.node('node-a'))?.live === 5, 3000, 'the next beat carries the new count');
    expect(await b.node('nobody')).toBeUndefined();
    expect(await b.node('not a valid id')).toBeUndefined();

    await a.stop();
    expect(await b.node('node-a')).toBeUndefined();
    expect((await b.nodes()).map((n) => n.nodeId)).toEqual(['node-b']);
    expect(a.available).toBe(false);
    const afterStop = await timed(() => a.nodes());
    expect(afterStop.error).toBeInstanceOf(ClusterUnavailableError);
    expect((afterStop.error as Error).message).toContain('stopped');
  });

  test('passcodes are unique across nodes and only their holder releases them', async () => {
    const prefix = freshPrefix();
    const a = directory(shared.url, 'node-a', prefix);
    const b = directory(shared.url, 'node-b', prefix);
    await Promise.all([a.start(selfInfo('node-a')), b.start(selfInfo('node-b'))]);

    expect(await a.reservePasscode('K7Q2ZX', 'game-a')).toBe(true);
    expect(await b.reservePasscode('K7Q2ZX', 'game-b')).toBe(false);
    expect(await a.reservePasscode('K7Q2ZX', 'game-a')).toBe(true); // a retry by the holder
    expect(await b.passcodeRoute('K7Q2ZX')).toEqual({ gameId: 'game-a', nodeId: 'node-a' });
    expect(await b.passcodeRoute('000000')).toBeUndefined();

    await b.releasePasscode('K7Q2ZX', 'game-b'); // not the holder: nothing happens
    expect(await a.passcodeRoute('K7Q2ZX')).toEqual({ gameId: 'game-a', nodeId: 'node-a' });
    await a.releasePasscode('K7Q2ZX', 'game-a');
    expect(await b.passcodeRoute('K7Q2ZX')).toBeUndefined();
    expect(await b.reservePasscode('K7Q2ZX', 'game-b')).toBe(true);
    expect(await a.passcodeRoute('K7Q2ZX')).toEqual({ gameId: 'game-b', nodeId: 'node-b' });

    // Many nodes racing for the same codes: each code has exactly one winner.
    const c = directory(shared.url, 'node-c', prefix);
    await c.start(selfInfo('node-c'));
    const codes = Array.from({ length: 20 }, (_, i) => `RACE${String(i).padStart(2, '0')}`);
    const wins = await Promise.all(codes.flatMap((code) => [a, b, c].map((d, i) => d.reservePasscode(code, `race-${i}-${code}`))));
    for (let i = 0; i < codes.length; i++) expect(wins.slice(i * 3, i * 3 + 3).filter(Boolean)).toHaveLength(1);
  });

  test('key routes and game summaries answer from any node; an ended summary stays ended', async () => {
    const prefix = freshPrefix();
    const a = directory(shared.url, 'node-a', prefix);
    const b = directory(shared.url, 'node-b', prefix);
    await Promise.all([a.start(selfInfo('node-a')), b.start(selfInfo('node-b'))]);

    const rejoin = keyRoute('rejoin-key-of-seat-1');
    const watch = keyRoute('watch-key');
    await a.publishKeyRoutes('game-1', [rejoin, watch]);
    expect(await b.keyRoute(rejoin)).toEqual({ gameId: 'game-1', nodeId: 'node-a' });
    expect(await b.keyRoute(watch)).toEqual({ gameId: 'game-1', nodeId: 'node-a' });
    expect(await b.keyRoute(keyRoute('unknown'))).toBeUndefined();
    expect(await b.keyRoute('not-a-hash')).toBeUndefined();
    await expect(a.publishKeyRoutes('game-1', ['a-raw-key'])).rejects.toThrow(TypeError);

    const summary = { gameId: 'game-1', nodeId: 'node-a', state: 'lobby' as const, endReason: null, createdAt: 1_733_000_000_123 };
    await a.publishGame(summary);
    expect(await b.game('game-1')).toEqual(summary);
    await a.publishGame({ ...summary, state: 'finished', endReason: 'round_over' });
    expect(await b.game('game-1')).toEqual({ ...summary, state: 'finished', endReason: 'round_over' });
    await a.publishGame({ ...summary, state: 'in_progress' }); // late, out of order
    expect((await b.game('game-1'))?.state).toBe('finished');
    expect(await b.game('game-none')).toBeUndefined();
    const described = { gameId: 'game-2', nodeId: 'node-a', state: 'lobby' as const, endReason: null, createdAt: 7, maxPlayers: 4, difficulty: 'hard' as const };
    await a.publishGame(described);
    expect(await b.game('game-2')).toEqual(described);
    await a.publishGame({ ...described, gameId: 'game-3', difficulty: null });
    expect(await b.game('game-3')).toEqual({ ...described, gameId: 'game-3', difficulty: null });
    await expect(a.publishGame({ ...summary, gameId: 'bad id' })).rejects.toThrow(TypeError);
  });

  test('results and the cluster leaderboard answer as one ResultsStore holding every node\'s rounds', async () => {
    const prefix = freshPrefix();
    const nodes = ['node-a', 'node-b', 'node-c'].map((id) => directory(shared.url, id, prefix));
    await Promise.all(nodes.map((d) => d.start(selfInfo(d.nodeId))));

    const store = new ResultsStore(':memory:');
    try {
      const random = seededRandom(10);
      const names = ['ana', 'bo', 'cy', 'dee', 'ed: the "great"', 'fé'];
      const ids: string[] = [];
      for (let g = 0; g < 40; g++) {
        const gameId = `g${g}`;
        ids.push(gameId);
        const players = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => ({
          name: names[Math.floor(random() * names.length)] as string,
          score: Math.floor(random() * 6) * 10, // few distinct scores: many ties within and across rounds
          left: i === 1 && random() < 0.5,
        }));
        store.saveGame({
          gameId,
          name: `round ${g}`,
          difficulty: DIFFICULTIES[g % DIFFICULTIES.length] as StoredGame['difficulty'],
          maxPlayers: 4,
          // Distinct times (SQLite orders equal score and time by nothing); some rounds share a score and come later.
          finishedAt: 1_733_000_000_000 + Math.floor(random() * 1000) * 1000 + g,
          outcome: random() < 0.2 ? 'abandoned' : 'finished',
          results: players,
        });
      }
      // Each round's copy is published by one node (some twice: publishing is idempotent).
      for (const [i, gameId] of ids.entries()) {
        const stored = store.getGame(gameId) as StoredGame;
        await (nodes[i % 3] as RedisDirectory).publishResults(stored);
        if (i % 5 === 0) await (nodes[(i + 1) % 3] as RedisDirectory).publishResults(stored);
      }
      for (const gameId of ids) expect(await (nodes[1] as RedisDirectory).results(gameId)).toEqual(store.getGame(gameId) as StoredGame);
      expect(await (nodes[0] as RedisDirectory).results('g-missing')).toBeUndefined();
      for (const difficulty of DIFFICULTIES) {
        for (const limit of [1, 3, 7, 100]) {
          const expected = store.leaderboard(difficulty, limit);
          expect(expected.length).toBeGreaterThan(0);
          for (const d of nodes) expect(await d.leaderboard(difficulty, limit)).toEqual(expected);
        }
      }
      expect(await (nodes[0] as RedisDirectory).leaderboard('easy', 0)).toEqual([]);
    } finally {
      store.close();
    }
  });

  test('a node that stops beating is lost within 5 s: games failed (node_lost), passcodes and routes gone, reaped once', async () => {
    const prefix = freshPrefix();
    const logs = [recordingLogger(), recordingLogger(), recordingLogger()];
    const [a, b, c] = ['node-a', 'node-b', 'node-c'].map((id, i) => directory(shared.url, id, prefix, { logger: logs[i] })) as [RedisDirectory, RedisDirectory, RedisDirectory];
    await Promise.all([a.start(selfInfo('node-a')), b.start(selfInfo('node-b')), c.start(selfInfo('node-c'))]);

    const created = 1_733_000_000_000;
    await a.publishGame({ gameId: 'a-lobby', nodeId: 'node-a', state: 'lobby', endReason: null, createdAt: created });
    await a.publishGame({ gameId: 'a-playing', nodeId: 'node-a', state: 'in_progress', endReason: null, createdAt: created });
    await a.publishGame({ gameId: 'a-done', nodeId: 'node-a', state: 'finished', endReason: null, createdAt: created });
    expect(await a.reservePasscode('AAAAAA', 'a-lobby')).toBe(true);
    await a.publishKeyRoutes('a-playing', [keyRoute('rejoin-a')]);
    await b.publishGame({ gameId: 'b-lobby', nodeId: 'node-b', state: 'lobby', endReason: null, createdAt: created });
    expect(await b.reservePasscode('BBBBBB', 'b-lobby')).toBe(true);

    // The moment of the "kill": A beats no more and cleans nothing up (its heartbeat key expires by itself).
    const killedAt = performance.now();
    await a.stop({ keepHeartbeat: true });
    await waitFor(async () => (await b.game('a-playing'))?.state === 'failed', 6000, 'node A declared lost');
    const lostAfterMs = performance.now() - killedAt;
    console.log(`node loss: games failed ${Math.round(lostAfterMs)} ms after the node's last beat`);
    expect(lostAfterMs).toBeLessThan(5000);

    expect(await c.game('a-lobby')).toMatchObject({ state: 'failed', endReason: 'node_lost' });
    expect(await c.game('a-playing')).toMatchObject({ state: 'failed', endReason: 'node_lost' });
    expect(await c.game('a-done')).toMatchObject({ state: 'finished', endReason: null });
    expect(await c.passcodeRoute('AAAAAA')).toBeUndefined();
    expect(await c.keyRoute(keyRoute('rejoin-a'))).toBeUndefined();
    expect((await c.nodes()).map((n) => n.nodeId)).toEqual(['node-b', 'node-c']);
    // The other nodes and their games go on.
    expect(await c.passcodeRoute('BBBBBB')).toEqual({ gameId: 'b-lobby', nodeId: 'node-b' });
    expect((await c.game('b-lobby'))?.state).toBe('lobby');
    await Bun.sleep(1200); // give a second reaper every chance to act twice
    const reaped = logs.flatMap((l) => l.events).filter((e) => e === 'cluster.node_lost');
    expect(reaped).toHaveLength(1);
  }, 15_000);

  test('a node cut off from Redis is told which of its games the cluster declared lost, and comes back', async () => {
    const prefix = freshPrefix();
    const proxy = new CuttableProxy(shared.port);
    proxies.push(proxy);
    const a = directory(proxy.url, 'node-a', prefix);
    const b = directory(shared.url, 'node-b', prefix);
    const lost: string[][] = [];
    let reconnects = 0;
    a.onGamesLost((ids) => lost.push(ids));
    a.onReconnect(() => reconnects++);
    await Promise.all([a.start(selfInfo('node-a')), b.start(selfInfo('node-b'))]);
    expect(reconnects).toBe(1);

    await a.publishGame({ gameId: 'cut-1', nodeId: 'node-a', state: 'in_progress', endReason: null, createdAt: 1 });
    await a.publishGame({ gameId: 'cut-2', nodeId: 'node-a', state: 'lobby', endReason: null, createdAt: 2 });
    await a.publishGame({ gameId: 'cut-3', nodeId: 'node-a', state: 'finished', endReason: null, createdAt: 3 });
    expect(await a.reservePasscode('CCCCCC', 'cut-2')).toBe(true);

    proxy.setCut(true);
    const whileCut = await timed(() => a.game('cut-1'));
    expect(whileCut.error).toBeInstanceOf(ClusterUnavailableError);
    expect(whileCut.ms).toBeLessThan(1100);
    await waitFor(() => !a.available, 1500, 'A sees its link down');
    await waitFor(async () => (await b.game('cut-1'))?.state === 'failed', 6000, 'B declares A lost');
    expect(await b.passcodeRoute('CCCCCC')).toBeUndefined();
    expect(lost).toEqual([]);

    proxy.setCut(false);
    await waitFor(() => lost.length > 0, 4000, 'A hears its games were lost');
    expect(lost).toEqual([[...lost[0] as string[]]]);
    expect([...(lost[0] as string[])].sort()).toEqual(['cut-1', 'cut-2']);
    expect(a.available).toBe(true);
    await waitFor(() => reconnects === 2, 2000, 'onReconnect after the link is back');
    await waitFor(async () => (await b.nodes()).some((n) => n.nodeId === 'node-a'), 2000, 'A is a member again');
    await Bun.sleep(1500);
    expect(lost).toHaveLength(1); // told once
  }, 20_000);

  test('a node restarted before anyone noticed fails only the games it no longer runs, once (node_restarted)', async () => {
    const prefix = freshPrefix();
    const before = directory(shared.url, 'node-a', prefix);
    const b = directory(shared.url, 'node-b', prefix);
    await Promise.all([before.start(selfInfo('node-a')), b.start(selfInfo('node-b'))]);
    const summary = (gameId: string, state: 'lobby' | 'in_progress' | 'finished' | 'failed', endReason: string | null = null) =>
      ({ gameId, nodeId: 'node-a', state, endReason, createdAt: 1_733_000_000_000, maxPlayers: 4, difficulty: null });
    await before.publishGame(summary('gone-lobby', 'lobby'));
    await before.publishGame(summary('gone-playing', 'in_progress'));
    await before.publishGame(summary('kept', 'in_progress'));
    expect(await before.reservePasscode('GONE01', 'gone-lobby')).toBe(true);
    expect(await before.reservePasscode('KEPT01', 'kept')).toBe(true);
    await before.publishKeyRoutes('gone-playing', [keyRoute('rejoin-gone')]);
    await before.publishKeyRoutes('kept', [keyRoute('rejoin-kept')]);
    // A finished game whose rejoin key still routes (its chain plays on), and one that had already failed.
    await before.publishGame(summary('done', 'finished', 'round_over'));
    await before.publishKeyRoutes('done', [keyRoute('rejoin-done')]);
    await before.publishGame(summary('broke', 'failed', 'worker_crashed'));
    // A passcode of A's game that another game took over since (it must not be deleted on A's behalf).
    expect(await before.reservePasscode('MOVED1', 'gone-lobby')).toBe(true);
    await before.releasePasscode('MOVED1', 'gone-lobby');
    expect(await b.reservePasscode('MOVED1', 'b-game')).toBe(true);
    await shared.command('SADD', [`${prefix}game:gone-lobby:passcodes`, keyRoute('MOVED1')]);
    // B's games are none of A's business.
    await b.publishGame({ ...summary('b-game', 'lobby'), nodeId: 'node-b' });

    // kill -9 and an immediate restart: the heartbeat never lapsed, the same id comes back.
    await before.stop({ keepHeartbeat: true });
    const after = directory(shared.url, 'node-a', prefix);
    await after.start(selfInfo('node-a'));
    expect(await after.reconcile(['kept'])).toBe(2);

    expect(await b.game('gone-lobby')).toMatchObject({ state: 'failed', endReason: 'node_restarted', nodeId: 'node-a', maxPlayers: 4 });
    expect(await b.game('gone-playing')).toMatchObject({ state: 'failed', endReason: 'node_restarted' });
    expect(await b.passcodeRoute('GONE01')).toBeUndefined();
    expect(await b.keyRoute(keyRoute('rejoin-gone'))).toBeUndefined();
    expect(await b.passcodeRoute('MOVED1')).toEqual({ gameId: 'b-game', nodeId: 'node-b' });
    // What A still runs, and what had ended, stay as they were.
    expect(await b.game('kept')).toEqual(summary('kept', 'in_progress'));
    expect(await b.passcodeRoute('KEPT01')).toEqual({ gameId: 'kept', nodeId: 'node-a' });
    expect(await b.keyRoute(keyRoute('rejoin-kept'))).toEqual({ gameId: 'kept', nodeId: 'node-a' });
    expect(await b.game('done')).toEqual(summary('done', 'finished', 'round_over'));
    expect(await b.keyRoute(keyRoute('rejoin-done'))).toEqual({ gameId: 'done', nodeId: 'node-a' });
    expect(await b.game('broke')).toEqual(summary('broke', 'failed', 'worker_crashed'));
    expect((await b.game('b-game'))?.state).toBe('lobby');
    expect(((await shared.command('SMEMBERS', [`${prefix}node:node-a:games`])) as string[]).sort()).toEqual(['kept']);

    // Idempotent: a second call (the next reconnection's republish) finds nothing more to do.
    expect(await after.reconcile(['kept'])).toBe(0);
    expect(await b.game('gone-lobby')).toMatchObject({ state: 'failed', endReason: 'node_restarted' });
    expect(await b.game('kept')).toEqual(summary('kept', 'in_progress'));
    // The node was never reaped: nobody else declared its games lost.
    expect((await b.nodes()).map((n) => n.nodeId)).toEqual(['node-a', 'node-b']);
    await expect(after.reconcile(['not an id'])).rejects.toThrow(TypeError);
  });

  test('no secret ever reaches Redis: every key and value scanned after a scenario', async () => {
    const server = await RedisServer.start();
    const secrets = ['rejoin-0f9e8d7c6b5a', 'watch-1a2b3c4d5e6f', 'invite-aabbccddeeff', 'K9PASS'];
    const a = directory(server.url, 'node-a', 'huddle:');
    const b = directory(server.url, 'node-b', 'huddle:');
    await Promise.all([a.start(selfInfo('node-a')), b.start(selfInfo('node-b'))]);
    expect(await a.reservePasscode(secrets[3] as string, 'g1')).toBe(true);
    await a.publishKeyRoutes('g1', secrets.slice(0, 3).map(keyRoute));
    await a.publishGame({ gameId: 'g1', nodeId: 'node-a', state: 'finished', endReason: null, createdAt: 5 });
    await a.publishResults({ gameId: 'g1', name: 'friday', difficulty: 'easy', maxPlayers: 2, finishedAt: 9, outcome: 'finished', players: [{ rank: 1, name: 'ana', score: 3, left: false }] });
    // The routes really are there (so the scan below scans something).
    expect(await b.keyRoute(keyRoute(secrets[0] as string))).toEqual({ gameId: 'g1', nodeId: 'node-a' });
    expect(await b.passcodeRoute(secrets[3] as string)).toEqual({ gameId: 'g1', nodeId: 'node-a' });

    const everything = await server.dump();
    expect(everything.size).toBeGreaterThan(8);
    for (const [key, value] of everything) {
      expect(key.startsWith('huddle:')).toBe(true);
      for (const secret of secrets) {
        expect(key).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
  });
});

describeRedis('RedisDirectory when Redis fails', () => {
  test('Redis killed: calls reject within ~1 s, available is false; restarted empty: it re-registers and onReconnect fires', async () => {
    const server = await RedisServer.start();
    const prefix = freshPrefix();
    const a = directory(server.url, 'node-a', prefix);
    const b = directory(server.url, 'node-b', prefix);
    let reconnects = 0;
    a.onReconnect(() => reconnects++);
    await Promise.all([a.start(selfInfo('node-a')), b.start(selfInfo('node-b'))]);
    expect(reconnects).toBe(1);

    await server.kill();
    for (const call of [() => a.nodes(), () => a.reservePasscode('DDDDDD', 'g'), () => a.leaderboard('easy', 10)]) {
      const { ms, error } = await timed(call);
      expect(error).toBeInstanceOf(ClusterUnavailableError);
      expect(ms).toBeLessThan(1100);
    }
    await waitFor(() => !a.available && !b.available, 1500, 'both see Redis gone');
    await Bun.sleep(1500); // a real outage, longer than a beat

    await server.restart();
    const backAfterMs = await waitFor(() => a.available && b.available, 3000, 'both reconnect');
    console.log(`redis restarted: both nodes available again ${Math.round(backAfterMs)} ms after it answered`);
    await waitFor(() => reconnects === 2, 2000, 'onReconnect after the restart');
    await waitFor(async () => (await a.nodes()).length === 2, 2000, 'both registered in the empty Redis');
    expect(await a.reservePasscode('DDDDDD', 'g')).toBe(true);
  }, 20_000);

  test('a start while Redis is down rejects in bounded time and the node registers once Redis is up', async () => {
    const server = await RedisServer.start();
    await server.kill();
    const prefix = freshPrefix();
    const a = directory(server.url, 'node-a', prefix);
    let reconnects = 0;
    a.onReconnect(() => reconnects++);
    const start = await timed(() => a.start(selfInfo('node-a')));
    expect(start.error).toBeInstanceOf(ClusterUnavailableError);
    expect(start.ms).toBeLessThan(2500);
    await server.restart();
    await waitFor(() => reconnects === 1, 3000, 'registered once Redis answers');
    expect((await a.nodes()).map((n) => n.nodeId)).toEqual(['node-a']);
  }, 15_000);

  test('a stop while the start still waits for Redis ends the start at once (no timer outlives the stop)', async () => {
    const server = await RedisServer.start();
    await server.kill();
    const a = directory(server.url, 'node-a', freshPrefix());
    const starting = timed(() => a.start(selfInfo('node-a')));
    await Bun.sleep(100);
    await a.stop();
    const start = await starting;
    expect(start.error).toBeInstanceOf(ClusterUnavailableError);
    expect(start.ms).toBeLessThan(1000);
  }, 10_000);

  test('Redis frozen for 10 s (SIGSTOP): calls reject within ~1 s, and after SIGCONT no node is declared lost', async () => {
    const server = await RedisServer.start();
    const prefix = freshPrefix();
    const logs = [recordingLogger(), recordingLogger(), recordingLogger()];
    const ids = ['node-a', 'node-b', 'node-c'];
    // Node C's route to Redis breaks during the freeze and comes back 2.5 s after the thaw (as a node with a longer
    // reconnect backoff would): its heartbeat, expired at the thaw and not refreshed by beats queued meanwhile, must
    // not make it lost while the others have only just come back themselves.
    const proxy = new CuttableProxy(server.port);
    proxies.push(proxy);
    const nodes = ids.map((id, i) => directory(i === 2 ? proxy.url : server.url, id, prefix, { logger: logs[i] }));
    const lost: string[][] = [];
    for (const d of nodes) d.onGamesLost((games) => lost.push(games));
    await Promise.all(nodes.map((d) => d.start(selfInfo(d.nodeId))));
    for (const [i, d] of nodes.entries()) {
      await d.publishGame({ gameId: `frozen-${i}`, nodeId: d.nodeId, state: 'in_progress', endReason: null, createdAt: i });
      expect(await d.reservePasscode(`FRZ00${i}`, `frozen-${i}`)).toBe(true);
    }

    server.pause();
    proxy.setCut(true);
    try {
      const { ms, error } = await timed(() => (nodes[0] as RedisDirectory).game('frozen-0'));
      expect(error).toBeInstanceOf(ClusterUnavailableError);
      expect(ms).toBeLessThan(1100);
      await waitFor(() => nodes.every((d) => !d.available), 2500, 'every node sees Redis unresponsive');
      await Bun.sleep(10_000 - 1000);
    } finally {
      server.resume();
    }
    await Bun.sleep(2500);
    proxy.setCut(false);
    await waitFor(() => nodes.every((d) => d.available), 4000, 'every node reconnects');
    await Bun.sleep(6000); // longer than the TTL, the confirmation and the settling time together

    const reader = nodes[0] as RedisDirectory;
    expect((await reader.nodes()).map((n) => n.nodeId)).toEqual(ids);
    for (const [i] of nodes.entries()) {
      expect((await reader.game(`frozen-${i}`))?.state).toBe('in_progress');
      expect(await reader.passcodeRoute(`FRZ00${i}`)).toEqual({ gameId: `frozen-${i}`, nodeId: ids[i] as string });
    }
    expect(lost).toEqual([]);
    expect(logs.flatMap((l) => l.events).filter((e) => e === 'cluster.node_lost')).toEqual([]);
  }, 30_000);
});
