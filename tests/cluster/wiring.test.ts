/**
 * The cluster wiring in-process: two or three real servers (HTTP on 127.0.0.1, fake game launchers) sharing an
 * in-memory directory (tests/support/fake-directory.ts). Forwarding, placement, loop prevention, the guess budget
 * on a miss, a lost node's games, the shared store down and back (empty or not), and what reaches it.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.ts';
import { FORWARDED_BY } from '../../src/matchmaker/cluster/forwarder.ts';
import { loadNodeId, NODE_ID_FILE, nodeApiUrl } from '../../src/matchmaker/cluster/node-identity.ts';
import { StartupCheckError } from '../../src/matchmaker/edge/startup-checks.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { FakeCluster } from '../support/fake-directory.ts';
import { FakeLauncher } from '../matchmaker/support/fake-launcher.ts';
import { waitFor } from '../matchmaker/support/env.ts';

interface Node {
  server: RunningServer;
  launcher: FakeLauncher;
  url: string;
  nodeId: string;
}

const dirs: string[] = [];
const servers: RunningServer[] = [];
let portBase = 30000 + Math.floor(Math.random() * 20000);

afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function node(cluster: FakeCluster, overrides: Partial<Config> = {}): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-cluster-'));
  dirs.push(dir);
  const launcher = new FakeLauncher();
  const first = (portBase += 10);
  const server = await startServer({
    config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: dir, gamePorts: { first, last: first + 9 }, maxGames: 4, joinFailuresPerAddress: 3, ...overrides },
    launcher,
    directory: (id) => cluster.directory(id),
  });
  servers.push(server);
  return { server, launcher, url: server.localUrl, nodeId: server.cluster.directory.nodeId };
}

type Answer = { status: number; body: Record<string, unknown> & { error?: { code: string; message?: string } }; headers: Headers };

async function call(url: string, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'], headers: response.headers };
}

const post = (n: Node, path: string, body: unknown, headers?: Record<string, string>) => call(n.url, 'POST', path, body, headers);
const get = (n: Node, path: string) => call(n.url, 'GET', path);
const metrics = async (n: Node) => (await fetch(`${n.url}/metrics`)).text();
const metric = (text: string, line: string) => Number(new RegExp(`^${line.replace(/[{}"=,.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

async function create(n: Node, name = 'Ada') {
  const answer = await post(n, '/api/games', { name });
  expect(answer.status).toBe(201);
  return answer.body as { gameId: string; passcode: string; port: number; rejoinKey: string; watchKey: string; inviteUrl: string; relayUrl: string };
}

/** Drives a fake game through a round with the reporting token its node gave it. */
async function playRound(n: Node, gameId: string, results: { name: string; score: number }[]) {
  const game = n.launcher.games.find((g) => g.spec.env.gameId === gameId)!;
  const auth = { authorization: `Bearer ${game.spec.env.reportToken}` };
  expect((await post(n, `/internal/games/${gameId}/report`, { status: 'in_progress', difficulty: 'hard' }, auth)).status).toBe(200);
  expect((await post(n, `/internal/games/${gameId}/report`, { status: 'finished', results }, auth)).status).toBe(200);
  game.exit('exiting', 'round_over');
}

const idle = (...nodes: Node[]) => Promise.all(nodes.map((n) => n.server.cluster.publisher.idle()));

describe('any node answers', () => {
  test('join, rejoin, watch, invite and status on B for a game A hosts: forwarded, the ticket names A, no guess spent', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const game = await create(a);
    await idle(a);

    const joined = await post(b, '/api/games/join', { passcode: game.passcode.toLowerCase(), name: 'Bo' });
    expect(joined.status).toBe(200);
    expect(joined.body.gameId).toBe(game.gameId);
    expect(joined.body.port).toBe(game.port);
    // Built by A from the request it received: A's relay, A's invite link.
    expect(joined.body.relayUrl).toBe(`ws://${new URL(a.url).host}/relay?game=${game.gameId}`);
    expect(String(joined.body.inviteUrl).startsWith(`${a.url}/?invite=`)).toBe(true);
    expect(a.server.registry.status(game.gameId).players).toBe(0);
    expect(a.launcher.games).toHaveLength(1);
    expect(b.launcher.games).toHaveLength(0);
    await idle(a);

    const rejoined = await post(b, '/api/games/rejoin', { rejoinKey: joined.body.rejoinKey });
    expect(rejoined.status).toBe(200);
    expect(rejoined.body.name).toBe('Bo');
    const watching = await post(b, '/api/games/watch', { watchKey: game.watchKey, name: 'Cy' });
    expect(watching.status).toBe(200);
    expect(watching.body.role).toBe('spectator');
    const invite = new URL(game.inviteUrl).searchParams.get('invite')!;
    const invited = await post(b, '/api/games/join', { invite, name: 'Di' });
    expect(invited.status).toBe(200);
    expect(invited.body.gameId).toBe(game.gameId);
    const status = await get(b, `/api/games/${game.gameId}`);
    expect(status.status).toBe(200);
    expect(status.body.state).toBe('lobby');

    const m = await metrics(b);
    expect(metric(m, 'huddle_cluster_forwarded_total{route="join",outcome="ok"}')).toBe(1);
    expect(metric(m, 'huddle_cluster_forwarded_total{route="rejoin",outcome="ok"}')).toBe(1);
    expect(metric(m, 'huddle_cluster_forwarded_total{route="watch",outcome="ok"}')).toBe(1);
    expect(metric(m, 'huddle_cluster_forwarded_total{route="invite",outcome="ok"}')).toBe(1);
    expect(metric(m, 'huddle_cluster_forwarded_total{route="status",outcome="ok"}')).toBe(1);
    expect(metric(m, 'huddle_cluster_available')).toBe(1);
    // A hit is not a guess, on either node.
    for (const n of [a, b]) expect(metric(await metrics(n), 'huddle_join_attempts_total{outcome="wrong_passcode"}')).toBe(0);
  });

  test('a miss everywhere is a wrong guess on the asked node only; its budget, once spent, answers 429 without a lookup', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const game = await create(a);
    await idle(a);
    for (let i = 0; i < 3; i++) expect((await post(b, '/api/games/join', { passcode: 'ZZZZZZ', name: 'x' })).body.error?.code).toBe('wrong_passcode');
    expect(metric(await metrics(b), 'huddle_join_attempts_total{outcome="wrong_passcode"}')).toBe(3);
    expect(metric(await metrics(a), 'huddle_join_attempts_total{outcome="wrong_passcode"}')).toBe(0);
    const lookups = cluster.view(b.nodeId)!.calls.get('passcodeRoute') ?? 0;
    // Spent: even A's right passcode gets 429 on B (the oracle the budget denies), and B does not look it up.
    const limited = await post(b, '/api/games/join', { passcode: game.passcode, name: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
    expect(cluster.view(b.nodeId)!.calls.get('passcodeRoute') ?? 0).toBe(lookups);
    // A right key is still served through B (keys are not held back by a spent budget).
    expect((await post(b, '/api/games/rejoin', { rejoinKey: game.rejoinKey })).status).toBe(200);
  });

  test('a forwarded request is answered where it lands, never forwarded again', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const game = await create(a);
    await idle(a);
    const looped = await post(b, '/api/games/join', { passcode: game.passcode, name: 'x' }, { [FORWARDED_BY]: a.nodeId });
    expect(looped.status).toBe(404);
    expect(looped.body.error?.code).toBe('wrong_passcode');
    expect(metric(await metrics(b), 'huddle_cluster_forwarded_total{route="join",outcome="ok"}')).toBe(0);
    expect((await call(b.url, 'GET', `/api/games/${game.gameId}`, undefined, { [FORWARDED_BY]: a.nodeId })).status).toBe(404);
  });

  test('create lands on the asked node while it has a slot, else on the node with the most free, else 503 capacity', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster, { maxGames: 1 });
    const b = await node(cluster, { maxGames: 2 });
    const c = await node(cluster, { maxGames: 3 });
    const first = await create(a);
    expect(a.server.registry.knows({ gameId: first.gameId })).toBe(true);
    await Bun.sleep(cluster.options.beatMs * 2);
    const second = await create(a);
    expect(c.server.registry.knows({ gameId: second.gameId })).toBe(true);
    expect(metric(await metrics(a), 'huddle_cluster_forwarded_total{route="create",outcome="ok"}')).toBe(1);
    // The forwarded create answers with C's ticket, joinable from anywhere.
    await idle(c);
    expect((await post(b, '/api/games/join', { passcode: second.passcode, name: 'x' })).body.gameId).toBe(second.gameId);
    for (let i = 0; i < 2; i++) await create(b);
    await create(c);
    await create(c);
    await Bun.sleep(cluster.options.beatMs * 2);
    const full = await post(a, '/api/games', { name: 'late' });
    expect(full.status).toBe(503);
    expect(full.body.error?.code).toBe('capacity');
  });

  test('results and the leaderboard span the cluster', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const onA = await create(a);
    const onB = await create(b);
    await playRound(a, onA.gameId, [{ name: 'Ada', score: 30 }]);
    await playRound(b, onB.gameId, [{ name: 'Bea', score: 50 }]);
    await idle(a, b);
    const results = await get(b, `/api/games/${onA.gameId}/results`);
    expect(results.status).toBe(200);
    expect((results.body.players as { name: string }[]).map((p) => p.name)).toEqual(['Ada']);
    expect((await get(b, `/api/games/${onA.gameId}`)).body.state).toBe('finished');
    for (const n of [a, b]) {
      const board = (await get(n, '/api/leaderboard')).body as unknown as { hard: { name: string; rank: number }[] };
      expect(board.hard.map((e) => [e.rank, e.name])).toEqual([
        [1, 'Bea'],
        [2, 'Ada'],
      ]);
    }
  });

  test('a forwarding target that does not answer gets 503 node_unreachable, fast', async () => {
    const cluster = new FakeCluster({ beatMs: 50, ttlMs: 60_000 });
    const b = await node(cluster);
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') });
    const deadUrl = `http://127.0.0.1:${dead.port}`;
    await dead.stop(true);
    cluster.beats.set('ghost-node', { info: { nodeId: 'ghost-node', apiUrl: deadUrl, live: 0, maxGames: 4, draining: false }, at: performance.now() });
    cluster.passcodes.set('GH0ST1', { gameId: 'ghostgame', nodeId: 'ghost-node' });
    const started = performance.now();
    const answer = await post(b, '/api/games/join', { passcode: 'GH0ST1', name: 'x' });
    expect(answer.status).toBe(503);
    expect(answer.body.error?.code).toBe('node_unreachable');
    expect(answer.headers.get('retry-after')).toBe('2');
    expect(performance.now() - started).toBeLessThan(3000);
    expect(metric(await metrics(b), 'huddle_cluster_forwarded_total{route="join",outcome="unreachable"}')).toBe(1);
  });
});

describe('node loss and the shared store down', () => {
  test("a node gone: its games read failed/node_lost elsewhere, its passcode admits nowhere; fenced, it ends them itself", async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const game = await create(a);
    await idle(a);
    // A is cut off: no beat reaches the store.
    cluster.view(a.nodeId)!.setDown(true);
    await Bun.sleep(cluster.options.ttlMs + 50);
    const status = await get(b, `/api/games/${game.gameId}`);
    expect(status.body).toMatchObject({ state: 'failed', endReason: 'node_lost' });
    expect(cluster.reap()).toEqual([a.nodeId]);
    expect((await post(b, '/api/games/join', { passcode: game.passcode, name: 'x' })).status).toBe(404);
    // B goes on creating and serving.
    expect((await post(b, '/api/games', { name: 'B' })).status).toBe(201);
    // A comes back: it hears its games were declared lost and ends them; its players are told why.
    cluster.view(a.nodeId)!.setDown(false);
    await waitFor(() => a.server.registry.status(game.gameId).state === 'failed', 2000, 'A ends its lost game');
    expect(a.server.registry.status(game.gameId).endReason).toBe('node_lost');
    expect(a.launcher.games[0]!.stops[0]).toMatch(/stopped/);
    expect(metric(await metrics(a), 'huddle_cluster_games_lost_total')).toBe(1);
  });

  test('store down: creates get 503 cluster_unavailable, own games play on from memory, results land after it is back', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const game = await create(a);
    await idle(a);
    const view = cluster.view(a.nodeId)!;
    view.setDown(true);

    const refused = await post(a, '/api/games', { name: 'new' });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toEqual({ code: 'cluster_unavailable', message: 'the shared state store is unreachable; try again shortly' });
    expect(refused.headers.get('retry-after')).toBe('5');
    const lookups = () => ['passcodeRoute', 'keyRoute', 'game', 'node', 'nodes', 'results'].reduce((sum, m) => sum + (view.calls.get(m) ?? 0), 0);
    const calls = lookups();
    expect((await post(a, '/api/games/join', { passcode: game.passcode, name: 'Bo' })).status).toBe(200);
    expect((await post(a, '/api/games/rejoin', { rejoinKey: game.rejoinKey })).status).toBe(200);
    expect((await get(a, `/api/games/${game.gameId}`)).body.state).toBe('lobby');
    // Its own game's results: "not finished", from memory, not a 503.
    expect((await get(a, `/api/games/${game.gameId}/results`)).body.error?.code).toBe('not_finished');
    // Answered from memory: the directory was not even asked (the new seat's key routes wait in the queue).
    expect(lookups()).toBe(calls);
    // What this node does not know it cannot look up: 503, not a 404 that would count as a guess.
    const unknown = await post(a, '/api/games/join', { passcode: 'ZZZZZZ', name: 'x' });
    expect(unknown.body.error?.code).toBe('cluster_unavailable');
    expect(metric(await metrics(a), 'huddle_join_attempts_total{outcome="wrong_passcode"}')).toBe(0);
    expect(metric(await metrics(a), 'huddle_cluster_available')).toBe(0);

    // The round finishes and is stored while the store is down; its copy waits.
    await playRound(a, game.gameId, [{ name: 'Ada', score: 7 }]);
    expect((await get(a, `/api/games/${game.gameId}/results`)).status).toBe(200);
    await Bun.sleep(300);
    expect(metric(await metrics(a), 'huddle_cluster_publish_pending')).toBeGreaterThan(0);
    expect((await get(b, `/api/games/${game.gameId}/results`)).body.error?.code).toBe('not_finished');

    view.setDown(false);
    await idle(a);
    const results = await get(b, `/api/games/${game.gameId}/results`);
    expect(results.status).toBe(200);
    expect((results.body.players as { score: number }[])[0]!.score).toBe(7);
    expect((await post(a, '/api/games', { name: 'new' })).status).toBe(201);
  });

  test('the store restarted empty: the node republishes its live games, passcodes, key routes and results', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const live = await create(a);
    const done = await create(a, 'Fin');
    await playRound(a, done.gameId, [{ name: 'Fin', score: 3 }]);
    await idle(a);
    const view = cluster.view(a.nodeId)!;
    view.setDown(true);
    cluster.wipe();
    expect((await post(b, '/api/games/join', { passcode: live.passcode, name: 'x' })).status).toBe(404);
    view.setDown(false);
    await idle(a);
    await Bun.sleep(cluster.options.beatMs * 2);
    expect((await post(b, '/api/games/join', { passcode: live.passcode, name: 'y' })).status).toBe(200);
    expect((await post(b, '/api/games/rejoin', { rejoinKey: live.rejoinKey })).status).toBe(200);
    expect((await get(b, `/api/games/${done.gameId}/results`)).status).toBe(200);
    expect(metric(await metrics(a), 'huddle_cluster_republish_total')).toBeGreaterThanOrEqual(2);
  });

  test('a passcode another node holds is drawn again before create answers', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    // Every code but one is "taken" by another node's game: the claim must redraw until it finds it free.
    const view = cluster.view(a.nodeId)!;
    let refusals = 0;
    const reserve = view.reservePasscode.bind(view);
    view.reservePasscode = async (code, gameId) => (refusals++ < 3 ? false : reserve(code, gameId));
    const game = await create(a);
    expect(refusals).toBe(4);
    expect(cluster.passcodes.get(game.passcode)).toEqual({ gameId: game.gameId, nodeId: a.nodeId });
    expect(a.server.registry.knows({ passcode: game.passcode })).toBe(true);
    // Always taken: create fails cleanly and the slot comes back.
    view.reservePasscode = async () => false;
    const failed = await post(a, '/api/games', { name: 'x' });
    expect(failed.status).toBe(503);
    expect(failed.body.error?.code).toBe('start_failed');
    await waitFor(() => a.server.registry.live === 1, 2000, 'the failed game to give its slot back');
  });

  test('nothing secret reaches the directory: no private key, reporting token, rejoin, watch or invite key', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster);
    const b = await node(cluster);
    const game = await create(a);
    const joined = await post(b, '/api/games/join', { passcode: game.passcode, name: 'Bo' });
    await playRound(a, game.gameId, [{ name: 'Ada', score: 1 }]);
    await idle(a, b);
    const spec = a.launcher.games[0]!.spec.env;
    const secrets = [
      Buffer.from(spec.privateKey).toString('base64'),
      Buffer.from(spec.privateKey).toString('hex'),
      Buffer.from(spec.privateKey).toString('base64url'),
      spec.reportToken,
      game.rejoinKey,
      game.watchKey,
      new URL(game.inviteUrl).searchParams.get('invite')!,
      String(joined.body.rejoinKey),
      String(joined.body.watchKey),
      new URL(String(joined.body.inviteUrl)).searchParams.get('invite')!,
    ];
    const stored = cluster.writes.join('\n') + JSON.stringify([...cluster.beats.values()]);
    expect(cluster.writes.length).toBeGreaterThan(3);
    for (const secret of secrets) expect(stored.includes(secret)).toBe(false);
    expect(await metrics(a)).not.toContain(game.rejoinKey);
  });
});

describe('node identity', () => {
  test('the node id is kept in the data directory and stable across restarts; a broken file is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huddle-node-id-'));
    dirs.push(dir);
    const id = loadNodeId(dir);
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(loadNodeId(dir)).toBe(id);
    expect(loadNodeId(':memory:')).not.toBe(loadNodeId(':memory:'));
    writeFileSync(join(dir, NODE_ID_FILE), 'not an id!\n');
    // A bad file is a bad setting: one line and exit 2 from the CLI (StartupCheckError), never overwritten.
    expect(() => loadNodeId(dir)).toThrow(StartupCheckError);
    expect(() => loadNodeId(dir)).toThrow(/does not hold a node id/);
  });

  test('--node-url, else http://<public-host>:<port>', () => {
    expect(nodeApiUrl('http://10.0.0.2:8080', '127.0.0.1', 1)).toBe('http://10.0.0.2:8080');
    expect(nodeApiUrl(undefined, '192.0.2.7', 8080)).toBe('http://192.0.2.7:8080');
    expect(nodeApiUrl(undefined, '2001:db8::1', 8080)).toBe('http://[2001:db8::1]:8080');
  });

  test('a restarted node keeps its id and heartbeats its URL, live games and capacity', async () => {
    const cluster = new FakeCluster();
    const a = await node(cluster, { maxGames: 3 });
    await create(a);
    await Bun.sleep(cluster.options.beatMs * 2);
    expect(cluster.liveNode(a.nodeId)).toEqual({ nodeId: a.nodeId, apiUrl: `http://127.0.0.1:${a.server.port}`, live: 1, maxGames: 3, draining: false });
    const dir = dirs.at(-1)!;
    await a.server.stop();
    expect(cluster.liveNode(a.nodeId)).toBeUndefined();
    const again = await startServer({ config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: dir }, launcher: new FakeLauncher(), directory: (id) => cluster.directory(id) });
    servers.push(again);
    expect(again.cluster.directory.nodeId).toBe(a.nodeId);
  });
});
