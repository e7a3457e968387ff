/**
 * The cluster end to end: a real redis-server, real `huddle serve` processes on 127.0.0.1 (each its own --port,
 * --game-ports, --data-dir, --redis-url, --node-url) and `huddle bot` players over real UDP. Create on A, join on
 * B, play a round, results and leaderboards from both; kill -9 A mid-round; stop Redis for 10 s mid-round; and
 * what Redis holds afterwards (no private key, reporting token or seat key, scanned key by key).
 */
import { afterAll, afterEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { BunWorkerLauncher, type GameHandle, type GameLauncher, type LaunchSpec, type LauncherEvent } from '../../src/workers/launcher.ts';
import { runBot } from '../../src/bot.ts';
import { freePortRange } from '../matchmaker/support/env.ts';
import { describeRedis, RedisServer, stopAllRedis } from '../support/redis-server.ts';
import { api, bot, eventually, killAll, serveNode } from './support.ts';

afterEach(async () => {
  await killAll();
  await stopAllRedis();
});
afterAll(stopAllRedis);

type Board = { hard: { name: string }[] };

describeRedis('the cluster, end to end', () => {
  test('create on A, join on B, play a round; results and leaderboards from both', async () => {
    const redis = await RedisServer.start();
    const [a, b] = await Promise.all([serveNode(redis.url, ['--round-seconds', '3']), serveNode(redis.url, ['--round-seconds', '3'])]);
    const host = bot(a.url, ['--name', 'host', '--create', '--start', 'hard', '--start-when', '2']);
    const created = await host.next('created');
    // The guest asks B, which does not host the game: its ticket names A's UDP port.
    const guest = bot(b.url, ['--name', 'guest', '--join', created.passcode!]);
    expect((await guest.next('joined')).gameId).toBe(created.gameId);
    expect(await Promise.all([host.exited, guest.exited])).toEqual([0, 0]);
    for (const url of [a.url, b.url]) {
      const results = await eventually(async () => {
        const r = await api(url, `/api/games/${created.gameId}/results`);
        return r.status === 200 ? r.body : undefined;
      }, 5000, `results on ${url}`);
      expect((results.players as { name: string }[]).map((p) => p.name).sort()).toEqual(['guest', 'host']);
      const board = (await api(url, '/api/leaderboard')).body as unknown as Board;
      expect(board.hard.map((e) => e.name).sort()).toEqual(['guest', 'host']);
    }
  }, 60_000);

  test('kill -9 A mid-round: its games failed (node_lost) on B within 5 s, its passcode 404, B keeps serving', async () => {
    const redis = await RedisServer.start();
    const [a, b] = await Promise.all([serveNode(redis.url, ['--round-seconds', '30']), serveNode(redis.url)]);
    const lobby = await api(a.url, '/api/games', { name: 'waiting' });
    expect(lobby.status).toBe(201);
    const host = bot(a.url, ['--name', 'host', '--create', '--start', 'easy', '--start-when', '1']);
    const created = await host.next('created');
    await host.next('started');
    expect((await api(b.url, `/api/games/${created.gameId}`)).body.state).toBe('in_progress');
    const passcode = String(lobby.body.passcode);
    expect((await api(b.url, '/api/games/join', { passcode, name: 'early' })).status).toBe(200);

    await a.kill9();
    const killed = Date.now();
    for (const gameId of [created.gameId!, String(lobby.body.gameId)]) {
      const status = await eventually(async () => {
        const s = await api(b.url, `/api/games/${gameId}`);
        return s.body.state === 'failed' ? s.body : undefined;
      }, 5000 - (Date.now() - killed), `game ${gameId} failed on B`);
      expect(status.endReason).toBe('node_lost');
    }
    expect(Date.now() - killed).toBeLessThan(5000);
    const refused = await api(b.url, '/api/games/join', { passcode, name: 'late' });
    expect(refused.status).toBe(404);
    expect(refused.body.error?.code).toBe('wrong_passcode');
    const fresh = await api(b.url, '/api/games', { name: 'B goes on' });
    expect(fresh.status).toBe(201);
    expect((await api(b.url, '/api/games/join', { passcode: fresh.body.passcode, name: 'x' })).status).toBe(200);
    host.kill();
  }, 60_000);

  test('Redis stopped for 10 s mid-round: the round finishes and is stored; B sees its results once Redis is back (empty)', async () => {
    const redis = await RedisServer.start();
    const [a, b] = await Promise.all([serveNode(redis.url, ['--round-seconds', '6']), serveNode(redis.url)]);
    const host = bot(a.url, ['--name', 'host', '--create', '--start', 'hard', '--start-when', '2']);
    const created = await host.next('created');
    const guest = bot(b.url, ['--name', 'guest', '--join', created.passcode!]);
    await host.next('started');
    await redis.stop();
    const down = Date.now();
    // New games are refused while the store is away (once the node has noticed).
    const refused = await eventually(async () => {
      const r = await api(a.url, '/api/games', { name: 'new' });
      return r.status === 503 ? r.body : undefined;
    }, 5000, 'a 503 for a create while Redis is down');
    expect(refused.error?.code).toBe('cluster_unavailable');
    expect(await Promise.all([host.exited, guest.exited])).toEqual([0, 0]);
    const stored = await api(a.url, `/api/games/${created.gameId}/results`);
    expect(stored.status).toBe(200);
    expect(Date.now() - down).toBeLessThan(10_000);
    await Bun.sleep(10_000 - (Date.now() - down));
    await redis.restart();
    const results = await eventually(async () => {
      const r = await api(b.url, `/api/games/${created.gameId}/results`);
      return r.status === 200 ? r.body : undefined;
    }, 10_000, 'the results on B after Redis is back');
    expect((results.players as { name: string }[]).map((p) => p.name).sort()).toEqual(['guest', 'host']);
    const board = (await api(b.url, '/api/leaderboard')).body as unknown as Board;
    expect(board.hard.map((e) => e.name).sort()).toEqual(['guest', 'host']);
    // And the node takes new games again, by itself.
    await eventually(async () => ((await api(a.url, '/api/games', { name: 'again' })).status === 201 ? true : undefined), 5000, 'creates again');
  }, 60_000);
});

/** Real workers, remembering every game's secrets so the scan knows what to look for. */
class SecretsLauncher implements GameLauncher {
  readonly specs: LaunchSpec[] = [];
  private readonly inner = new BunWorkerLauncher();
  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    this.specs.push(spec);
    return this.inner.launch(spec, onEvent);
  }
}

const servers: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeRedis('what Redis holds', () => {
  test('after seats handed out on both nodes and a round of bots through B: no private key, reporting token or seat key anywhere', async () => {
    const redis = await RedisServer.start();
    const launchers = [new SecretsLauncher(), new SecretsLauncher()];
    for (const launcher of launchers) {
      const dir = mkdtempSync(join(tmpdir(), 'huddle-scan-'));
      dirs.push(dir);
      servers.push(
        await startServer({
          config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: dir, gamePorts: await freePortRange(4), maxGames: 4, roundSeconds: 2, redisUrl: redis.url },
          launcher,
        }),
      );
    }
    const [a, b] = servers as [RunningServer, RunningServer];
    const keys: string[] = [];
    const remember = (body: Record<string, unknown>) => {
      for (const field of ['rejoinKey', 'watchKey']) if (typeof body[field] === 'string') keys.push(body[field] as string);
      if (typeof body.inviteUrl === 'string') keys.push(new URL(body.inviteUrl).searchParams.get('invite')!);
    };
    const made = await api(a.localUrl, '/api/games', { name: 'Ada' });
    remember(made.body);
    await Bun.sleep(100);
    const joined = await api(b.localUrl, '/api/games/join', { passcode: made.body.passcode, name: 'Bo' });
    expect(joined.status).toBe(200);
    remember(joined.body);
    remember((await api(b.localUrl, '/api/games/rejoin', { rejoinKey: made.body.rejoinKey })).body);
    // A whole round with bots through B, then results everywhere.
    const outcomes = await Promise.all([
      runBot({ server: a.localUrl, name: 'host', mode: { create: {} }, start: 'normal', startWhenPlayers: 2, timeoutSeconds: 30, onEvent: () => {} }),
      (async () => {
        for (let i = 0; i < 50 && launchers[0]!.specs.length < 2; i++) await Bun.sleep(50);
        const passcode = await eventually(async () => {
          const live = a.registry.observedGames().find((g) => g.id === launchers[0]!.specs[1]?.env.gameId);
          return live?.state === 'lobby' ? live.passcode : undefined;
        }, 5000, 'the bot game');
        return runBot({ server: b.localUrl, name: 'guest', mode: { join: passcode }, timeoutSeconds: 30 });
      })(),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    await Promise.all(servers.map((s) => s.cluster.publisher.idle()));
    const dump = await redis.dump();
    expect(dump.size).toBeGreaterThan(5);
    const everything = [...dump].map(([k, v]) => `${k} ${v}`).join('\n');
    const secrets = launchers.flatMap((l) => l.specs).flatMap((spec) => {
      const token = Buffer.from(spec.env.reportToken, 'base64url');
      const key = Buffer.from(spec.env.privateKey);
      return [spec.env.reportToken, token.toString('hex'), token.toString('base64'), key.toString('hex'), key.toString('base64'), key.toString('base64url')];
    });
    expect(secrets.length).toBeGreaterThanOrEqual(12);
    expect(keys.length).toBeGreaterThanOrEqual(9);
    for (const secret of [...secrets, ...keys]) expect(everything.includes(secret)).toBe(false);
  }, 60_000);
});
