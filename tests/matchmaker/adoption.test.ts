/**
 * The registry's side of a restart with `--launcher process` (src/matchmaker/registry/adopt.ts), with a launcher
 * that starts nothing: each live game's record on disk follows its seats and state and goes with its slot; a new
 * registry on the same directory takes the games back so that passcodes, rejoin, watch and invite keys, the play
 * again chain and the ports work as before; what cannot be adopted ends `lost_in_restart`; files that are not
 * records are removed, never trusted.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GameRegistry } from '../../src/matchmaker/registry.ts';
import { parseAdoptionRecord } from '../../src/matchmaker/registry/adopt.ts';
import { ResultsStore } from '../../src/matchmaker/results-store.ts';
import type { AdoptSpec, GameHandle, LauncherEvent } from '../../src/workers/launcher.ts';
import { FakeGame, FakeLauncher } from './support/fake-launcher.ts';
import { rejection, testSettings } from './support/registry.ts';

/** A fake launcher whose games have a process identity (so they get records) and that can adopt. */
class AdoptingLauncher extends FakeLauncher {
  readonly adopted: { spec: AdoptSpec; onEvent: (event: LauncherEvent) => void; stops: string[] }[] = [];
  /** What an adoption finds: by default the process reconnects; `gone` ends it at once (a dead pid). */
  gone = new Set<number>();

  override launch(spec: Parameters<FakeLauncher['launch']>[0], onEvent: (event: LauncherEvent) => void): GameHandle {
    const game = super.launch(spec, onEvent) as FakeGame;
    return Object.assign(game, { process: { pid: 100000 + this.games.length, startTime: '42' } });
  }

  adopt(spec: AdoptSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    const entry = { spec, onEvent, stops: [] as string[] };
    this.adopted.push(entry);
    if (this.gone.has(spec.process.pid)) onEvent({ type: 'exit', cause: 'lost_in_restart', detail: 'fake: pid gone' });
    return {
      process: spec.process,
      stop: (reason) => {
        entry.stops.push(reason);
        queueMicrotask(() => onEvent({ type: 'exit', cause: 'stopped', detail: 'fake stop' }));
      },
    };
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-adopt-'));
  dirs.push(dir);
  const gamesDir = join(dir, 'games');
  const store = new ResultsStore(':memory:');
  const registry = (launcher: AdoptingLauncher) =>
    new GameRegistry({ settings: testSettings(), launcher, store, reportUrl: (id) => `http://127.0.0.1:9/internal/games/${id}/report`, adoptionDir: gamesDir });
  const files = () => readdirSync(gamesDir).filter((n) => n.endsWith('.json')).sort();
  const read = (gameId: string) => JSON.parse(readFileSync(join(gamesDir, `${gameId}.json`), 'utf8')) as Record<string, unknown>;
  return { gamesDir, registry, files, read };
}

describe('adoption records', () => {
  test('a record follows its game (launch, seats, state) and goes with its slot; 0700 directory, 0600 file', async () => {
    const s = setup();
    const launcher = new AdoptingLauncher();
    const registry = s.registry(launcher);
    const created = await registry.create({ name: 'host' });
    expect(s.files()).toEqual([`${created.gameId}.json`]);
    expect(statSync(s.gamesDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(s.gamesDir, `${created.gameId}.json`)).mode & 0o777).toBe(0o600);
    expect(s.read(created.gameId)).toMatchObject({ state: 'lobby', passcode: created.passcode, process: { pid: 100001, startTime: '42' } });

    registry.join({ passcode: created.passcode, name: 'ann' });
    expect((s.read(created.gameId).seats as { name: string }[]).map((seat) => seat.name)).toEqual(['host', 'ann']);
    registry.report(created.gameId, readToken(s.read(created.gameId)), { status: 'in_progress', difficulty: 'hard' });
    expect(s.read(created.gameId)).toMatchObject({ state: 'in_progress', difficulty: 'hard' });
    // No key in clear: only hashes and sealed keys.
    const text = readFileSync(join(s.gamesDir, `${created.gameId}.json`), 'utf8');
    for (const key of [created.rejoinKey, created.watchKey, created.inviteKey]) expect(text).not.toContain(key);

    launcher.last.exit('exiting', 'round_over');
    expect(s.files()).toEqual([]);
  });

  test('a new registry takes the games back: passcode, rejoin, watch and invite keys, seats and ports as before', async () => {
    const s = setup();
    const before = s.registry(new AdoptingLauncher());
    const lobby = await before.create({ name: 'host' });
    const ann = before.join({ passcode: lobby.passcode, name: 'ann' });
    const playing = await before.create({ name: 'second' });
    before.report(playing.gameId, readToken(s.read(playing.gameId)), { status: 'in_progress', difficulty: 'easy' });
    const freeBefore = before.freePorts;

    const launcher = new AdoptingLauncher();
    const after = s.registry(launcher);
    expect(after.adopt()).toEqual({ adopted: 2, lost: 0 });
    expect(launcher.adopted.map((a) => a.spec.gameId).sort()).toEqual([lobby.gameId, playing.gameId].sort());
    expect(launcher.adopted.every((a) => a.spec.reconnectTimeoutMs >= 10_000)).toBe(true);
    expect(after.live).toBe(2);
    expect(after.freePorts).toBe(freeBefore);
    expect(after.status(lobby.gameId)).toMatchObject({ state: 'lobby' });
    expect(after.status(playing.gameId)).toMatchObject({ state: 'in_progress', difficulty: 'easy' });

    // The passcode admits, names stay unique, keys open the same seats with the same keys as before.
    expect(after.join({ passcode: lobby.passcode, name: 'ann' }).name).toBe('ann (2)');
    const back = after.rejoin(ann.rejoinKey);
    expect(back).toMatchObject({ gameId: lobby.gameId, name: 'ann', watchKey: ann.watchKey, inviteKey: ann.inviteKey, passcode: lobby.passcode });
    expect(after.watch({ watchKey: lobby.watchKey, name: 'eve' }).gameId).toBe(lobby.gameId);
    expect(after.joinByInvite({ invite: lobby.inviteKey, name: 'bob' }).gameId).toBe(lobby.gameId);
    expect(after.rejoin(playing.rejoinKey)).toMatchObject({ gameId: playing.gameId, name: 'second' });
    // The reporting token authenticates as before: the round can finish.
    expect(after.report(playing.gameId, readToken(s.read(playing.gameId)), { status: 'finished', results: [{ name: 'second', score: 3 }] })).toEqual({ gameId: playing.gameId, state: 'finished' });
    expect((await rejection(() => after.report(lobby.gameId, 'x'.repeat(43), { status: 'in_progress', difficulty: 'easy' }))).code).toBe('unauthorized');
  });

  test('play again survives too: the group\'s keys lead to the new game, the old one names it as next', async () => {
    const s = setup();
    const before = s.registry(new AdoptingLauncher());
    const first = await before.create({ name: 'host' });
    const ann = before.join({ passcode: first.passcode, name: 'ann' });
    const token = readToken(s.read(first.gameId));
    before.report(first.gameId, token, { status: 'in_progress', difficulty: 'normal' });
    before.report(first.gameId, token, { status: 'finished', results: [{ name: 'host', score: 1 }, { name: 'ann', score: 2 }] });
    const next = await before.again(first.rejoinKey);
    expect(next.gameId).not.toBe(first.gameId);

    const after = s.registry(new AdoptingLauncher());
    expect(after.adopt()).toEqual({ adopted: 2, lost: 0 });
    expect(after.status(first.gameId).next).toEqual({ state: 'ready', gameId: next.gameId, message: null });
    expect(after.rejoin(ann.rejoinKey)).toMatchObject({ gameId: next.gameId, name: 'ann' });
    expect(after.watch({ watchKey: first.watchKey, name: 'eve' }).gameId).toBe(next.gameId);
    expect(after.joinByInvite({ invite: ann.inviteKey, name: 'bob' }).gameId).toBe(next.gameId);
  });

  test('a dead process, a game still starting, a broken file: lost_in_restart or removed, ports back', async () => {
    const s = setup();
    const first = new AdoptingLauncher({ autoReady: false });
    const before = s.registry(first);
    const starting = before.create({ name: 'slow' }).catch(() => undefined);
    first.autoReady = true;
    const dead = await before.create({ name: 'dead' });
    writeFileSync(join(s.gamesDir, 'junk.json'), '{"version":1,"id":"../../etc"}');
    writeFileSync(join(s.gamesDir, 'half.json.123.tmp'), '{');
    const startingId = first.games[0]!.spec.env.gameId;
    void starting;

    const launcher = new AdoptingLauncher();
    launcher.gone.add((s.read(dead.gameId).process as { pid: number }).pid);
    const after = s.registry(launcher);
    const freeAll = testSettings().gamePorts.last - testSettings().gamePorts.first + 1;
    expect(after.adopt()).toEqual({ adopted: 0, lost: 2 });
    await Bun.sleep(0);
    expect(after.status(dead.gameId)).toMatchObject({ state: 'failed', endReason: 'lost_in_restart' });
    expect(after.status(startingId)).toMatchObject({ state: 'failed', endReason: 'lost_in_restart' });
    // The one still starting was asked to stop (its process killed); nothing is left on disk.
    expect(launcher.adopted.find((a) => a.spec.gameId === startingId)?.stops).toHaveLength(1);
    expect(readdirSync(s.gamesDir)).toEqual([]);
    expect(after.live).toBe(0);
    expect(after.freePorts).toBe(freeAll);
    expect((await rejection(() => after.join({ passcode: dead.passcode, name: 'x' }))).code).toBe('wrong_passcode');
  });

  test('parseAdoptionRecord accepts what the journal writes and nothing malformed', async () => {
    const s = setup();
    const registry = s.registry(new AdoptingLauncher());
    const created = await registry.create({ name: 'host' });
    const good = s.read(created.gameId);
    expect(parseAdoptionRecord(good)).toBeDefined();
    for (const broken of [
      { ...good, version: 2 },
      { ...good, id: '../x' },
      { ...good, port: 70000 },
      { ...good, state: 'dancing' },
      { ...good, secrets: { privateKey: 'short', reportToken: 'x' } },
      { ...good, process: { pid: 1, startTime: '' } },
      { ...good, seats: [{ clientId: '-1', name: 'x', kind: 'player', released: false, keyHash: null }] },
      null,
      'text',
    ]) {
      expect(parseAdoptionRecord(broken)).toBeUndefined();
    }
  });
});

function readToken(record: Record<string, unknown>): string {
  return (record.secrets as { reportToken: string }).reportToken;
}
