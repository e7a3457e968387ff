/**
 * Faults with real game workers and real bots on 127.0.0.1: a worker killed mid-round, the report route refusing,
 * timing out and losing its answer, a full port range, SIGTERM during busy games. For each, the resources are
 * counted before and after — live games, free ports, the process's UDP sockets — and must come back; a game that
 * finished never loses its result; other games play on. Timers and handles: the scenario runs in a child process
 * that must exit by itself once its server stops.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBot, type BotEvent, type BotOutcome } from '../../src/bot.ts';
import { portIsFree, readyUrl } from '../matchmaker/support/env.ts';
import { UdpPlayer } from '../support/udp-player.ts';
import {
  endGame,
  freePortRange,
  LAUNCHER_KINDS,
  type LauncherKind,
  resources,
  type ResourceCount,
  serve,
  type Served,
  settledResources,
  waitFor,
} from './support-api/harness.ts';
import { type ProxyAction, ReportProxy } from './support-api/report-proxy.ts';

const ROOT = join(import.meta.dir, '..', '..');
const BUN = process.execPath;
const cleanups: (() => Promise<void> | void)[] = [];
const players: UdpPlayer[] = [];

afterEach(async () => {
  for (const p of players.splice(0)) p.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function served(overrides: Parameters<typeof serve>[0] = {}, ports = 4, launcher: LauncherKind = 'worker'): Promise<Served> {
  const s = await serve({ roundSeconds: 1, ...overrides }, { ports, launcher });
  cleanups.push(() => s.close());
  return s;
}

async function create(s: Served, name = 'host'): Promise<{ status: number; body: { gameId: string; passcode: string; connectToken: string; error?: { code: string; message: string } } }> {
  const response = await fetch(`${s.server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  return { status: response.status, body: (await response.json()) as never };
}

async function player(token: string): Promise<UdpPlayer> {
  const p = await UdpPlayer.connect(token);
  players.push(p);
  return p;
}

/** Asserts that live games, free ports and UDP sockets are back to `before` once workers have closed. */
async function expectNoLeak(s: Served, before: ResourceCount): Promise<void> {
  const after = await settledResources(s.server, before);
  expect({ live: after.live, freePorts: after.freePorts }).toEqual({ live: before.live, freePorts: before.freePorts });
  // At most as many: sockets of earlier test files in this process may still be closing when `before` is taken.
  expect(after.udpSockets).toBeLessThanOrEqual(before.udpSockets);
}

function storedRows(s: Served, gameId: string): { games: number; scores: number } {
  // A separate read-only connection: what a restart would see (WAL, committed before the acknowledgement).
  const db = new Database(join(s.dataDir, 'results.sqlite'), { readonly: true });
  try {
    const games = (db.query('SELECT COUNT(*) AS n FROM games WHERE id = ?').get(gameId) as { n: number }).n;
    const scores = (db.query('SELECT COUNT(*) AS n FROM scores WHERE game_id = ?').get(gameId) as { n: number }).n;
    return { games, scores };
  } finally {
    db.close();
  }
}

/** A server whose workers report through a ReportProxy deciding each report's fate; counts taken after. */
async function proxied(decide: ConstructorParameters<typeof ReportProxy>[1], launcher: LauncherKind = 'worker') {
  const s = await served({}, 4, launcher);
  const proxy = new ReportProxy(() => s.server.localUrl, decide);
  cleanups.push(() => proxy.stop());
  s.launcher.rewriteReportUrl = proxy.rewrite;
  return { s, proxy, before: resources(s.server) };
}

/** A game with its host connected over UDP and in the lobby. */
async function hostInLobby(s: Served) {
  const game = await create(s);
  const host = await player(game.body.connectToken);
  await host.waitFor((v) => v.phase === 'lobby');
  return { game, host };
}

const hostBot = (s: Served, name: string, extra: Partial<Parameters<typeof runBot>[0]> = {}): Promise<BotOutcome> =>
  runBot({ server: s.server.localUrl, name, mode: { create: {} }, start: 'easy', timeoutSeconds: 20, ...extra });

// The same faults with each launcher: Bun Workers, and `huddle game` processes supervised over their WebSocket.
describe.each(LAUNCHER_KINDS)('faults with real games (launcher %s)', (kind) => {
  test('a worker killed mid-round: its game fails, slot/port/socket come back, a concurrent game plays to results', async () => {
    const s = await served({}, 4, kind);
    const before = resources(s.server);
    const victim = await create(s, 'victim');
    expect(victim.status).toBe(201);
    const host = await player(victim.body.connectToken);
    await host.waitFor((v) => v.phase === 'lobby');
    const survivor = hostBot(s, 'survivor');
    host.client.start('hard');
    await host.waitFor((v) => v.phase === 'playing', 8000);
    expect(s.server.registry.status(victim.body.gameId).state).toBe('in_progress');
    s.launcher.crash(victim.body.gameId);

    const outcome = await survivor;
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.results?.map((r) => r.name)).toEqual(['survivor']);
    await waitFor(() => s.launcher.exited.has(victim.body.gameId), 5000, 'the killed worker to be reported');
    // A thread terminated from outside ends without a word: the launcher calls that closed_early (not a clean exit);
    // a process killed by a signal is a crash (a process's exit status can be read, unlike a thread's).
    expect(s.server.registry.status(victim.body.gameId)).toMatchObject({ state: 'failed', endReason: kind === 'worker' ? 'closed_early' : 'crashed' });
    // The survivor's result was stored once; the victim stored nothing.
    expect(storedRows(s, outcome.gameId!)).toEqual({ games: 1, scores: 1 });
    expect(storedRows(s, victim.body.gameId)).toEqual({ games: 0, scores: 0 });
    host.close();
    await endGame(s, outcome.gameId!);
    await expectNoLeak(s, before);
  }, 30_000);

  test('the start report refused, then timing out: the game stays in its lobby, players are told, and it can start later', async () => {
    let mode: ProxyAction = 'refuse';
    const { s, proxy, before } = await proxied(() => mode, kind);
    const { game, host } = await hostInLobby(s);

    host.client.start('normal');
    await host.waitFor((v) => v.notice?.code === 'start-refused', 5000);
    expect(host.client.view.notice?.message).toContain('refused by the test proxy');
    expect(host.client.view.phase).toBe('lobby');
    expect(s.server.registry.status(game.body.gameId).state).toBe('lobby');

    // Now the matchmaker does not answer at all: the worker gives up after its report timeout (3 s).
    mode = 'hang';
    const asked = performance.now();
    host.client.start('normal');
    await host.waitFor((v) => v.notice?.code === 'start-refused' && v.notice.message.includes('in time'), 6000);
    expect(performance.now() - asked).toBeGreaterThan(2500);
    expect(host.client.view.phase).toBe('lobby');
    expect(s.server.registry.status(game.body.gameId).state).toBe('lobby');
    // A join still works: the passcode admits players while the game is in its lobby.
    const join = await fetch(`${s.server.localUrl}/api/games/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passcode: game.body.passcode, name: 'late' }) });
    expect(join.status).toBe(200);

    // The route recovers: the next start goes through and the round plays to results.
    mode = 'forward';
    host.client.start('normal');
    await host.waitFor((v) => v.phase === 'results', 10_000);
    expect(s.server.registry.status(game.body.gameId).state).toBe('finished');
    expect(storedRows(s, game.body.gameId)).toEqual({ games: 1, scores: 1 });
    expect(proxy.seen.map((r) => `${r.status}:${r.action}`)).toEqual(['in_progress:refuse', 'in_progress:hang', 'in_progress:forward', 'finished:forward']);
    host.close();
    await endGame(s, game.body.gameId);
    await expectNoLeak(s, before);
  }, 30_000);

  test('a start acknowledgement lost on the way back: the host starts again at another difficulty and the round plays', async () => {
    // Regression: the matchmaker had moved to in_progress while the worker, with no answer, stayed in its lobby;
    // the host's second start (another difficulty) was refused with 409 forever and the game was stuck.
    const { s, proxy, before } = await proxied((_gameId, status, previous) => (status === 'in_progress' && previous === 0 ? 'lose-answer' : 'forward'), kind);
    const { game, host } = await hostInLobby(s);
    host.client.start('easy');
    await host.waitFor((v) => v.notice?.code === 'start-refused', 5000);
    expect(host.client.view.phase).toBe('lobby');
    host.client.start('hard');
    await host.waitFor((v) => v.phase === 'results', 10_000);
    expect(proxy.seen.map((r) => `${r.status}:${r.action}:${r.upstreamStatus}`)).toEqual(['in_progress:lose-answer:200', 'in_progress:forward:200', 'finished:forward:200']);
    const stored = (await (await fetch(`${s.server.localUrl}/api/games/${game.body.gameId}/results`)).json()) as { difficulty: string };
    expect(stored.difficulty).toBe('hard');
    expect(storedRows(s, game.body.gameId)).toEqual({ games: 1, scores: 1 });
    host.close();
    await endGame(s, game.body.gameId);
    await expectNoLeak(s, before);
  }, 30_000);

  test('a finished report whose answer is lost, and one refused once: each result stored exactly once, none lost', async () => {
    const roles = new Map<string, ProxyAction>();
    // First finished report: lost answer (stored, then 502) for one game, refused (not stored) for the other.
    const { s, proxy, before } = await proxied(
      (gameId, status, previous) => (status === 'finished' && previous === 0 ? (roles.get(gameId) ?? 'forward') : 'forward'),
      kind,
    );

    const events: BotEvent[] = [];
    const bot = (name: string, role: ProxyAction) =>
      hostBot(s, name, {
        onEvent: (e) => {
          events.push(e);
          if (e.event === 'created') roles.set(e.gameId, role);
        },
      });
    const [lost, refused] = await Promise.all([bot('lost', 'lose-answer'), bot('refused', 'refuse')]);
    for (const outcome of [lost, refused]) {
      expect(outcome.ok).toBe(true);
      expect(storedRows(s, outcome.gameId!)).toEqual({ games: 1, scores: 1 });
      const stored = (await (await fetch(`${s.server.localUrl}/api/games/${outcome.gameId}/results`)).json()) as { players: { name: string; score: number }[] };
      expect(stored.players.map(({ name, score }) => ({ name, score }))).toEqual(outcome.results!);
    }
    const finished = (gameId: string) => proxy.seen.filter((r) => r.gameId === gameId && r.status === 'finished').map((r) => `${r.action}:${r.upstreamStatus ?? '-'}`);
    // The retry after a lost answer is acknowledged again without a second row; the refused one is stored on retry.
    expect(finished(lost.gameId!)).toEqual(['lose-answer:200', 'forward:200']);
    expect(finished(refused.gameId!)).toEqual(['refuse:-', 'forward:200']);
    // Players were not told of a failure that the retry recovered from.
    expect(events.filter((e) => e.event === 'notice' && e.code === 'results-not-saved')).toEqual([]);
    await endGame(s, lost.gameId!);
    await endGame(s, refused.gameId!);
    await expectNoLeak(s, before);
  }, 30_000);

  test('a full port range: 503 no_ports as JSON, and freeing one slot lets a create succeed', async () => {
    // More slots than ports, so the ports run out first; then the slot limit with ports to spare.
    const s = await served({ maxGames: 3 }, 2, kind);
    const before = resources(s.server);
    const a = await create(s, 'a');
    const b = await create(s, 'b');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(s.server.registry.freePorts).toBe(0);
    const refused = await create(s, 'c');
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('no_ports');
    expect(s.server.registry.live).toBe(2);
    await endGame(s, a.body.gameId);
    const again = await create(s, 'd');
    expect(again.status).toBe(201);
    await endGame(s, b.body.gameId);
    await endGame(s, again.body.gameId);
    await expectNoLeak(s, before);

    const capped = await served({ maxGames: 1 }, 2, kind);
    const one = await create(capped, 'one');
    const two = await create(capped, 'two');
    expect([one.status, two.status, two.body.error?.code]).toEqual([201, 503, 'capacity']);
    await endGame(capped, one.body.gameId);
    expect((await create(capped, 'three')).status).toBe(201);
  }, 30_000);

  test('timers and handles: a server that ran, crashed and finished games exits by itself once stopped', async () => {
    const range = await freePortRange(3);
    const child = Bun.spawn([BUN, join(import.meta.dir, 'support-api', 'fault-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, FAULT_PORTS: `${range.first}-${range.last}`, FAULT_LAUNCHER: kind },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    cleanups.push(() => child.kill('SIGKILL'));
    const exited = await Promise.race([child.exited, Bun.sleep(25_000).then(() => 'hung' as const)]);
    const out = await new Response(child.stdout).text();
    const err = await new Response(child.stderr).text();
    // Exits on its own (no process.exit in the child): nothing left on the event loop — no timer, socket, worker.
    expect({ exited, err: exited === 0 ? '' : err.slice(-500) }).toEqual({ exited: 0, err: '' });
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as { before: ResourceCount; after: ResourceCount; outcome: boolean; crashed: string };
    expect(report.outcome).toBe(true);
    expect(report.crashed).toBe('failed');
    expect(report.after).toEqual({ ...report.before, udpSockets: report.before.udpSockets });
    for (let p = range.first; p <= range.last; p++) expect(await portIsFree(p)).toBe(true);
  }, 35_000);
});

describe.each(LAUNCHER_KINDS)('SIGTERM during busy games (launcher %s)', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-sigterm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(range: { first: number; last: number }) {
    const child = Bun.spawn(
      [BUN, 'src/index.ts', '--host', '127.0.0.1', '--port', '0', '--game-ports', `${range.first}-${range.last}`, '--data-dir', join(dir, 'data'), '--max-games', '4', '--round-seconds', '2', '--log-format', 'json', '--launcher', kind, '--on-stop', 'drain'],
      { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    const url = await readyUrl(child.stdout);
    return { child, url };
  }

  test('exits 0 within bounds, every game port free, finished results readable after a restart', async () => {
    const range = await freePortRange(4);
    const { child, url } = await start(range);

    // One game plays to its results before the signal.
    const done = await runBot({ server: url, name: 'early', mode: { create: {} }, start: 'easy', timeoutSeconds: 20 });
    expect(done.ok).toBe(true);

    // Then three busy games: one mid-round, one in its lobby with a guest, one just created.
    const started = Promise.withResolvers<void>();
    const busy = runBot({ server: url, name: 'busy', mode: { create: {} }, start: 'hard', timeoutSeconds: 20, onEvent: (e) => e.event === 'started' && started.resolve() });
    const lobby = Promise.withResolvers<string>();
    const idle = runBot({ server: url, name: 'idle', mode: { create: {} }, timeoutSeconds: 20, onEvent: (e) => e.event === 'created' && lobby.resolve(e.passcode) });
    const guest = runBot({ server: url, name: 'guest', mode: { join: await lobby.promise }, timeoutSeconds: 20 });
    const bare = await fetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"bare"}' });
    expect(bare.status).toBe(201);
    await started.promise;
    const health = (await (await fetch(`${url}/healthz`)).json()) as { liveGames: number };
    expect(health.liveGames).toBeGreaterThanOrEqual(3);

    const signalled = performance.now();
    child.kill('SIGTERM');
    const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'hung' as const)]);
    const tookMs = performance.now() - signalled;
    expect(code).toBe(0);
    // Drain: workers get 2 s grace, the wait is capped at 5 s; with the store close and exit well under 8 s.
    expect(tookMs).toBeLessThan(8000);
    // Players were told or timed out; none of them hangs on.
    const outcomes = await Promise.all([busy, idle, guest]);
    for (const outcome of outcomes) expect(outcome.ok).toBe(false);
    for (let p = range.first; p <= range.last; p++) expect(await portIsFree(p)).toBe(true);

    // Restart on the same data directory: the finished game is still there, exactly once.
    const again = await start(range);
    const results = await fetch(`${again.url}/api/games/${done.gameId}/results`);
    expect(results.status).toBe(200);
    const stored = (await results.json()) as { players: { name: string; score: number }[] };
    expect(stored.players.map(({ name, score }) => ({ name, score }))).toEqual(done.results!);
    again.child.kill('SIGTERM');
    expect(await Promise.race([again.child.exited, Bun.sleep(8000).then(() => 'hung' as const)])).toBe(0);
  }, 60_000);
});
