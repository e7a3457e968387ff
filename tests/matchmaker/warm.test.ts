/**
 * Warm games (src/matchmaker/registry/warm.ts) over a fake launcher: a create takes a game server started ahead,
 * with its identity and secrets; the pool never holds more than the slots allow, gives back what a warm game that
 * dies held, backs off when they keep failing, and stops with the node.
 */
import { describe, expect, test } from 'bun:test';
import type { LogFields, Logger } from '../../src/log.ts';
import { GameRegistry } from '../../src/matchmaker/registry.ts';
import { ResultsStore } from '../../src/matchmaker/results-store.ts';
import { MemoryGameStateStore } from '../../src/matchmaker/registry/memory-store.ts';
import { secretTexts } from '../../src/matchmaker/registry/game-record.ts';
import { openConnectTokenPrivate, readConnectToken } from '../../src/protocol/netcode/connect-token.ts';
import { isRejection } from '../../src/protocol/netcode/rejection.ts';
import { HUDDLE_PROTOCOL_ID } from '../../src/protocol/constants.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config.ts';
import { SingleNodeDirectory } from '../../src/matchmaker/cluster/single-node-directory.ts';
import { startServer } from '../../src/matchmaker/server.ts';
import { waitFor } from './support/env.ts';
import { FakeLauncher } from './support/fake-launcher.ts';
import { rejection, testSettings } from './support/registry.ts';
import type { RegistrySettings } from '../../src/matchmaker/registry/types.ts';

/** A logger that remembers lines and which values are protected right now. */
class RecordingLogger implements Logger {
  readonly lines: { level: string; event: string; fields: LogFields }[] = [];
  readonly protectedNow = new Map<string, number>();
  debug(event: string, fields: LogFields = {}) {
    this.lines.push({ level: 'debug', event, fields });
  }
  info(event: string, fields: LogFields = {}) {
    this.lines.push({ level: 'info', event, fields });
  }
  warn(event: string, fields: LogFields = {}) {
    this.lines.push({ level: 'warn', event, fields });
  }
  error(event: string, fields: LogFields = {}) {
    this.lines.push({ level: 'error', event, fields });
  }
  protect(secret: string) {
    this.protectedNow.set(secret, (this.protectedNow.get(secret) ?? 0) + 1);
  }
  unprotect(secret: string) {
    const n = (this.protectedNow.get(secret) ?? 0) - 1;
    if (n <= 0) this.protectedNow.delete(secret);
    else this.protectedNow.set(secret, n);
  }
}

function warmRegistry(overrides: Partial<RegistrySettings> = {}, launcherOptions: { autoReady?: boolean; warm?: boolean } = {}) {
  const launcher = new FakeLauncher({ warm: true, ...launcherOptions });
  const log = new RecordingLogger();
  const settings = testSettings({ warmGames: 1, ...overrides });
  const registry = new GameRegistry({
    settings,
    launcher,
    store: new ResultsStore(':memory:'),
    reportUrl: (id) => `http://127.0.0.1:9/internal/games/${id}/report`,
    log,
  });
  return { registry, launcher, log, settings, ports: settings.gamePorts.last - settings.gamePorts.first + 1 };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('warm games', () => {
  test('warmUp starts one game server standing by: it holds a port, not a slot, and waits for the node limit', async () => {
    const { registry, launcher, ports } = warmRegistry();
    expect(launcher.games).toHaveLength(0);
    registry.warmUp();
    expect(launcher.games).toHaveLength(1);
    const env = launcher.last.spec.env;
    expect(env.standby).toBe(true);
    expect(env.maxPlayers).toBe(8);
    expect(env.reportUrl).toContain(env.gameId);
    await tick();
    expect(registry.live).toBe(0);
    expect(registry.freePorts).toBe(ports - 1);
    expect(registry.snapshot().warm).toEqual({ standingBy: 1, claimed: 0, missed: 0 });
    expect(registry.metrics.render(registry.snapshot())).toContain('huddle_warm_games 1\n');
    await registry.drain();
  });

  test('a create takes the warm game: its id, port, secrets and host seat, and begin with the players asked for', async () => {
    const { registry, launcher, log } = warmRegistry();
    registry.warmUp();
    await tick();
    const warm = launcher.last;
    const ticket = await registry.create({ name: 'Ada', maxPlayers: 3 });
    expect(ticket.gameId).toBe(warm.spec.env.gameId);
    expect(ticket.port).toBe(warm.spec.env.port);
    expect(ticket.maxPlayers).toBe(3);
    expect(warm.begins).toEqual([3]);
    // The host's token is sealed with the warm game's own private key, for its host client id.
    const token = readConnectToken(new Uint8Array(Buffer.from(ticket.connectToken, 'base64')));
    if (isRejection(token)) throw new Error('unreadable token');
    const opened = openConnectTokenPrivate(token, HUDDLE_PROTOCOL_ID, warm.spec.env.privateKey);
    if (isRejection(opened)) throw new Error('the warm game key does not open the token');
    expect(opened.clientId).toBe(warm.spec.env.hostClientId);
    // Its secrets stay guarded while the game lives; a new warm game stands by in its place.
    for (const text of secretTexts({ privateKey: warm.spec.env.privateKey, reportToken: new Uint8Array(Buffer.from(warm.spec.env.reportToken, 'base64url')) })) {
      expect(log.protectedNow.has(text)).toBe(true);
    }
    // Its replacement starts once the create has answered, not beside it.
    expect(launcher.games).toHaveLength(1);
    await tick();
    expect(launcher.games).toHaveLength(2);
    expect(launcher.games[1]?.spec.env.gameId).not.toBe(ticket.gameId);
    expect(registry.snapshot().warm.claimed).toBe(1);
    await registry.drain();
    expect(log.protectedNow.size).toBe(0);
  });

  test('live + warm never exceeds the slots: the last slot is taken warm, and a slot given back warms again', async () => {
    const { registry, launcher } = warmRegistry({ maxGames: 2 });
    registry.warmUp();
    await tick();
    const a = await registry.create({ name: 'a' });
    await tick();
    expect(launcher.games).toHaveLength(2);
    const b = await registry.create({ name: 'b' });
    expect(b.gameId).toBe(launcher.games[1]!.spec.env.gameId);
    // Two live games fill both slots: nothing is started ahead of a third.
    expect(launcher.games).toHaveLength(2);
    expect(registry.hasFreeSlot).toBe(false);
    expect((await rejection(registry.create({ name: 'c' }))).code).toBe('capacity');
    launcher.byId(a.gameId).exit('exiting', 'lobby_empty');
    await tick();
    expect(launcher.games).toHaveLength(3);
    expect(launcher.last.spec.env.standby).toBe(true);
    await registry.drain();
  });

  test('a create while the warm game is still starting waits for it, then begins it', async () => {
    const { registry, launcher } = warmRegistry({}, { autoReady: false });
    registry.warmUp();
    const warm = launcher.last;
    const created = registry.create({ name: 'Ada' });
    await tick();
    expect(warm.begins).toEqual([]);
    warm.standby();
    expect(warm.begins).toEqual([8]);
    warm.ready();
    expect((await created).gameId).toBe(warm.spec.env.gameId);
    await tick();
    expect(launcher.games).toHaveLength(2);
    launcher.games[1]?.exit('stopped');
    await registry.drain();
  });

  test('a warm game that dies while claimed fails that create with 503, and its port comes back', async () => {
    const { registry, launcher, ports } = warmRegistry({}, { autoReady: false });
    registry.warmUp();
    const warm = launcher.last;
    warm.standby();
    const created = registry.create({ name: 'Ada' });
    warm.exit('crashed');
    expect((await rejection(created)).code).toBe('start_failed');
    expect(registry.status(warm.spec.env.gameId)).toMatchObject({ state: 'failed' });
    // Only its replacement, started once the failed create has answered, holds a port; none after the drain.
    await tick();
    expect(launcher.games).toHaveLength(2);
    expect(registry.freePorts).toBe(ports - 1);
    await registry.drain();
    expect(registry.freePorts).toBe(ports);
  });

  test('a warm game that dies unclaimed gives back its port and secrets; failures in a row back off, logged once', async () => {
    const { registry, launcher, log, ports } = warmRegistry({}, { autoReady: false });
    registry.warmUp();
    const first = launcher.last;
    const firstSecrets = secretTexts({ privateKey: first.spec.env.privateKey, reportToken: new Uint8Array(Buffer.from(first.spec.env.reportToken, 'base64url')) });
    expect(firstSecrets.every((text) => log.protectedNow.has(text))).toBe(true);
    first.exit('crashed');
    expect(registry.freePorts).toBe(ports);
    expect(firstSecrets.some((text) => log.protectedNow.has(text))).toBe(false);
    expect(first.spec.env.privateKey.every((byte) => byte === 0)).toBe(true);
    // Not restarted at once: a broken setup must not spin.
    expect(launcher.games).toHaveLength(1);
    // A create meanwhile starts its game cold, as without warm games.
    launcher.autoReady = true;
    const cold = await registry.create({ name: 'Ada' });
    expect(launcher.byId(cold.gameId).spec.env.standby).toBeUndefined();
    expect(registry.snapshot().warm).toMatchObject({ claimed: 0, missed: 1 });
    // A create whose cold start could not even begin started nothing: not counted.
    launcher.throwOnLaunch = true;
    expect((await rejection(registry.create({ name: 'Bob' }))).code).toBe('start_failed');
    launcher.throwOnLaunch = false;
    expect(registry.snapshot().warm).toMatchObject({ claimed: 0, missed: 1 });
    launcher.autoReady = false;
    await waitFor(() => launcher.games.length === 3, 3000, 'the next warm game after the back-off');
    launcher.last.exit('start_timeout');
    expect(log.lines.filter((line) => line.event === 'warm.failed')).toHaveLength(1);
    // The second failure in a row waits twice as long (2 s): nothing within the first.
    await Bun.sleep(1200);
    expect(launcher.games).toHaveLength(3);
    await registry.drain();
  });

  test('a create that fails before its record takes the warm game stops it and gives back its port and secrets', async () => {
    class FailingPasscodes extends MemoryGameStateStore {
      fail = true;
      override issuePasscode(gameId: string): string {
        if (this.fail) throw new Error('no passcode');
        return super.issuePasscode(gameId);
      }
    }
    const state = new FailingPasscodes();
    const launcher = new FakeLauncher({ warm: true, exitOnStop: false });
    const log = new RecordingLogger();
    const settings = testSettings({ warmGames: 1 });
    const registry = new GameRegistry({ settings, launcher, store: new ResultsStore(':memory:'), reportUrl: (id) => `http://127.0.0.1:9/r/${id}`, log, state });
    registry.warmUp();
    await tick();
    const warm = launcher.last;
    const ports = settings.gamePorts.last - settings.gamePorts.first + 1;
    await expect(registry.create({ name: 'Ada' })).rejects.toThrow('no passcode');
    await tick();
    expect(warm.stops).toEqual(['the create failed']);
    // Until it has exited it still holds its port (and counts as held: no second one is started beside it).
    expect(registry.warmStats?.held).toBe(1);
    expect(registry.freePorts).toBe(ports - 1);
    expect(launcher.games).toHaveLength(1);
    // Not counted as taken: its create never had it.
    expect(registry.snapshot().warm).toMatchObject({ claimed: 0, missed: 0 });
    warm.exit('stopped');
    // Its port and secrets are back; the replacement holds a port and secrets of its own.
    expect(launcher.games).toHaveLength(2);
    expect(registry.freePorts).toBe(ports - 1);
    expect(log.protectedNow.size).toBe(2);
    expect(warm.spec.env.privateKey.every((byte) => byte === 0)).toBe(true);
    state.fail = false;
    const game = await registry.create({ name: 'Ada' });
    expect(game.gameId).toBe(launcher.games[1]!.spec.env.gameId);
    expect(registry.snapshot().warm).toMatchObject({ claimed: 1, missed: 0 });
    const draining = registry.drain();
    await tick();
    for (const g of launcher.games) if (!g.exited) g.exit('stopped');
    await draining;
    expect(log.protectedNow.size).toBe(0);
    expect(registry.freePorts).toBe(ports);
  });

  test('begin carries what is left of the create\'s start timeout; a game that cannot begin fails the create', async () => {
    const { registry, launcher, settings } = warmRegistry({}, { autoReady: false });
    registry.warmUp();
    const warm = launcher.last;
    warm.standby();
    const created = registry.create({ name: 'Ada' });
    expect(warm.beginTimeouts).toHaveLength(1);
    expect(warm.beginTimeouts[0]).toBeLessThanOrEqual(settings.workerStartTimeoutMs);
    expect(warm.beginTimeouts[0]).toBeGreaterThan(settings.workerStartTimeoutMs - 500);
    warm.ready();
    await created;
    // A handle that refuses begin (here: as if it had none) is stopped instead of leaving the create waiting.
    await tick();
    const next = launcher.last;
    next.standby();
    next.begin = () => false;
    const refused = registry.create({ name: 'Bob' });
    expect(next.stops).toEqual(['the game could not begin']);
    expect((await rejection(refused)).code).toBe('start_failed');
    await registry.drain();
  });

  test('a warm game that starts fine ends a failure streak, even when a create took it before it stood by', async () => {
    const { registry, launcher, log } = warmRegistry({}, { autoReady: false });
    registry.warmUp();
    launcher.last.exit('crashed');
    await waitFor(() => launcher.games.length === 2, 3000, 'the next warm game after 1 s');
    const second = launcher.last;
    const created = registry.create({ name: 'Ada' });
    second.standby();
    second.ready();
    await created;
    await tick();
    launcher.last.exit('crashed');
    // A new streak: logged again, and its back-off starts at 1 s again, not 2.
    expect(log.lines.filter((line) => line.event === 'warm.failed')).toHaveLength(2);
    await waitFor(() => launcher.games.length === 4, 1800, 'the next warm game after 1 s');
    launcher.last.exit('stopped');
    await registry.drain();
  });

  test('a drain stops the warm games and waits for them; none is made after', async () => {
    const { registry, launcher, ports } = warmRegistry();
    registry.warmUp();
    await tick();
    const game = await registry.create({ name: 'Ada' });
    await tick();
    await registry.drain();
    expect(launcher.games.every((g) => g.exited)).toBe(true);
    expect(launcher.games[1]?.stops).toEqual(['the server is shutting down']);
    expect(registry.freePorts).toBe(ports);
    expect(registry.status(game.gameId).state).toBe('failed');
    registry.warmUp();
    expect(launcher.games).toHaveLength(2);
  });

  test('the server warms up only once its start cannot fail: a start that fails leaves no warm game behind', async () => {
    class FailingDirectory extends SingleNodeDirectory {
      override async start(): Promise<void> {
        throw new Error('the directory is broken');
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'huddle-warm-'));
    try {
      const launcher = new FakeLauncher({ warm: true });
      const config = { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: { first: 41100, last: 41103 }, maxGames: 4 };
      await expect(startServer({ config, launcher, directory: (id) => new FailingDirectory(id) })).rejects.toThrow('the directory is broken');
      expect(launcher.games).toHaveLength(0);
      // And a start that succeeds has its warm game standing by, stopped with the server.
      const server = await startServer({ config, launcher });
      await tick();
      expect(launcher.games).toHaveLength(1);
      expect(server.registry.warmStats?.standingBy).toBe(1);
      await server.stop();
      expect(launcher.last.exited).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no warm games with a launcher that cannot start them warm, or with warmGames 0', async () => {
    for (const { registry, launcher } of [warmRegistry({}, { warm: false }), warmRegistry({ warmGames: 0 })]) {
      registry.warmUp();
      await registry.create({ name: 'Ada' });
      expect(launcher.games).toHaveLength(1);
      expect(launcher.last.spec.env.standby).toBeUndefined();
      await registry.drain();
    }
  });
});
