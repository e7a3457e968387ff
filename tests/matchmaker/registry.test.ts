import { describe, expect, test } from 'bun:test';
import { BACKSTOP } from '../../src/matchmaker/registry.ts';
import { HUDDLE_PROTOCOL_ID } from '../../src/protocol/constants.ts';
import { formatAddress, isRejection, openConnectTokenPrivate, readConnectToken } from '../../src/protocol/netcode/index.ts';
import { fakeRegistry, rejection } from './support/registry.ts';


const reportToken = (env: { reportToken: string }) => env.reportToken;

describe('GameRegistry: create', () => {
  test('a ready worker gives a lobby with passcode, port and a host ticket; the worker got its secrets in env', async () => {
    const { registry, launcher } = fakeRegistry();
    const game = await registry.create({ name: '  Ada  ' });
    const env = launcher.last.spec.env;
    expect(game.gameId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(game.passcode).toMatch(/^[0-9A-HJKMNP-TV-Z]{6}$/);
    expect(game.port).toBe(env.port);
    expect(game.serverAddress).toBe(`127.0.0.1:${game.port}`);
    expect(game.maxPlayers).toBe(8);
    expect(env.privateKey.length).toBe(32);
    expect(Buffer.from(env.reportToken, 'base64url').length).toBe(32);
    expect(env.reportUrl).toBe(`http://127.0.0.1:9/internal/games/${game.gameId}/report`);
    expect(env.protocolId).toBe(HUDDLE_PROTOCOL_ID);
    expect(registry.status(game.gameId)).toMatchObject({ state: 'lobby', players: 0, maxPlayers: 8, difficulty: null });
    expect(registry.live).toBe(1);
    expect(registry.metrics.gamesStarted).toBe(1);
  });

  test('two games never share a port, passcode, id or key', async () => {
    const { registry, launcher } = fakeRegistry();
    const a = await registry.create({ name: 'a' });
    const b = await registry.create({ name: 'b' });
    expect(a.port).not.toBe(b.port);
    expect(a.passcode).not.toBe(b.passcode);
    expect(a.gameId).not.toBe(b.gameId);
    const [ga, gb] = launcher.games;
    expect(Buffer.from(ga?.spec.env.privateKey ?? []).equals(Buffer.from(gb?.spec.env.privateKey ?? []))).toBe(false);
    expect(ga?.spec.env.reportToken).not.toBe(gb?.spec.env.reportToken ?? '');
  });

  test('the host token is for this server, expires in ~30 s, and carries the sanitised name', async () => {
    const { registry, launcher } = fakeRegistry();
    const before = Date.now();
    const game = await registry.create({ name: 'Ada\u0007 \u202Eevil\n  Lovelace-and-a-very-long-surname' });
    const token = readConnectToken(new Uint8Array(Buffer.from(game.connectToken, 'base64')));
    if (isRejection(token)) throw new Error('token did not parse');
    expect(token.protocolId).toBe(HUDDLE_PROTOCOL_ID);
    expect(token.serverAddresses.map(formatAddress)).toEqual([`127.0.0.1:${game.port}`]);
    expect(token.timeoutSeconds).toBe(10);
    expect(Number(token.expireTimestamp - token.createTimestamp)).toBe(30);
    const expires = Date.parse(game.expiresAt);
    expect(expires - before).toBeGreaterThan(28_000);
    expect(expires - before).toBeLessThan(32_000);
    const secret = openConnectTokenPrivate(token, HUDDLE_PROTOCOL_ID, launcher.last.spec.env.privateKey);
    if (isRejection(secret)) throw new Error('token did not open with the game key');
    const name = new TextDecoder().decode(secret.userData).replace(/\0+$/, '');
    expect(name).toBe('Ada evil Lovelace-and-a-');
    expect([...name].length).toBe(24);
  });

  test('client ids are unique within a game', async () => {
    const { registry, launcher } = fakeRegistry();
    const game = await registry.create({ name: 'host' });
    // Seats are counted from the worker's report once there is one; tickets nobody used yet do not fill the game.
    launcher.last.emit({ type: 'players', count: 1 });
    const ids = new Set<bigint>();
    for (let i = 0; i < 20; i++) {
      const ticket = i === 0 ? game : registry.join({ passcode: game.passcode, name: `p${i}` });
      const token = readConnectToken(new Uint8Array(Buffer.from(ticket.connectToken, 'base64')));
      if (isRejection(token)) throw new Error('bad token');
      const secret = openConnectTokenPrivate(token, HUDDLE_PROTOCOL_ID, launcher.last.spec.env.privateKey);
      if (isRejection(secret)) throw new Error('bad token');
      ids.add(secret.clientId);
    }
    expect(ids.size).toBe(20);
  });

  test('beyond max games: capacity error, nothing launched, nothing held', async () => {
    const { registry, launcher } = fakeRegistry({ maxGames: 2 });
    await registry.create({ name: 'a' });
    await registry.create({ name: 'b' });
    const error = await rejection(registry.create({ name: 'c' }));
    expect(error.code).toBe('capacity');
    expect(error.status).toBe(503);
    expect(error.message).toContain('2 game slots');
    expect(launcher.games.length).toBe(2);
    expect(registry.live).toBe(2);
    expect(registry.freePorts).toBe(8);
  });

  test('port exhaustion: no_ports error before anything starts', async () => {
    const { registry, launcher } = fakeRegistry({ maxGames: 5, gamePorts: { first: 41000, last: 41001 } });
    await registry.create({ name: 'a' });
    await registry.create({ name: 'b' });
    const error = await rejection(registry.create({ name: 'c' }));
    expect(error.code).toBe('no_ports');
    expect(error.status).toBe(503);
    expect(launcher.games.length).toBe(2);
    expect(registry.live).toBe(2);
  });

  test('maxPlayers above the server limit and empty names are refused', async () => {
    const { registry } = fakeRegistry();
    expect((await rejection(registry.create({ name: 'a', maxPlayers: 9 }))).code).toBe('validation_failed');
    expect((await rejection(registry.create({ name: ' \u0000\t ' }))).code).toBe('invalid_name');
    expect(registry.live).toBe(0);
    expect((await registry.create({ name: 'a', maxPlayers: 2 })).maxPlayers).toBe(2);
  });

  test('start timeout: 503 start_failed; the port is held until the worker has closed, then freed', async () => {
    const { registry, launcher } = fakeRegistry({}, { autoReady: false });
    const pending = registry.create({ name: 'a' });
    expect(registry.live).toBe(1);
    expect(registry.freePorts).toBe(9);
    launcher.last.exit('start_timeout');
    const error = await rejection(pending);
    expect(error.code).toBe('start_failed');
    expect(error.status).toBe(503);
    expect(error.message).toContain('1000 ms');
    expect(registry.live).toBe(0);
    expect(registry.freePorts).toBe(10);
    expect(registry.metrics.gamesFailed).toBe(1);
  });

  test('a launcher that throws leaves nothing behind', async () => {
    const { registry, launcher } = fakeRegistry();
    launcher.throwOnLaunch = true;
    expect((await rejection(registry.create({ name: 'a' }))).code).toBe('start_failed');
    expect(registry.live).toBe(0);
    expect(registry.freePorts).toBe(10);
  });
});

describe('GameRegistry: faults and cleanup', () => {
  test('a crash in the lobby fails that game only, frees its slot, port and passcode', async () => {
    const { registry, launcher } = fakeRegistry();
    const a = await registry.create({ name: 'a' });
    const b = await registry.create({ name: 'b' });
    launcher.byId(a.gameId).exit('crashed');
    expect(registry.status(a.gameId)).toMatchObject({ state: 'failed', endReason: 'crashed' });
    expect(registry.status(b.gameId).state).toBe('lobby');
    expect(registry.live).toBe(1);
    expect(registry.freePorts).toBe(9);
    expect((await rejection(() => registry.join({ passcode: a.passcode, name: 'x' }))).code).toBe('wrong_passcode');
    expect(registry.join({ passcode: b.passcode, name: 'x' }).gameId).toBe(b.gameId);
  });

  test('a heartbeat timeout mid-round fails the game and frees it', async () => {
    const { registry, launcher } = fakeRegistry();
    const a = await registry.create({ name: 'a' });
    registry.report(a.gameId, reportToken(launcher.last.spec.env), { status: 'in_progress', difficulty: 'hard' });
    launcher.last.exit('heartbeat_timeout');
    expect(registry.status(a.gameId)).toMatchObject({ state: 'failed', endReason: 'heartbeat_timeout', difficulty: 'hard' });
    expect(registry.live).toBe(0);
    expect(registry.freePorts).toBe(10);
  });

  test('an exit reported twice frees the slot and port exactly once', async () => {
    const { registry, launcher } = fakeRegistry();
    await registry.create({ name: 'a' });
    await registry.create({ name: 'b' });
    launcher.games[0]?.exit('crashed');
    launcher.games[0]?.exit('crashed');
    launcher.games[0]?.exit('closed_early');
    expect(registry.live).toBe(1);
    expect(registry.freePorts).toBe(9);
    expect(registry.metrics.gamesFailed).toBe(1);
  });

  test('no leak over many games: every slot and port comes back', async () => {
    const { registry, launcher } = fakeRegistry({ maxGames: 3, gamePorts: { first: 41000, last: 41003 } });
    for (let round = 0; round < 40; round++) {
      const games = [await registry.create({ name: 'a' }), await registry.create({ name: 'b' }), await registry.create({ name: 'c' })];
      const causes = ['crashed', 'stopped', 'exiting'] as const;
      games.forEach((g, i) => launcher.byId(g.gameId).exit(causes[(i + round) % 3] as (typeof causes)[number], 'lobby_empty'));
    }
    expect(registry.live).toBe(0);
    expect(registry.freePorts).toBe(4);
    const ports = new Set(launcher.games.map((g) => g.spec.env.port));
    expect(ports.size).toBe(4);
  });

  test('a lobby that closes on its own is finished, not failed, and its passcode is dead', async () => {
    const { registry, launcher } = fakeRegistry();
    const a = await registry.create({ name: 'a' });
    launcher.last.exit('exiting', 'lobby_idle');
    expect(registry.status(a.gameId)).toMatchObject({ state: 'finished', endReason: 'lobby_idle' });
    expect(registry.metrics.gamesFinished).toBe(1);
    expect((await rejection(() => registry.join({ passcode: a.passcode, name: 'x' }))).code).toBe('wrong_passcode');
  });

  test('a round that ends without results reported is a failure', async () => {
    const { registry, launcher } = fakeRegistry();
    const a = await registry.create({ name: 'a' });
    registry.report(a.gameId, reportToken(launcher.last.spec.env), { status: 'in_progress', difficulty: 'easy' });
    launcher.last.exit('exiting', 'round_over');
    expect(registry.status(a.gameId)).toMatchObject({ state: 'failed', endReason: 'exited_round_over' });
  });

  test('backstops: an empty lobby past its timeout and a round far past its length are stopped', async () => {
    const { registry, launcher, clock } = fakeRegistry({ lobbyTimeoutSeconds: 100, roundSeconds: 5 });
    const lobby = await registry.create({ name: 'a' });
    const round = await registry.create({ name: 'b' });
    registry.report(round.gameId, reportToken(launcher.byId(round.gameId).spec.env), { status: 'in_progress', difficulty: 'easy' });
    launcher.byId(lobby.gameId).emit({ type: 'heartbeat', players: 2, phase: 'lobby' });
    // Long past both limits: the round is stopped, the lobby is not (it has players).
    clock.now += 100_000 + BACKSTOP.emptyLobbyGraceMs + 1;
    registry.sweep();
    expect(launcher.byId(lobby.gameId).stops).toEqual([]);
    expect(launcher.byId(round.gameId).stops).toEqual(['round_overrun']);
    // Empty from now: stopped only once the lobby timeout and the grace have both passed.
    launcher.byId(lobby.gameId).emit({ type: 'players', count: 0 });
    clock.now += 100_000;
    registry.sweep();
    expect(launcher.byId(lobby.gameId).stops).toEqual([]);
    clock.now += BACKSTOP.emptyLobbyGraceMs + 1;
    registry.sweep();
    expect(launcher.byId(lobby.gameId).stops).toEqual(['lobby_idle']);
    await Bun.sleep(0);
    expect(registry.status(lobby.gameId)).toMatchObject({ state: 'finished', endReason: 'lobby_idle' });
    expect(registry.status(round.gameId)).toMatchObject({ state: 'failed', endReason: 'round_overrun' });
    expect(registry.live).toBe(0);
  });

  test('relay seams: live games resolve to their port; ending is announced once', async () => {
    const { registry, launcher } = fakeRegistry({}, { autoReady: false });
    const ended: string[] = [];
    registry.onGameEnded((id) => ended.push(id));
    const pending = registry.create({ name: 'a' });
    const gameId = launcher.last.spec.env.gameId;
    expect(registry.resolveLive(gameId)).toBeUndefined();
    launcher.last.ready();
    const game = await pending;
    expect(registry.resolveLive(game.gameId)).toEqual({ port: game.port });
    launcher.last.exit('crashed');
    launcher.last.exit('crashed');
    expect(registry.resolveLive(game.gameId)).toBeUndefined();
    expect(ended).toEqual([game.gameId]);
  });

  test('drain refuses new games, stops every worker and waits for them', async () => {
    const { registry, launcher } = fakeRegistry();
    const a = await registry.create({ name: 'a' });
    await registry.create({ name: 'b' });
    await registry.drain('bye', 1000);
    expect(launcher.games.every((g) => g.stops.length === 1 && g.exited)).toBe(true);
    expect(registry.live).toBe(0);
    expect(registry.status(a.gameId)).toMatchObject({ state: 'failed', endReason: 'server_shutdown' });
    expect((await rejection(registry.create({ name: 'c' }))).code).toBe('draining');
  });
});

describe('GameRegistry: join and reports', () => {
  test('join by passcode, case-insensitive with I/L/O folding', async () => {
    const { registry } = fakeRegistry();
    const game = await registry.create({ name: 'host' });
    const typed = game.passcode.toLowerCase().replace(/1/g, 'l').replace(/0/g, 'o');
    const ticket = registry.join({ passcode: typed, name: 'bob' });
    expect(ticket).toMatchObject({ gameId: game.gameId, port: game.port });
    expect((await rejection(() => registry.join({ passcode: 'ZZZZZZ', name: 'bob' }))).code).toBe('wrong_passcode');
  });

  test('a full lobby refuses joins (409)', async () => {
    const { registry, launcher } = fakeRegistry();
    const game = await registry.create({ name: 'host', maxPlayers: 2 });
    launcher.last.emit({ type: 'players', count: 2, names: ['host', 'bob'] });
    const error = await rejection(() => registry.join({ passcode: game.passcode, name: 'eve' }));
    expect(error.code).toBe('game_full');
    expect(error.status).toBe(409);
    launcher.last.emit({ type: 'heartbeat', players: 1, phase: 'lobby' });
    expect(registry.join({ passcode: game.passcode, name: 'eve' }).gameId).toBe(game.gameId);
  });

  test('in_progress only with the right token and only from the lobby; then joins get 409', async () => {
    const { registry, launcher } = fakeRegistry();
    const game = await registry.create({ name: 'host' });
    const token = reportToken(launcher.last.spec.env);
    const wrong = await rejection(() => registry.report(game.gameId, Buffer.alloc(32, 7).toString('base64url'), { status: 'in_progress', difficulty: 'easy' }));
    expect(wrong.code).toBe('unauthorized');
    expect(wrong.status).toBe(401);
    expect((await rejection(() => registry.report(game.gameId, undefined, { status: 'in_progress', difficulty: 'easy' }))).code).toBe('unauthorized');
    expect((await rejection(() => registry.report(game.gameId, `${token}x`, { status: 'in_progress', difficulty: 'easy' }))).code).toBe('unauthorized');
    expect(registry.status(game.gameId).state).toBe('lobby');

    expect((await rejection(() => registry.report(game.gameId, token, { status: 'finished', results: [] }))).code).toBe('bad_state');
    expect(registry.report(game.gameId, token, { status: 'in_progress', difficulty: 'normal' })).toEqual({ gameId: game.gameId, state: 'in_progress' });
    // A retry after a lost acknowledgement is acknowledged again, even at another difficulty: the worker stayed in
    // its lobby and the host chose again (tests/hardening/faults.test.ts plays this with a real worker).
    expect(registry.report(game.gameId, token, { status: 'in_progress', difficulty: 'normal' }).state).toBe('in_progress');
    expect(registry.report(game.gameId, token, { status: 'in_progress', difficulty: 'hard' }).state).toBe('in_progress');
    expect((await rejection(() => registry.join({ passcode: game.passcode, name: 'late' }))).code).toBe('game_started');
    expect(registry.status(game.gameId)).toMatchObject({ state: 'in_progress', difficulty: 'hard' });
    // Once finished, no start is acknowledged.
    registry.report(game.gameId, token, { status: 'finished', results: [] });
    expect((await rejection(() => registry.report(game.gameId, token, { status: 'in_progress', difficulty: 'hard' }))).code).toBe('bad_state');
  });

  test('finished stores results before acknowledging; the game ends normally; later reports get game_over', async () => {
    const { registry, launcher, store } = fakeRegistry();
    const game = await registry.create({ name: 'host' });
    const token = reportToken(launcher.last.spec.env);
    expect((await rejection(() => registry.results(game.gameId))).code).toBe('not_finished');
    registry.report(game.gameId, token, { status: 'in_progress', difficulty: 'hard' });
    const ack = registry.report(game.gameId, token, { status: 'finished', results: [{ name: 'bob', score: 3 }, { name: 'host', score: 9 }] });
    expect(ack.state).toBe('finished');
    expect(store.getGame(game.gameId)?.players).toEqual([
      { rank: 1, name: 'host', score: 9, left: false },
      { rank: 2, name: 'bob', score: 3, left: false },
    ]);
    expect(registry.report(game.gameId, token, { status: 'finished', results: [] }).state).toBe('finished');
    expect(registry.live).toBe(1);
    launcher.last.exit('exiting', 'round_over');
    expect(registry.status(game.gameId)).toMatchObject({ state: 'finished', endReason: 'round_over' });
    expect(registry.live).toBe(0);
    expect(registry.metrics.gamesFinished).toBe(1);
    expect(registry.metrics.gamesFailed).toBe(0);
    expect((await rejection(() => registry.report(game.gameId, token, { status: 'finished', results: [] }))).code).toBe('game_over');
    expect((await rejection(() => registry.report('nope', token, { status: 'finished', results: [] }))).code).toBe('not_found');
    expect(registry.results(game.gameId).difficulty).toBe('hard');
  });

  test('a store failure leaves the game in progress so the worker can report again', async () => {
    const { registry, launcher, store } = fakeRegistry();
    const game = await registry.create({ name: 'host' });
    const token = reportToken(launcher.last.spec.env);
    registry.report(game.gameId, token, { status: 'in_progress', difficulty: 'easy' });
    store.close();
    expect((await rejection(() => registry.report(game.gameId, token, { status: 'finished', results: [] }))).code).toBe('internal');
    expect(registry.status(game.gameId).state).toBe('in_progress');
  });

  test('unknown games are not found', async () => {
    const { registry } = fakeRegistry();
    expect((await rejection(() => registry.status('AAAAAAAAAAAAAAAAAAAAAA'))).code).toBe('not_found');
    expect((await rejection(() => registry.results('AAAAAAAAAAAAAAAAAAAAAA'))).code).toBe('not_found');
  });
});

describe('GameRegistry: tick health from heartbeats', () => {
  const durations = (p99Ms: number) => ({ p50Ms: p99Ms / 4, p99Ms, maxMs: p99Ms * 2, counts: [20, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });

  test('the newest heartbeat of each game is kept; the worst lateness and work p99 reach /metrics', async () => {
    const { registry, launcher } = fakeRegistry();
    const a = await registry.create({ name: 'a' });
    const b = await registry.create({ name: 'b' });
    expect(registry.snapshot()).toMatchObject({ worstTickLatenessP99Ms: 0, worstTickWorkP99Ms: 0 });
    const tickA = { ticks: 22, missed: 0, datagrams: 400, lateness: durations(3), work: durations(0.5) };
    const tickB = { ticks: 22, missed: 1, datagrams: 380, lateness: durations(0.4), work: durations(1.25) };
    launcher.byId(a.gameId).emit({ type: 'heartbeat', players: 1, phase: 'lobby', tick: { ...tickA, lateness: durations(40) } });
    launcher.byId(a.gameId).emit({ type: 'heartbeat', players: 1, phase: 'lobby', tick: tickA });
    launcher.byId(b.gameId).emit({ type: 'heartbeat', players: 1, phase: 'lobby', tick: tickB });

    expect(registry.snapshot()).toMatchObject({ worstTickLatenessP99Ms: 3, worstTickWorkP99Ms: 1.25 });
    expect(registry.tickStats().map((t) => t.tick).sort((x, y) => x.datagrams - y.datagrams)).toEqual([tickB, tickA]);
    const text = registry.metrics.render(registry.snapshot());
    expect(text).toContain('huddle_game_tick_lateness_p99_seconds_max 0.003\n');
    expect(text).toContain('huddle_game_tick_work_p99_seconds_max 0.00125\n');
  });
});
