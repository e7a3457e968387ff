/**
 * Seats over real UDP (docs/SEATS.md): the matchmaker in this process, real game workers, players that are the
 * real game client on real sockets. A seat survives its connection: a rejoin key gets the same seat back (in the
 * lobby and mid-round, with the score), a silent drop is taken over at once, an expired grace frees the seat while
 * the game goes on; no key opens another game, a watch key never yields a player seat, and after the start nobody
 * new gets in. Play again carries the group into a new game.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { ClientState } from '../../src/protocol/netcode/client.ts';
import { freePortRange, waitFor } from '../matchmaker/support/env.ts';
import { UdpPlayer, type UdpPlayerOptions } from '../support/udp-player.ts';

interface Ticket {
  gameId: string;
  port: number;
  connectToken: string;
  name: string;
  role: 'player' | 'spectator';
  passcode?: string;
  rejoinKey?: string;
  watchKey?: string;
}
interface ApiAnswer<T> {
  status: number;
  body: T & { error?: { code: string; message: string } };
}

const dirs: string[] = [];
const players: UdpPlayer[] = [];
const servers: RunningServer[] = [];

async function serve(overrides: Partial<Config> = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-seats-'));
  dirs.push(dir);
  const started = await startServer({
    config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: await freePortRange(4), maxGames: 4, roundSeconds: 6, ...overrides },
  });
  servers.push(started);
  return started;
}

afterEach(async () => {
  for (const player of players.splice(0)) player.close();
  // Every server is stopped even when one stop throws; the first failure is reported after.
  const stopped = await Promise.allSettled(servers.splice(0).map((s) => s.stop()));
  const failed = stopped.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function call<T>(s: RunningServer, path: string, body: unknown): Promise<ApiAnswer<T>> {
  const response = await fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as ApiAnswer<T>['body'] };
}
async function ok<T>(answer: Promise<ApiAnswer<T>>, status = 200): Promise<T> {
  const { status: got, body } = await answer;
  if (got !== status) throw new Error(`expected ${status}, got ${got}: ${JSON.stringify(body.error ?? body)}`);
  return body;
}
const create = (s: RunningServer, name: string, maxPlayers?: number) => ok<Ticket>(call(s, '/api/games', maxPlayers ? { name, maxPlayers } : { name }), 201);
const join_ = (s: RunningServer, passcode: string, name: string) => call<Ticket>(s, '/api/games/join', { passcode, name });
const rejoin = (s: RunningServer, rejoinKey: string) => call<Ticket>(s, '/api/games/rejoin', { rejoinKey });
const watch = (s: RunningServer, watchKey: string, name: string) => call<Ticket>(s, '/api/games/watch', { watchKey, name });
const gameStatus = async (s: RunningServer, id: string) =>
  (await (await fetch(`${s.url}/api/games/${id}`)).json()) as { state: string; players: number; spectators: number; endReason: string | null; next: { state: string; gameId: string | null; message: string | null } | null };

async function connect(ticket: Ticket, options: UdpPlayerOptions = {}): Promise<UdpPlayer> {
  const p = await UdpPlayer.connect(ticket.connectToken, options);
  players.push(p);
  return p;
}
const inLobby = (p: UdpPlayer, count: number) => p.waitFor((v) => v.phase === 'lobby' && v.players.filter((x) => x.connected).length === count, 5000);
const scoreOf = (p: UdpPlayer, index: number) => p.client.view.scores.find((line) => line.index === index)?.score ?? 0;

/** A host (named `hostName`) and bob in a two-player round on hard that is playing. */
async function roundOfTwo(s: RunningServer, hostName: string, options: UdpPlayerOptions = {}) {
  const game = await create(s, hostName, 2);
  const bobTicket = await ok(join_(s, game.passcode!, 'bob'));
  const host = await connect(game, options);
  const bob = await connect(bobTicket, options);
  await inLobby(host, 2);
  host.client.start('hard');
  await bob.waitFor((v) => v.phase === 'playing', 8000);
  return { game, bobTicket, host, bob };
}

describe('seats over real UDP', () => {
  test('the creator is host even when a friend connects first', async () => {
    const server = await serve();
    const game = await create(server, 'creator');
    const friend = await ok(join_(server, game.passcode!, 'friend'));
    const early = await connect(friend);
    await early.waitFor((v) => v.phase === 'lobby');
    await Bun.sleep(150);
    const host = await connect(game);
    await inLobby(host, 2);
    await early.waitFor((v) => v.hostIndex !== undefined && v.hostIndex === host.client.view.you, 3000);
    expect(host.client.isHost).toBe(true);
    expect(early.client.isHost).toBe(false);
  }, 20_000);

  test('in the lobby: a silent drop is taken over at once by a rejoin (same seat, same name); duplicate names are made unique', async () => {
    const server = await serve();
    const game = await create(server, 'alice');
    const bobTicket = await ok(join_(server, game.passcode!, 'bob'));
    const twin = await ok(join_(server, game.passcode!, 'Alice'));
    expect(twin.name).toBe('Alice (2)');
    const host = await connect(game);
    const bob = await connect(bobTicket);
    await inLobby(host, 2);
    await bob.waitFor((v) => v.you !== undefined);
    const seat = bob.client.view.you;

    bob.vanish();
    const again = await ok(rejoin(server, bobTicket.rejoinKey!));
    expect(again).toMatchObject({ gameId: game.gameId, name: 'bob', role: 'player' });
    expect(again.connectToken).not.toBe(bobTicket.connectToken);
    const startedAt = Date.now();
    const back = await connect(again);
    await back.waitFor((v) => v.phase === 'lobby' && v.rejoined && v.you === seat, 4000);
    // Taken over, not waited out: netcode's timeout is 10 s.
    expect(Date.now() - startedAt).toBeLessThan(4000);
    await host.waitFor((v) => v.players.length === 2 && v.players.every((p) => p.connected));
    expect((await gameStatus(server, game.gameId)).players).toBe(2);
  }, 20_000);

  test('a clean disconnect (a closed tab) holds the seat: still counted, shown as away, and a rejoin takes it back', async () => {
    const server = await serve();
    const game = await create(server, 'alice', 2);
    const bobTicket = await ok(join_(server, game.passcode!, 'bob'));
    const host = await connect(game);
    const bob = await connect(bobTicket);
    await inLobby(host, 2);
    await bob.waitFor((v) => v.you !== undefined);
    const seat = bob.client.view.you;
    bob.close();
    await host.waitFor((v) => v.players.some((p) => p.name === 'bob' && !p.connected), 4000);
    // The held seat still takes a place: the two-player game is full for anyone new.
    await waitFor(() => server.registry.status(game.gameId).players === 2, 3000, 'the held seat counted');
    expect((await join_(server, game.passcode!, 'carol')).body.error?.code).toBe('game_full');
    const back = await connect(await ok(rejoin(server, bobTicket.rejoinKey!)));
    await back.waitFor((v) => v.phase === 'lobby' && v.rejoined && v.you === seat, 4000);
    await host.waitFor((v) => v.players.length === 2 && v.players.every((p) => p.connected), 4000);
  }, 20_000);

  test('mid-round: a player who drops and rejoins gets the same ship and keeps the score', async () => {
    const s = await serve({ roundSeconds: 10 });
    const { game, bobTicket, host, bob } = await roundOfTwo(s, 'host', { play: true });
    const seat = bob.client.view.you!;
    await host.waitFor(() => scoreOf(host, seat) > 0, 8000);
    const before = scoreOf(host, seat);

    bob.vanish();
    const back = await connect(await ok(rejoin(s, bobTicket.rejoinKey!)), { play: true });
    await back.waitFor((v) => v.phase === 'playing' && v.rejoined && v.you === seat, 4000);
    await back.waitFor(() => scoreOf(back, seat) >= before, 3000);
    await back.waitFor((v) => v.phase === 'results', 15_000);
    const mine = back.client.view.results!.find((line) => line.index === seat)!;
    expect(mine.name).toBe('bob');
    expect(mine.score).toBeGreaterThanOrEqual(before);
    expect(mine.left ?? false).toBe(false);
    await waitFor(() => !s.registry.resolveLive(game.gameId), 8000, 'the game to end');
    const stored = (await (await fetch(`${s.url}/api/games/${game.gameId}/results`)).json()) as { outcome: string; players: { name: string; score: number; left: boolean }[] };
    expect(stored.outcome).toBe('finished');
    expect(stored.players.find((p) => p.name === 'bob')!.score).toBe(mine.score);
  }, 45_000);

  test('grace expiry frees the seat, the round goes on, and the player is listed as left', async () => {
    const s = await serve({ rejoinGraceSeconds: 1, roundSeconds: 5 });
    const game = await create(s, 'host', 3);
    const bobTicket = await ok(join_(s, game.passcode!, 'bob'));
    const host = await connect(game, { play: true });
    const bob = await connect(bobTicket);
    await inLobby(host, 2);
    host.client.start('easy');
    await bob.waitFor((v) => v.phase === 'playing', 8000);
    bob.close();
    await host.waitFor((v) => v.notice?.code === 'player-left' || v.scores.some((line) => line.name === 'bob' && line.left === true), 6000);
    const late = await rejoin(s, bobTicket.rejoinKey!);
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe('game_over');
    await host.waitFor((v) => v.phase === 'results', 15_000);
    expect(host.client.view.results!.find((line) => line.name === 'bob')).toMatchObject({ left: true });
    await waitFor(() => !s.registry.resolveLive(game.gameId), 8000, 'the game to end');
    expect(await gameStatus(s, game.gameId)).toMatchObject({ state: 'finished', endReason: 'round_over' });
  }, 40_000);

  test("a rejoin key of game A never admits anyone to game B, and unknown keys are 404", async () => {
    const server = await serve();
    const a = await create(server, 'a-host');
    const b = await create(server, 'b-host');
    const aHost = await connect(a);
    await inLobby(aHost, 1);
    const ticket = await ok(rejoin(server, a.rejoinKey!));
    expect(ticket.gameId).toBe(a.gameId);
    const intruder = await connect(ticket, { redirectPort: b.port });
    await Bun.sleep(500);
    expect(intruder.client.netcodeState).toBe(ClientState.SendingConnectionRequest);
    expect(intruder.datagramsReceived).toBe(0);
    expect((await gameStatus(server, b.gameId)).players).toBe(0);
    const unknown = await rejoin(server, Buffer.alloc(18, 7).toString('base64url'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe('unknown_seat');
    // A watch key is not a rejoin key.
    expect((await rejoin(server, a.watchKey!)).status).toBe(404);
  }, 20_000);

  test('a spectator watches the round: snapshots, no seat, not in the results', async () => {
    const s = await serve({ roundSeconds: 4 });
    const game = await create(s, 'host', 2);
    const host = await connect(game, { play: true });
    await inLobby(host, 1);
    const spectatorTicket = await ok(watch(s, game.watchKey!, 'viewer'));
    expect(spectatorTicket.role).toBe('spectator');
    expect(spectatorTicket.rejoinKey).toBeUndefined();
    expect(spectatorTicket.passcode).toBeUndefined();
    const viewer = await connect(spectatorTicket);
    await viewer.waitFor((v) => v.role === 'spectator' && v.phase === 'lobby');
    expect(viewer.client.view.you).toBeUndefined();
    await host.waitFor((v) => v.spectators.includes('viewer'));
    expect(host.client.view.players).toHaveLength(1);
    const st = await gameStatus(s, game.gameId);
    expect(st).toMatchObject({ players: 1, spectators: 1 });
    // A spectator cannot start the game.
    viewer.client.start('hard');
    await Bun.sleep(300);
    expect(host.client.view.phase).toBe('lobby');
    host.client.start('normal');
    await viewer.waitFor((v) => v.phase === 'playing', 8000);
    await viewer.waitFor(() => viewer.arena.receivedSnapshots > 20, 5000);
    await viewer.waitFor((v) => v.phase === 'results', 12_000);
    expect(viewer.client.view.results!.map((line) => line.name)).toEqual(['host']);
  }, 40_000);

  test('after the start nobody new gets in: not by passcode, token minted before, rejoin of a given-up seat, nor a watch key', async () => {
    const server = await serve();
    const game = await create(server, 'host', 4);
    const quitter = await ok(join_(server, game.passcode!, 'quitter'));
    const minted = await ok(join_(server, game.passcode!, 'slow'));
    const host = await connect(game);
    const q = await connect(quitter);
    await inLobby(host, 2);
    q.client.leave();
    await host.waitFor((v) => v.players.length === 1, 4000);
    expect((await rejoin(server, quitter.rejoinKey!)).body.error?.code).toBe('game_over');
    host.client.start('easy');
    await host.waitFor((v) => v.phase === 'countdown' || v.phase === 'playing', 8000);
    const byPasscode = await join_(server, game.passcode!, 'late');
    expect(byPasscode.status).toBe(409);
    expect(byPasscode.body.error?.code).toBe('game_started');
    const byRejoin = await rejoin(server, quitter.rejoinKey!);
    expect(byRejoin.status).toBe(409);
    expect(byRejoin.body.error?.code).toBe('game_over');
    const slow = await connect(minted);
    await slow.waitForState((s) => s === ClientState.ConnectionDenied, 5000);
    const spectator = await connect(await ok(watch(server, game.watchKey!, 'late-viewer')));
    await spectator.waitFor((v) => v.role === 'spectator', 5000);
    await host.waitFor((v) => v.phase === 'playing' && v.scores.length > 0, 8000);
    expect(host.client.view.scores.map((line) => line.name)).toEqual(['host']);
    expect((await gameStatus(server, game.gameId)).players).toBe(1);
  }, 30_000);

  test('a round everyone leaves is recorded as abandoned and never ranked', async () => {
    const s = await serve({ roundSeconds: 30 });
    const { game, host, bob } = await roundOfTwo(s, 'lonely');
    bob.client.leave();
    host.client.leave();
    await waitFor(() => !s.registry.resolveLive(game.gameId), 8000, 'the game to end');
    expect(await gameStatus(s, game.gameId)).toMatchObject({ state: 'finished', endReason: 'abandoned' });
    const results = (await (await fetch(`${s.url}/api/games/${game.gameId}/results`)).json()) as { outcome: string };
    expect(results.outcome).toBe('abandoned');
    const board = JSON.stringify(await (await fetch(`${s.url}/api/leaderboard`)).json());
    expect(board).not.toContain('lonely');
  }, 30_000);

  test('play again: the host starts a new game and every player lands in its lobby with the key they hold', async () => {
    const s = await serve({ roundSeconds: 2 });
    const game = await create(s, 'host', 3);
    const tickets = [game, await ok(join_(s, game.passcode!, 'ann')), await ok(join_(s, game.passcode!, 'bob'))];
    const first = await Promise.all(tickets.map((t) => connect(t)));
    await inLobby(first[0]!, 3);
    first[0]!.client.start('easy');
    for (const p of first) await p.waitFor((v) => v.phase === 'results', 15_000);

    const notHost = await call(s, '/api/games/again', { rejoinKey: tickets[1]!.rejoinKey });
    expect(notHost.status).toBe(403);
    const next = await ok<Ticket>(call(s, '/api/games/again', { rejoinKey: game.rejoinKey }), 201);
    expect(next.gameId).not.toBe(game.gameId);
    expect(next.passcode).not.toBe(game.passcode);
    const repeated = await ok<Ticket>(call(s, '/api/games/again', { rejoinKey: game.rejoinKey }), 201);
    expect(repeated.gameId).toBe(next.gameId);
    const old = await gameStatus(s, game.gameId);
    expect(old.next).toMatchObject({ state: 'ready', gameId: next.gameId });

    const seats = await Promise.all(tickets.slice(1).map((t) => ok(rejoin(s, t.rejoinKey!))));
    expect(seats.map((t) => [t.gameId, t.name])).toEqual([
      [next.gameId, 'ann'],
      [next.gameId, 'bob'],
    ]);
    const second = await Promise.all([next, ...seats].map((t) => connect(t)));
    await inLobby(second[0]!, 3);
    expect(second[0]!.client.isHost).toBe(true);
    expect((await ok(watch(s, game.watchKey!, 'fan'))).gameId).toBe(next.gameId);
  }, 40_000);

  test('play again with no free slot: the host gets 503 and the old game says why', async () => {
    const s = await serve({ roundSeconds: 2, maxGames: 1, gamePorts: await freePortRange(1) });
    const game = await create(s, 'host', 2);
    const host = await connect(game);
    await inLobby(host, 1);
    host.client.start('easy');
    await host.waitFor((v) => v.phase === 'results', 15_000);
    // The finished game still holds the only slot while its worker lingers; make sure a slot is taken either way.
    await waitFor(() => !s.registry.resolveLive(game.gameId), 8000, 'the first game to end');
    const blocker = await create(s, 'someone-else');
    expect(blocker.gameId).toBeString();
    const refused = await call(s, '/api/games/again', { rejoinKey: game.rejoinKey });
    expect(refused.status).toBe(503);
    const old = await gameStatus(s, game.gameId);
    expect(old.next).toMatchObject({ state: 'failed' });
    expect(old.next!.message).toBeString();
  }, 30_000);
});
