/**
 * The hosting flow with real game workers and real UDP players on 127.0.0.1: the matchmaker in this process,
 * one Bun worker per game running the real game-worker entry, and players that are the real netcode client,
 * reliability layer and game client (the bot's code).
 */
import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBot, type BotOutcome } from '../../src/bot.ts';
import { defaultConfig, type Config } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { ClientState } from '../../src/protocol/netcode/client.ts';
import { Value } from '@sinclair/typebox/value';
import { TickStats } from '../../src/contract/worker-messages.ts';
import { BunWorkerLauncher, type GameHandle, type GameLauncher, type LaunchSpec, type LauncherEvent } from '../../src/workers/launcher.ts';
import { freePortRange, waitFor } from '../matchmaker/support/env.ts';
import { UdpPlayer } from '../support/udp-player.ts';
import { PolledUdpSocket, polledUdpSupport } from '../../src/protocol/transport/udp-polled.ts';
import { botClock } from '../../src/bot-clock.ts';

/** The real launcher, remembering each game's handle so a test can kill a worker the hard way. */
class RecordingLauncher implements GameLauncher {
  readonly handles = new Map<string, GameHandle>();
  /** Every heartbeat's tick statistics, by game. */
  readonly ticks = new Map<string, TickStats[]>();
  private readonly inner = new BunWorkerLauncher({ stopGraceMs: 1000 });
  /** The server's default: games start warm (a create takes a worker started ahead). */
  readonly warm = true;
  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    const ticks: TickStats[] = [];
    this.ticks.set(spec.env.gameId, ticks);
    const handle = this.inner.launch(spec, (event) => {
      if (event.type === 'heartbeat' && event.tick) ticks.push(event.tick);
      onEvent(event);
    });
    this.handles.set(spec.env.gameId, handle);
    return handle;
  }
  /** Terminates the worker thread without letting it say goodbye: what a crash looks like from outside. */
  crash(gameId: string): void {
    (this.handles.get(gameId) as unknown as { worker: Worker }).worker.terminate();
  }
}

const dirs: string[] = [];
const players: UdpPlayer[] = [];
let server: RunningServer;
let launcher: RecordingLauncher;

async function serve(overrides: Partial<Config> = {}, gameLauncher: GameLauncher = new RecordingLauncher()): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-e2e-'));
  dirs.push(dir);
  return startServer({
    config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: await freePortRange(4), maxGames: 4, roundSeconds: 2, ...overrides },
    launcher: gameLauncher,
  });
}

beforeAll(async () => {
  launcher = new RecordingLauncher();
  server = await serve({}, launcher);
});
afterEach(async () => {
  for (const player of players.splice(0)) player.close();
  // Whatever a test left running (it failed half-way) must not take the next test's slots.
  for (const gameId of launcher.handles.keys()) await endGame(gameId);
});
afterAll(async () => {
  await server.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const status = async (gameId: string) => (await (await fetch(`${server.url}/api/games/${gameId}`)).json()) as { state: string; players: number; endReason: string | null };

async function createGame(name: string, maxPlayers?: number) {
  const response = await post('/api/games', maxPlayers ? { name, maxPlayers } : { name });
  expect(response.status).toBe(201);
  return (await response.json()) as { gameId: string; passcode: string; port: number; connectToken: string };
}

async function joinGame(passcode: string, name: string) {
  const response = await post('/api/games/join', { passcode, name });
  return { status: response.status, body: (await response.json()) as { connectToken: string; error?: { code: string } } };
}

async function player(token: string, options: { redirectPort?: number } = {}): Promise<UdpPlayer> {
  const p = await UdpPlayer.connect(token, options);
  players.push(p);
  return p;
}

async function endGame(gameId: string): Promise<void> {
  if (server.registry.resolveLive(gameId)) launcher.handles.get(gameId)?.stop('test over', 500);
  await waitFor(() => !server.registry.resolveLive(gameId), 5000, `game ${gameId} to end`);
}

describe('hosting flow over real UDP', () => {
  test('create, host and three friends connect, host starts, in_progress only after the report, results stored, slot freed', async () => {
    const freeBefore = server.registry.freePorts;
    const events: string[] = [];
    const stateAtStart: string[] = [];
    let gameId = '';
    const host = runBot({
      server: server.url,
      name: 'host',
      mode: { create: {} },
      start: 'hard',
      startWhenPlayers: 4,
      chat: 'hello friends',
      timeoutSeconds: 20,
      onEvent: (e) => {
        events.push(e.event);
        if (e.event === 'created') {
          gameId = e.gameId;
          passcode.resolve(e.passcode);
        }
        if (e.event === 'started') void status(gameId).then((s) => stateAtStart.push(s.state));
      },
    });
    const passcode = Promise.withResolvers<string>();
    const code = await passcode.promise;
    expect((await status(gameId)).state).toBe('lobby');
    const guests: Promise<BotOutcome>[] = ['ann', 'bob', 'cy'].map((name) => runBot({ server: server.url, name, mode: { join: code.toLowerCase() }, timeoutSeconds: 20 }));
    const [hostOutcome, ...guestOutcomes] = await Promise.all([host, ...guests]);

    expect(hostOutcome.ok).toBe(true);
    for (const outcome of guestOutcomes) expect(outcome).toMatchObject({ ok: true, gameId });
    expect(events).toContain('chat');
    // The host saw the countdown only after the matchmaker had moved the game on.
    expect(stateAtStart).toEqual(['in_progress']);
    const names = hostOutcome.results!.map((r) => r.name).sort();
    expect(names).toEqual(['ann', 'bob', 'cy', 'host']);
    // The bots really play: in a 2-second round on hard, at least one of four shoots a rock.
    expect(hostOutcome.results!.some((r) => r.score > 0)).toBe(true);

    const stored = (await (await fetch(`${server.url}/api/games/${gameId}/results`)).json()) as { difficulty: string; players: { name: string; score: number }[] };
    expect(stored.difficulty).toBe('hard');
    expect(stored.players.map((p) => p.name).sort()).toEqual(names);
    await waitFor(() => !server.registry.resolveLive(gameId), 5000, 'worker exit');
    expect(await status(gameId)).toMatchObject({ state: 'finished', endReason: 'round_over' });

    // Heartbeats carry the loop's lateness and work, datagrams included (the players' inputs arrived) …
    const beats = launcher.ticks.get(gameId) ?? [];
    expect(beats.length).toBeGreaterThan(0);
    for (const beat of beats) {
      expect(Value.Check(TickStats, beat)).toBe(true);
      expect(beat.lateness.counts.reduce((a, b) => a + b, 0)).toBe(beat.ticks);
      expect(beat.lateness.maxMs).toBeGreaterThanOrEqual(beat.lateness.p99Ms);
      expect(beat.work.maxMs).toBeGreaterThanOrEqual(beat.work.p50Ms);
    }
    expect(beats.some((b) => b.datagrams > 0 && b.work.maxMs > 0)).toBe(true);
    // … and every bot saw the snapshots of the round arrive, with gaps measured.
    for (const outcome of [hostOutcome, ...guestOutcomes]) {
      expect(outcome.snapshotGaps?.snapshots).toBeGreaterThan(10);
      expect(outcome.snapshotGaps!.maxMs).toBeGreaterThan(0);
      expect(outcome.snapshotGaps!.p99Ms).toBeGreaterThanOrEqual(outcome.snapshotGaps!.p50Ms);
    }
    expect(server.registry.freePorts).toBe(freeBefore);
  }, 30_000);

  test.skipIf(!polledUdpSupport().ok)("bots read their sockets at their shared clock's ticks: snapshots timed as they arrived, socket closed after; a bot called back per datagram plays along", async () => {
    const closes = spyOn(PolledUdpSocket.prototype, 'close');
    try {
      const passcode = Promise.withResolvers<string>();
      const host = runBot({
        server: server.url,
        name: 'ticks',
        mode: { create: {} },
        start: 'normal',
        startWhenPlayers: 2,
        timeoutSeconds: 20,
        udpReads: 'wakes',
        onEvent: (e) => e.event === 'created' && passcode.resolve(e.passcode),
      });
      const guest = runBot({ server: server.url, name: 'each', mode: { join: await passcode.promise }, timeoutSeconds: 20, udpReads: 'each' });
      const [read, called] = await Promise.all([host, guest]);
      expect(read.ok).toBe(true);
      expect(called.ok).toBe(true);
      for (const outcome of [read, called]) {
        expect(outcome.snapshotGaps!.snapshots).toBeGreaterThan(20);
        // The server sends every 50 ms. Read at 30 Hz ticks and timed as read, gaps would be 33 or 67 ms: the
        // kernel's arrival stamps put them back at ~50.
        expect(outcome.snapshotGaps!.p50Ms).toBeGreaterThanOrEqual(45);
        expect(outcome.snapshotGaps!.p50Ms).toBeLessThanOrEqual(56);
      }
      expect(closes).toHaveBeenCalledTimes(1);
      // Both bots left the shared clock, so its timer is stopped.
      expect(botClock.size).toBe(0);
      expect(botClock.running).toBe(false);
    } finally {
      closes.mockRestore();
    }
  }, 30_000);

  test('a full game: the API says 409 and the worker denies a token minted before it filled', async () => {
    const game = await createGame('host', 2);
    const early = await joinGame(game.passcode, 'early');
    const late = await joinGame(game.passcode, 'late');
    expect([early.status, late.status]).toEqual([200, 200]);
    const host = await player(game.connectToken);
    const first = await player(early.body.connectToken);
    await host.waitFor((v) => v.phase === 'lobby');
    await first.waitFor((v) => v.phase === 'lobby');
    const third = await player(late.body.connectToken);
    await third.waitForState((s) => s === ClientState.ConnectionDenied);
    await waitFor(() => server.registry.status(game.gameId).players === 2, 3000, 'player count');
    const refused = await joinGame(game.passcode, 'another');
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('game_full');
    await endGame(game.gameId);
  }, 20_000);

  test('a started game: the API says 409 and a token minted before the start is refused by the worker', async () => {
    const game = await createGame('host');
    const before = await joinGame(game.passcode, 'slow');
    expect(before.status).toBe(200);
    const host = await player(game.connectToken);
    await host.waitFor((v) => v.phase === 'lobby');
    host.client.start('easy');
    await host.waitFor((v) => v.phase === 'countdown');
    expect((await status(game.gameId)).state).toBe('in_progress');
    const refused = await joinGame(game.passcode, 'later');
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('game_started');
    const slow = await player(before.body.connectToken);
    await slow.waitForState((s) => s === ClientState.ConnectionDenied);
    await endGame(game.gameId);
  }, 20_000);

  test('a report with a wrong token is refused with 401 and changes nothing', async () => {
    const game = await createGame('host');
    const response = await post(`/internal/games/${game.gameId}/report`, { status: 'in_progress', difficulty: 'easy' }, { authorization: `Bearer ${Buffer.alloc(32).toString('base64url')}` });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBeString();
    expect((await status(game.gameId)).state).toBe('lobby');
    await endGame(game.gameId);
  }, 20_000);

  test("a token for game A sent to game B's port is never admitted", async () => {
    const a = await createGame('a-host');
    const b = await createGame('b-host');
    const intruder = await player(a.connectToken, { redirectPort: b.port });
    await Bun.sleep(400);
    expect(intruder.client.netcodeState).toBe(ClientState.SendingConnectionRequest);
    expect(intruder.datagramsReceived).toBe(0);
    expect(server.registry.status(b.gameId).players).toBe(0);
    await endGame(a.gameId);
    await endGame(b.gameId);
  }, 20_000);

  test('an expired token is refused', async () => {
    const short = await serve({ tokenExpirySeconds: 1, gamePorts: await freePortRange(2), maxGames: 2 });
    try {
      const response = await fetch(`${short.url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"late"}' });
      const game = (await response.json()) as { connectToken: string; gameId: string };
      await Bun.sleep(2100);
      const late = await player(game.connectToken);
      await late.waitForState((s) => s === ClientState.ConnectTokenExpired || s === ClientState.ConnectionRequestTimedOut, 15_000);
      expect(late.datagramsReceived).toBe(0);
      expect(short.registry.status(game.gameId).players).toBe(0);
    } finally {
      await short.stop();
    }
  }, 25_000);

  test('a worker that crashes mid-lobby or mid-round fails its game and frees its slot; another game plays on', async () => {
    const freeBefore = server.registry.freePorts;
    const lobbyGame = await createGame('lobby-host');
    const roundGame = await createGame('round-host');
    const lobbyHost = await player(lobbyGame.connectToken);
    const roundHost = await player(roundGame.connectToken);
    await lobbyHost.waitFor((v) => v.phase === 'lobby');
    await roundHost.waitFor((v) => v.phase === 'lobby');

    // A third game plays a whole round while the other two die.
    const survivor = runBot({ server: server.url, name: 'survivor', mode: { create: {} }, start: 'normal', timeoutSeconds: 20 });

    launcher.crash(lobbyGame.gameId);
    roundHost.client.start('hard');
    await roundHost.waitFor((v) => v.phase === 'playing');
    launcher.crash(roundGame.gameId);

    await waitFor(() => !server.registry.resolveLive(lobbyGame.gameId) && !server.registry.resolveLive(roundGame.gameId), 3000, 'crashed games to be freed');
    expect(await status(lobbyGame.gameId)).toMatchObject({ state: 'failed' });
    expect(await status(roundGame.gameId)).toMatchObject({ state: 'failed' });
    const outcome = await survivor;
    expect(outcome.ok).toBe(true);
    await waitFor(() => server.registry.freePorts === freeBefore, 5000, 'every port back');
    // The crashed games' players find out: their connection times out rather than hanging forever.
    expect(lobbyHost.client.view.phase === 'closed' || lobbyHost.client.netcodeState === ClientState.Connected).toBe(true);
  }, 30_000);
});
