/**
 * Seats in the registry (docs/SEATS.md): keys, unique names, rejoin, watch, play again and the reports that end a
 * round, over the fake launcher (the test plays the worker's messages by hand).
 */
import { describe, expect, test } from 'bun:test';
import { NEXT_GAME_MESSAGES, type Ticket } from '../../src/matchmaker/registry.ts';
import { decodeSeatData } from '../../src/game/seat-data.ts';
import { HUDDLE_PROTOCOL_ID } from '../../src/protocol/constants.ts';
import { isRejection, openConnectTokenPrivate, readConnectToken } from '../../src/protocol/netcode/index.ts';
import type { FakeLauncher } from './support/fake-launcher.ts';
import { fakeRegistry, rejection } from './support/registry.ts';


/** What the game server reads from a ticket: opened with that game's private key, or null if it does not open. */
function opened(launcher: FakeLauncher, ticket: Ticket, gameId = ticket.gameId) {
  const token = readConnectToken(new Uint8Array(Buffer.from(ticket.connectToken, 'base64')));
  if (isRejection(token)) throw new Error('token did not parse');
  const secret = openConnectTokenPrivate(token, HUDDLE_PROTOCOL_ID, launcher.byId(gameId).spec.env.privateKey);
  if (isRejection(secret)) return null;
  return { clientId: secret.clientId, ...decodeSeatData(secret.userData) };
}

const token = (launcher: FakeLauncher, gameId: string) => launcher.byId(gameId).spec.env.reportToken;

/** A game played to the end: in progress, then finished with `results` (and the host at the end, if given). */
function finish(t: ReturnType<typeof fakeRegistry>, gameId: string, hostClientId?: bigint) {
  t.registry.report(gameId, token(t.launcher, gameId), { status: 'in_progress', difficulty: 'normal' });
  t.registry.report(gameId, token(t.launcher, gameId), {
    status: 'finished',
    results: [{ name: 'ada', score: 3 }],
    ...(hostClientId === undefined ? {} : { hostClientId: hostClientId.toString() }),
  });
}

describe('seats: create and join', () => {
  test("create gives the creator the reserved host seat, with keys; the token says who and what", async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: ' Ada ' });
    expect(game).toMatchObject({ name: 'Ada', role: 'player', passcode: expect.stringMatching(/^[0-9A-Z]{6}$/) });
    expect(game.rejoinKey).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(game.watchKey).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(game.watchKey).not.toBe(game.rejoinKey);
    expect(opened(t.launcher, game)).toEqual({ clientId: t.launcher.last.spec.env.hostClientId, name: 'Ada', kind: 'player' });
  });

  test('names are unique per game, case-insensitively, cut to fit; a released seat frees its name', async () => {
    const t = fakeRegistry({ maxPlayers: 8 });
    const game = await t.registry.create({ name: 'alice' });
    const join = (name: string) => t.registry.join({ passcode: game.passcode, name });
    const second = join('Alice');
    expect(second.name).toBe('Alice (2)');
    expect(opened(t.launcher, second)?.name).toBe('Alice (2)');
    expect(join('ALICE').name).toBe('ALICE (3)');
    const long = 'x'.repeat(30);
    expect(join(long).name).toBe('x'.repeat(24));
    expect(join(long).name).toBe(`${'x'.repeat(20)} (2)`);
    // In another game the name is free.
    const other = await t.registry.create({ name: 'bob' });
    expect(t.registry.join({ passcode: other.passcode, name: 'alice' }).name).toBe('alice');
    // The worker gave alice's seat up: the name can be used again.
    t.launcher.byId(game.gameId).emit({ type: 'seat_released', clientId: opened(t.launcher, game)?.clientId ?? 0n });
    expect(join('alice').name).toBe('alice');
  });

  test('a passcode that is not 6 characters is a length hint, not a wrong passcode', async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'host' });
    for (const typed of ['ABC', 'ABCDEFG', '', game.passcode.slice(0, 5)]) {
      const error = await rejection(() => t.registry.join({ passcode: typed, name: 'x' }));
      expect({ code: error.code, status: error.status, message: error.message }).toEqual({
        code: 'invalid_passcode',
        status: 400,
        message: 'A passcode has 6 characters',
      });
    }
    // Spaces and dashes do not count: "ABC-DEF" is six characters.
    expect((await rejection(() => t.registry.join({ passcode: 'ZZZ-ZZZ', name: 'x' }))).code).toBe('wrong_passcode');
    expect(t.registry.join({ passcode: `${game.passcode.slice(0, 3)} ${game.passcode.slice(3)}`, name: 'x' }).gameId).toBe(game.gameId);
  });

  test("seats taken: the seat book's before the worker reports, the worker's count after", async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'host', maxPlayers: 3 });
    t.registry.join({ passcode: game.passcode, name: 'a' });
    t.registry.join({ passcode: game.passcode, name: 'b' });
    expect((await rejection(() => t.registry.join({ passcode: game.passcode, name: 'c' }))).code).toBe('game_full');
    // The worker says two seats are taken (one ticket was never used): one more fits.
    t.launcher.last.emit({ type: 'players', count: 2, names: ['host', 'a'] });
    expect(t.registry.join({ passcode: game.passcode, name: 'c' }).name).toBe('c');
    t.launcher.last.emit({ type: 'players', count: 3, names: ['host', 'a', 'c'] });
    expect((await rejection(() => t.registry.join({ passcode: game.passcode, name: 'd' }))).code).toBe('game_full');
  });
});

describe('seats: rejoin', () => {
  test('same client id and name, in the lobby and during the round, with the same keys back', async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'host' });
    const bob = t.registry.join({ passcode: game.passcode, name: 'bob' });
    const first = opened(t.launcher, bob);
    const again = t.registry.rejoin(bob.rejoinKey);
    expect(again).toMatchObject({ gameId: game.gameId, name: 'bob', role: 'player', passcode: game.passcode, rejoinKey: bob.rejoinKey, watchKey: bob.watchKey });
    expect(again.connectToken).not.toBe(bob.connectToken);
    expect(opened(t.launcher, again)).toEqual(first);
    t.registry.report(game.gameId, token(t.launcher, game.gameId), { status: 'in_progress', difficulty: 'easy' });
    // The passcode admits nobody new, but the seat is still bob's.
    expect((await rejection(() => t.registry.join({ passcode: game.passcode, name: 'eve' }))).code).toBe('game_started');
    expect(opened(t.launcher, t.registry.rejoin(bob.rejoinKey))).toEqual(first);
    expect(opened(t.launcher, t.registry.rejoin(game.rejoinKey))?.clientId).toBe(t.launcher.last.spec.env.hostClientId);
  });

  test('unknown keys (and watch keys) are unknown seats; a released seat or an ended game is game over', async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'host' });
    const bob = t.registry.join({ passcode: game.passcode, name: 'bob' });
    for (const key of ['A'.repeat(24), game.watchKey, bob.watchKey]) {
      const error = await rejection(() => t.registry.rejoin(key));
      expect({ code: error.code, status: error.status }).toEqual({ code: 'unknown_seat', status: 404 });
    }
    t.launcher.last.emit({ type: 'seat_released', clientId: opened(t.launcher, bob)?.clientId ?? 0n });
    const released = await rejection(() => t.registry.rejoin(bob.rejoinKey));
    expect({ code: released.code, status: released.status }).toEqual({ code: 'game_over', status: 409 });
    expect(t.registry.rejoin(game.rejoinKey).name).toBe('host');
    t.launcher.last.exit('exiting', 'lobby_empty');
    expect((await rejection(() => t.registry.rejoin(game.rejoinKey))).code).toBe('game_over');
  });

  test("a rejoin key of game A never opens anything in game B", async () => {
    const t = fakeRegistry();
    const a = await t.registry.create({ name: 'a' });
    const b = await t.registry.create({ name: 'b' });
    const ticket = t.registry.rejoin(a.rejoinKey);
    expect(ticket.gameId).toBe(a.gameId);
    expect(ticket.port).not.toBe(b.port);
    expect(opened(t.launcher, ticket, b.gameId)).toBeNull();
  });

  test('forgotten games take their keys with them', async () => {
    const t = fakeRegistry({}, {});
    const first = await t.registry.create({ name: 'a' });
    t.launcher.last.exit('crashed');
    // Push it out of the history (the default keeps 1000 dead games; make 1001 more).
    for (let i = 0; i < 1001; i++) {
      await t.registry.create({ name: 'x' });
      t.launcher.last.exit('crashed');
    }
    t.registry.sweep();
    expect((await rejection(() => t.registry.rejoin(first.rejoinKey))).code).toBe('unknown_seat');
    expect((await rejection(() => t.registry.watch({ watchKey: first.watchKey, name: 'w' }))).code).toBe('unknown_game');
  });
});

describe('seats: watch', () => {
  test('a spectator ticket: new client id, spectator kind, no passcode or rejoin key; any player\'s watch key works', async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'host' });
    const bob = t.registry.join({ passcode: game.passcode, name: 'bob' });
    const watcher = t.registry.watch({ watchKey: bob.watchKey, name: 'cy' });
    expect(Object.keys(watcher).sort()).toEqual(['connectToken', 'expiresAt', 'gameId', 'name', 'port', 'role', 'serverAddress', 'watchKey']);
    expect(watcher).toMatchObject({ gameId: game.gameId, name: 'cy', role: 'spectator', watchKey: bob.watchKey });
    const seen = opened(t.launcher, watcher);
    expect(seen?.kind).toBe('spectator');
    expect([opened(t.launcher, game)?.clientId, opened(t.launcher, bob)?.clientId]).not.toContain(seen?.clientId);
    expect(t.registry.watch({ watchKey: game.watchKey, name: 'dee' }).gameId).toBe(game.gameId);
    // A watcher cannot pass for a player in the lobby list.
    expect(t.registry.watch({ watchKey: game.watchKey, name: 'BOB' }).name).toBe('BOB (2)');
    // Watching takes no player seat.
    t.registry.join({ passcode: game.passcode, name: 'eve' });
  });

  test('during the round too; spectators_full at the maximum; game over after; unknown keys', async () => {
    const t = fakeRegistry({ maxSpectators: 2 });
    const game = await t.registry.create({ name: 'host' });
    t.registry.report(game.gameId, token(t.launcher, game.gameId), { status: 'in_progress', difficulty: 'easy' });
    expect(t.registry.watch({ watchKey: game.watchKey, name: 'w' }).role).toBe('spectator');
    t.launcher.last.emit({ type: 'players', count: 1, names: ['host'], spectators: 2 });
    const full = await rejection(() => t.registry.watch({ watchKey: game.watchKey, name: 'w' }));
    expect({ code: full.code, status: full.status }).toEqual({ code: 'spectators_full', status: 409 });
    expect(t.registry.status(game.gameId).spectators).toBe(2);
    t.launcher.last.emit({ type: 'players', count: 1, names: ['host'], spectators: 1 });
    expect(t.registry.watch({ watchKey: game.watchKey, name: 'w' }).role).toBe('spectator');
    for (const key of ['B'.repeat(24), game.rejoinKey]) {
      const error = await rejection(() => t.registry.watch({ watchKey: key, name: 'w' }));
      expect({ code: error.code, status: error.status }).toEqual({ code: 'unknown_game', status: 404 });
    }
    t.registry.report(game.gameId, token(t.launcher, game.gameId), { status: 'finished', results: [] });
    expect((await rejection(() => t.registry.watch({ watchKey: game.watchKey, name: 'w' }))).code).toBe('game_over');
    expect((await rejection(() => t.registry.watch({ watchKey: game.watchKey, name: '\u0000' }))).code).toBe('invalid_name');
  });
});

describe('reports: abandoned rounds, left players, the host at the end', () => {
  test('abandoned from in_progress: stored as abandoned, the game finished with endReason abandoned, never ranked', async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'alice' });
    const tok = token(t.launcher, game.gameId);
    expect((await rejection(() => t.registry.report(game.gameId, tok, { status: 'abandoned', results: [] }))).code).toBe('bad_state');
    t.registry.report(game.gameId, tok, { status: 'in_progress', difficulty: 'hard' });
    const results = [
      { name: 'alice', score: 0, left: true },
      { name: 'bob', score: 0, left: true },
    ];
    expect(t.registry.report(game.gameId, tok, { status: 'abandoned', results })).toEqual({ gameId: game.gameId, state: 'finished' });
    // A retry after a lost answer is acknowledged again.
    expect(t.registry.report(game.gameId, tok, { status: 'abandoned', results }).state).toBe('finished');
    expect(t.registry.status(game.gameId)).toMatchObject({ state: 'finished', endReason: 'abandoned' });
    expect(t.registry.results(game.gameId)).toMatchObject({ outcome: 'abandoned', players: [{ name: 'alice', left: true }, { name: 'bob', left: true }] });
    expect(t.store.leaderboard('hard', 10)).toEqual([]);
    t.launcher.last.exit('exiting', 'round_abandoned');
    expect(t.registry.status(game.gameId)).toMatchObject({ state: 'finished', endReason: 'abandoned' });
    expect(t.registry.metrics.gamesFinished).toBe(1);
  });

  test("a worker exiting with round_abandoned (no report) ends the game finished/abandoned, not failed", async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'a' });
    t.registry.report(game.gameId, token(t.launcher, game.gameId), { status: 'in_progress', difficulty: 'easy' });
    t.launcher.last.exit('exiting', 'round_abandoned');
    expect(t.registry.status(game.gameId)).toMatchObject({ state: 'finished', endReason: 'abandoned' });
    expect(t.registry.metrics.gamesFailed).toBe(0);
  });

  test('finished results keep "left"; a status known only from the store says how it ended', async () => {
    const t = fakeRegistry();
    const game = await t.registry.create({ name: 'a' });
    const tok = token(t.launcher, game.gameId);
    t.registry.report(game.gameId, tok, { status: 'in_progress', difficulty: 'easy' });
    t.registry.report(game.gameId, tok, { status: 'finished', results: [{ name: 'a', score: 2 }, { name: 'b', score: 5, left: true }] });
    expect(t.registry.results(game.gameId)).toMatchObject({
      outcome: 'finished',
      players: [
        { rank: 1, name: 'b', score: 5, left: true },
        { rank: 2, name: 'a', score: 2, left: false },
      ],
    });
  });
});

describe('play again', () => {
  async function finishedGroup(t: ReturnType<typeof fakeRegistry>, maxPlayers = 4) {
    const host = await t.registry.create({ name: 'ada', maxPlayers });
    const bob = t.registry.join({ passcode: host.passcode, name: 'bob' });
    const cy = t.registry.join({ passcode: host.passcode, name: 'cy' });
    const dee = t.registry.join({ passcode: host.passcode, name: 'dee' });
    return { host, bob, cy, dee, oldId: host.gameId };
  }

  test("the host's again: a new game for the group, same names under new client ids; every old key leads there", async () => {
    const t = fakeRegistry();
    const { host, bob, cy, dee, oldId } = await finishedGroup(t, 5);
    // dee left for good during the round: she is not carried over.
    t.launcher.last.emit({ type: 'seat_released', clientId: opened(t.launcher, dee)?.clientId ?? 0n });
    finish(t, oldId);
    expect(t.registry.status(oldId).next).toBeNull();

    const next = await t.registry.again(host.rejoinKey);
    const launched = t.launcher.last.spec.env;
    expect(t.launcher.games.length).toBe(2);
    expect(next.gameId).not.toBe(oldId);
    expect(launched.gameId).toBe(next.gameId);
    expect(launched.maxPlayers).toBe(5);
    // A new game: new key, passcode, reporting token, port.
    expect(next.passcode).not.toBe(host.passcode);
    expect(launched.reportToken).not.toBe(t.launcher.byId(oldId).spec.env.reportToken);
    expect(next).toMatchObject({ name: 'ada', role: 'player', rejoinKey: host.rejoinKey, watchKey: host.watchKey });
    expect(opened(t.launcher, next)).toEqual({ clientId: launched.hostClientId, name: 'ada', kind: 'player' });
    expect(t.registry.status(oldId).next).toEqual({ state: 'ready', gameId: next.gameId, message: null });
    expect(t.registry.status(next.gameId)).toMatchObject({ state: 'lobby', next: null });

    for (const [player, name] of [[bob, 'bob'], [cy, 'cy']] as const) {
      const ticket = t.registry.rejoin(player.rejoinKey);
      expect(ticket).toMatchObject({ gameId: next.gameId, name, passcode: next.passcode, watchKey: player.watchKey });
      const seat = opened(t.launcher, ticket);
      expect(seat?.name).toBe(name);
      expect(seat?.clientId).not.toBe(opened(t.launcher, player, oldId)?.clientId);
      // The old game's key does not open the new ticket.
      expect(opened(t.launcher, ticket, oldId)).toBeNull();
    }
    expect((await rejection(() => t.registry.rejoin(dee.rejoinKey))).code).toBe('game_over');
    // Every watch key of the group, dee's too, now leads to the new game.
    for (const key of [host.watchKey, bob.watchKey, dee.watchKey]) expect(t.registry.watch({ watchKey: key, name: 'w' }).gameId).toBe(next.gameId);
    // The carried seats fill the new game like any others: ada, bob, cy of 5, then two more.
    t.registry.join({ passcode: next.passcode, name: 'eve' });
    expect(t.registry.join({ passcode: next.passcode, name: 'bob' }).name).toBe('bob (2)');
    expect((await rejection(() => t.registry.join({ passcode: next.passcode, name: 'fay' }))).code).toBe('game_full');
  });

  test('a second again answers the same game; clicks while it starts share one launch', async () => {
    const t = fakeRegistry({}, { autoReady: false });
    const pending = t.registry.create({ name: 'ada' });
    t.launcher.last.ready();
    const host = await pending;
    finish(t, host.gameId);
    const a = t.registry.again(host.rejoinKey);
    const b = t.registry.again(host.rejoinKey);
    await Bun.sleep(0);
    expect(t.registry.status(host.gameId).next).toEqual({ state: 'starting', gameId: null, message: null });
    expect(t.launcher.games.length).toBe(2);
    t.launcher.last.ready();
    const [first, second] = await Promise.all([a, b]);
    expect(second.gameId).toBe(first.gameId);
    const third = await t.registry.again(host.rejoinKey);
    expect(third.gameId).toBe(first.gameId);
    expect(opened(t.launcher, third)?.clientId).toBe(opened(t.launcher, first)?.clientId);
    expect(t.launcher.games.length).toBe(2);
  });

  test('only the host at the end, only after a finished round', async () => {
    const t = fakeRegistry();
    const { host, bob, oldId } = await finishedGroup(t);
    const lobby = await rejection(t.registry.again(host.rejoinKey));
    expect({ code: lobby.code, status: lobby.status }).toEqual({ code: 'not_finished', status: 409 });
    // The host left during the round and bob got the host mark: bob may start the next game, ada may not.
    finish(t, oldId, opened(t.launcher, bob)?.clientId);
    const notHost = await rejection(t.registry.again(host.rejoinKey));
    expect({ code: notHost.code, status: notHost.status }).toEqual({ code: 'not_host', status: 403 });
    expect((await t.registry.again(bob.rejoinKey)).name).toBe('bob');
    expect((await rejection(t.registry.again('C'.repeat(24)))).code).toBe('unknown_seat');
  });

  test("the report's host must be a seat of the game; otherwise the creator keeps it", async () => {
    const t = fakeRegistry();
    const { host, bob, oldId } = await finishedGroup(t);
    finish(t, oldId, 12345n);
    expect((await rejection(t.registry.again(bob.rejoinKey))).code).toBe('not_host');
    expect((await t.registry.again(host.rejoinKey)).name).toBe('ada');
  });

  test('an abandoned round, a lobby that closed, a failed game: not finished', async () => {
    const t = fakeRegistry();
    const abandoned = await t.registry.create({ name: 'a' });
    t.registry.report(abandoned.gameId, token(t.launcher, abandoned.gameId), { status: 'in_progress', difficulty: 'easy' });
    t.registry.report(abandoned.gameId, token(t.launcher, abandoned.gameId), { status: 'abandoned', results: [] });
    expect((await rejection(t.registry.again(abandoned.rejoinKey))).code).toBe('not_finished');
    const closed = await t.registry.create({ name: 'b' });
    t.launcher.last.exit('exiting', 'lobby_idle');
    expect((await rejection(t.registry.again(closed.rejoinKey))).code).toBe('not_finished');
    const crashed = await t.registry.create({ name: 'c' });
    t.launcher.last.exit('crashed');
    expect((await rejection(t.registry.again(crashed.rejoinKey))).code).toBe('not_finished');
    expect(t.launcher.games.length).toBe(3);
  });

  test('no free slot: 503 for the host, next.state failed with a message for everyone; a later again works', async () => {
    const t = fakeRegistry({ maxGames: 2 });
    const { host, oldId } = await finishedGroup(t);
    finish(t, oldId);
    // The old game's worker still holds its slot until it exits; another group holds the other.
    await t.registry.create({ name: 'someone else' });
    const error = await rejection(t.registry.again(host.rejoinKey));
    expect({ code: error.code, status: error.status }).toEqual({ code: 'capacity', status: 503 });
    expect(t.registry.status(oldId).next).toEqual({ state: 'failed', gameId: null, message: NEXT_GAME_MESSAGES.capacity });
    expect(NEXT_GAME_MESSAGES.capacity).toBe('No free game slot on this server right now; try again in a minute.');
    // The other players' keys still lead to the old, finished game.
    expect((await rejection(() => t.registry.rejoin(host.rejoinKey))).code).toBe('game_over');
    t.launcher.games[1]?.exit('crashed');
    const next = await t.registry.again(host.rejoinKey);
    expect(t.registry.status(oldId).next).toEqual({ state: 'ready', gameId: next.gameId, message: null });
  });

  test('play again twice: keys follow the chain to the newest game', async () => {
    const t = fakeRegistry();
    const { host, bob, oldId } = await finishedGroup(t);
    finish(t, oldId);
    const second = await t.registry.again(host.rejoinKey);
    finish(t, second.gameId);
    const third = await t.registry.again(host.rejoinKey);
    expect(new Set([oldId, second.gameId, third.gameId]).size).toBe(3);
    expect(t.registry.rejoin(bob.rejoinKey).gameId).toBe(third.gameId);
    expect(t.registry.watch({ watchKey: bob.watchKey, name: 'w' }).gameId).toBe(third.gameId);
    expect(t.registry.status(second.gameId).next).toMatchObject({ state: 'ready', gameId: third.gameId });
  });
});
