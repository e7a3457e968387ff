/**
 * A node restarted before the cluster noticed, end to end: real redis-server, real `huddle serve` processes. Node A
 * (worker launcher) hosts a lobby game, is killed -9 and started again at once on the same data directory (so the
 * same node id) and ports, well within the ~4 s before B would reap it. Its game died with it: B must read it
 * `failed` / `node_restarted` within a few seconds and its passcode must admit nowhere. Every child and Redis
 * started here is killed in afterEach.
 */
import { afterAll, afterEach, expect, test } from 'bun:test';
import { describeRedis, RedisServer, stopAllRedis } from '../support/redis-server.ts';
import { api, bot, eventually, killAll, ServeNode, serveNode } from './support.ts';

afterEach(async () => {
  await killAll();
  await stopAllRedis();
});
afterAll(stopAllRedis);

describeRedis('a node restarted before the cluster noticed', () => {
  test('kill -9 A and start it again at once (worker launcher): B reads its old lobby game failed / node_restarted, its passcode 404', async () => {
    const redis = await RedisServer.start();
    const a = await ServeNode.create(redis.url, ['--launcher', 'worker']);
    const [, b] = await Promise.all([a.start(), serveNode(redis.url)]);

    const lobby = await api(a.url, '/api/games', { name: 'waiting' });
    expect(lobby.status).toBe(201);
    const gameId = String(lobby.body.gameId);
    const passcode = String(lobby.body.passcode);
    // B sees the game through A (forwarded) and its passcode admits through B.
    await eventually(async () => ((await api(b.url, `/api/games/${gameId}`)).body.state === 'lobby' ? true : undefined), 3000, 'the lobby on B');
    expect((await api(b.url, '/api/games/join', { passcode, name: 'early' })).status).toBe(200);

    await a.kill9();
    const killed = Date.now();
    await a.start();
    const restartedMs = Date.now() - killed;
    console.log(`node restart: A listening again ${restartedMs} ms after kill -9`);

    const status = await eventually(async () => {
      const s = await api(b.url, `/api/games/${gameId}`);
      return s.body.state === 'failed' ? s.body : undefined;
    }, 5000, `game ${gameId} failed on B`);
    const failedMs = Date.now() - killed;
    console.log(`node restart: the old game read failed on B ${failedMs} ms after kill -9`);
    // node_restarted, not node_lost: A came back before anyone reaped it, and failed the game itself.
    expect(status.endReason).toBe('node_restarted');
    // What Redis holds says so too (the status above may be A's answer from a summary it has not yet reconciled).
    await eventually(async () => {
      const fields = (await redis.command('HGETALL', [`huddle:game:${gameId}`])) as Record<string, string>;
      return fields.state === 'failed' && fields.endReason === 'node_restarted' ? true : undefined;
    }, 3000, 'the summary in Redis failed / node_restarted');
    await eventually(async () => (a.log.includes('"event":"cluster.games_restarted"') ? true : undefined), 2000, 'A logging cluster.games_restarted');
    expect(await redis.command('SMEMBERS', [`huddle:node:${a.nodeId()}:games`])).toEqual([]);
    const refused = await api(b.url, '/api/games/join', { passcode, name: 'late' });
    expect(refused.status).toBe(404);
    expect(refused.body.error?.code).toBe('wrong_passcode');
    expect((await api(a.url, `/api/games/${gameId}`)).body).toMatchObject({ state: 'failed', endReason: 'node_restarted' });
    // The restarted node is a full member again: it takes games, and B admits to them.
    const fresh = await api(a.url, '/api/games', { name: 'A goes on' });
    expect(fresh.status).toBe(201);
    await eventually(async () => ((await api(b.url, '/api/games/join', { passcode: fresh.body.passcode, name: 'x' })).status === 200 ? true : undefined), 3000, 'a join on B of a new game on A');
    // And it still reads node_restarted a beat later (no reaper overwrote it).
    await Bun.sleep(1500);
    expect((await api(b.url, `/api/games/${gameId}`)).body).toMatchObject({ state: 'failed', endReason: 'node_restarted' });
  }, 60_000);

  test('a process-launcher node restarted under a round (SIGTERM detaches): the cluster keeps its game through the restart, the round finishes, B reads the results', async () => {
    const redis = await RedisServer.start();
    const a = await ServeNode.create(redis.url, ['--launcher', 'process', '--round-seconds', '14']);
    const [, b] = await Promise.all([a.start(), serveNode(redis.url)]);

    const host = bot(a.url, ['--name', 'host', '--create', '--start', 'normal', '--start-when', '2']);
    const created = await host.next('created');
    const gameId = created.gameId!;
    a.trackGame(gameId);
    const guest = bot(b.url, ['--name', 'guest', '--join', created.passcode!]);
    await guest.next('joined');
    await host.next('started');

    expect(await a.term()).toBe(0);
    const stopped = Date.now();
    // Longer than a killed node takes to be declared lost (~4 s): the detach's restart window holds the game.
    await Bun.sleep(6000);
    expect((await redis.command('HGETALL', [`huddle:game:${gameId}`])) as Record<string, string>).toMatchObject({ state: 'in_progress' });
    // While A is away its heartbeat says draining, so no node sends it a create.
    const beat = JSON.parse(String(await redis.command('GET', [`huddle:node:${a.nodeId()}`]))) as { draining: boolean };
    expect(beat.draining).toBe(true);

    await a.start();
    console.log(`cluster restart: A back ${Date.now() - stopped} ms after SIGTERM`);
    expect(a.log).toContain('"event":"server.adopted"');
    expect(await Promise.all([host.exited, guest.exited])).toEqual([0, 0]);
    const results = await eventually(async () => {
      const r = await api(b.url, `/api/games/${gameId}/results`);
      return r.status === 200 ? r.body : undefined;
    }, 10_000, 'the results on B');
    expect((results.players as { name: string }[]).map((p) => p.name).sort()).toEqual(['guest', 'host']);
    expect((await api(b.url, `/api/games/${gameId}`)).body).toMatchObject({ state: 'finished' });
  }, 90_000);
});
