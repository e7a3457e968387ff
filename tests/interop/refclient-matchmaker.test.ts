/**
 * The netcode C reference client joins huddle games through the real matchmaker: the API mints the token, a real
 * game worker (one Bun worker per game) runs our netcode server on its UDP port, and `refclient` is the reference
 * `netcode_client_*` code reading that token from a file. It speaks only netcode (no game messages), so what
 * these tests pin is the protocol: handshake, keep-alives, denial, token checks and disconnects.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { CONNECT_TIMEOUT_SECONDS } from '../../src/matchmaker/tokens.ts';
import { BunWorkerLauncher } from '../../src/workers/launcher.ts';
import { freePortRange, waitFor } from '../matchmaker/support/env.ts';
import { describeInterop, RefHarness } from './support.ts';

const harness = new RefHarness();
const servers: RunningServer[] = [];
const dirs: string[] = [];

async function serve(overrides: Partial<Config> = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-interop-mm-'));
  dirs.push(dir);
  const server = await startServer({
    config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: await freePortRange(3), maxGames: 3, ...overrides },
    launcher: new BunWorkerLauncher({ stopGraceMs: 1000 }),
  });
  servers.push(server);
  return server;
}

/** The API as a player's tool uses it. */
function api(server: RunningServer) {
  const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    async create(name: string, maxPlayers?: number) {
      const response = await post('/api/games', maxPlayers ? { name, maxPlayers } : { name });
      expect(response.status).toBe(201);
      return (await response.json()) as { gameId: string; passcode: string; port: number; connectToken: string };
    },
    async join(passcode: string, name: string) {
      const response = await post('/api/games/join', { passcode, name });
      return { status: response.status, body: (await response.json()) as { connectToken: string; error?: { code: string } } };
    },
    /** Seats as the worker last reported them (heartbeats): name → connected. */
    seats(gameId: string): Record<string, boolean | null> {
      const game = server.registry.adminGames().find((g) => g.gameId === gameId);
      return Object.fromEntries((game?.players ?? []).map((p) => [p.name, p.connected]));
    },
    players: (gameId: string) => server.registry.status(gameId).players,
  };
}

let server: RunningServer;
let mm: ReturnType<typeof api>;

beforeAll(async () => {
  // No rejoin grace: a player who disconnects is gone at once, so a freed slot shows in the player count. (With
  // the default grace the seat is held for a rejoin by design; a netcode-only client cannot say "leave".)
  server = await serve({ rejoinGraceSeconds: 0 });
  mm = api(server);
});

afterEach(async () => {
  await harness.cleanup();
  // A test that failed half-way must not leave its games holding the next test's slots.
  for (const s of servers) {
    for (const game of s.registry.adminGames()) s.registry.adminEnd(game.gameId);
    await waitFor(() => s.registry.adminGames().length === 0, 5000, 'games to end');
  }
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const CONNECTED_LINE = /state \S+ -> CONNECTED/;

describeInterop('the netcode C reference client against the real matchmaker and game workers', () => {
  test('joins as host (create) and as joiner (passcode); both are seated and receive the lobby', async () => {
    const game = await mm.create('host');
    const joined = await mm.join(game.passcode, 'joiner');
    expect(joined.status).toBe(200);
    const host = harness.refclient(harness.tokenFile(game.connectToken), { label: 'host', hold: 3 });
    const joiner = harness.refclient(harness.tokenFile(joined.body.connectToken), { label: 'joiner', hold: 3 });
    // While both hold, the worker reports both seats connected (each client disconnects when it exits).
    await waitFor(() => {
      const seats = mm.seats(game.gameId);
      return seats.host === true && seats.joiner === true && mm.players(game.gameId) === 2;
    }, 4000, 'both seats connected');
    const [h, j] = await Promise.all([host.result(), joiner.result()]);
    for (const r of [h, j]) {
      expect(r).toMatchObject({ exitCode: '0', connected: 'yes', stayed_connected: 'yes', final_state: 'CONNECTED' });
      expect(Number(r.max_clients)).toBeGreaterThanOrEqual(2);
      // The lobby state reached a client that speaks only netcode: payloads from our server opened by the reference.
      expect(Number(r.payloads_received)).toBeGreaterThan(0);
    }
    expect(new Set([h.index, j.index]).size).toBe(2);
  }, 20_000);

  test('the same token from another client (another socket and port) is refused while the first is connected', async () => {
    const game = await mm.create('host');
    const file = harness.tokenFile(game.connectToken);
    const first = harness.refclient(file, { label: 'first', hold: 6 });
    await first.waitForLine(CONNECTED_LINE, 6000);
    const second = harness.refclient(file, { label: 'second', secs: 2.5 });
    const s = await second.result();
    expect(s).toMatchObject({ exitCode: '1', connected: 'no', payloads_received: '0' });
    // Not even a challenge came back: the request itself was dropped.
    expect(second.lines.some((line) => line.includes('SENDING_CONNECTION_RESPONSE'))).toBe(false);
    // The first is still held, alone in its seat.
    expect(first.lines.some((line) => line.startsWith('RESULT '))).toBe(false);
    expect(mm.seats(game.gameId)).toEqual({ host: true });
    const f = await first.result();
    expect(f).toMatchObject({ connected: 'yes', stayed_connected: 'yes', final_state: 'CONNECTED' });
  }, 20_000);

  test('a full game: a token minted before it filled is denied by the worker (CONNECTION_DENIED)', async () => {
    const game = await mm.create('host', 2);
    const early = await mm.join(game.passcode, 'early');
    const late = await mm.join(game.passcode, 'late');
    expect([early.status, late.status]).toEqual([200, 200]);
    const host = harness.refclient(harness.tokenFile(game.connectToken), { label: 'host', hold: 5 });
    const first = harness.refclient(harness.tokenFile(early.body.connectToken), { label: 'early', hold: 5 });
    await Promise.all([host.waitForLine(CONNECTED_LINE, 6000), first.waitForLine(CONNECTED_LINE, 6000)]);
    const third = await harness.refclient(harness.tokenFile(late.body.connectToken), { label: 'late', secs: 3 }).result();
    expect(third).toMatchObject({ exitCode: '1', connected: 'no', final_state: 'CONNECTION_DENIED' });
    expect((await mm.join(game.passcode, 'another')).body.error?.code).toBe('game_full');
    for (const r of await Promise.all([host.result(), first.result()])) expect(r).toMatchObject({ stayed_connected: 'yes' });
  }, 25_000);

  test(`stays connected on keep-alives alone past the ${CONNECT_TIMEOUT_SECONDS} s timeout`, async () => {
    const game = await mm.create('host');
    // It sends no payloads: all the worker hears from it for longer than the timeout is its keep-alives.
    const hold = CONNECT_TIMEOUT_SECONDS + 2;
    const client = harness.refclient(harness.tokenFile(game.connectToken), { label: 'idle', hold });
    await client.waitForLine(CONNECTED_LINE, 6000);
    await Bun.sleep((CONNECT_TIMEOUT_SECONDS + 1) * 1000);
    expect(mm.seats(game.gameId)).toEqual({ host: true });
    const r = await client.result();
    expect(r).toMatchObject({ exitCode: '0', stayed_connected: 'yes', final_state: 'CONNECTED', payloads_sent: '0' });
    expect(Number(r.held_s)).toBeGreaterThanOrEqual(hold - 0.5);
  }, 40_000);

  test('a clean disconnect frees the slot at once: the player count goes back and a new player takes it', async () => {
    const game = await mm.create('host', 2);
    const joined = await mm.join(game.passcode, 'leaver');
    const host = harness.refclient(harness.tokenFile(game.connectToken), { label: 'host', hold: 8 });
    const leaver = harness.refclient(harness.tokenFile(joined.body.connectToken), { label: 'leaver', hold: 1, disconnect: true });
    await Promise.all([host.waitForLine(CONNECTED_LINE, 6000), leaver.waitForLine(CONNECTED_LINE, 6000)]);
    await waitFor(() => mm.players(game.gameId) === 2, 3000, 'two players');
    expect((await mm.join(game.passcode, 'waiting')).body.error?.code).toBe('game_full');
    expect(await leaver.result()).toMatchObject({ exitCode: '0', connected: 'yes', stayed_connected: 'yes' });
    expect(leaver.lines.some((line) => line.includes('sent clean disconnect'))).toBe(true);
    // Well inside the timeout: the disconnect packets, not silence, freed it.
    const freedBy = Date.now() + (CONNECT_TIMEOUT_SECONDS / 2) * 1000;
    await waitFor(() => mm.players(game.gameId) === 1, CONNECT_TIMEOUT_SECONDS * 500, 'the slot to be freed');
    expect(Date.now()).toBeLessThan(freedBy);
    const next = await mm.join(game.passcode, 'next');
    expect(next.status).toBe(200);
    const taker = await harness.refclient(harness.tokenFile(next.body.connectToken), { label: 'next', hold: 1 }).result();
    expect(taker).toMatchObject({ exitCode: '0', connected: 'yes', stayed_connected: 'yes' });
    expect(await host.result()).toMatchObject({ stayed_connected: 'yes' });
  }, 30_000);

  test('an expired token is refused (a fresh one from the same server is admitted)', async () => {
    // Long enough for the fresh token to be used on a loaded machine (spawning the reference client), short enough
    // to wait out.
    const short = api(await serve({ tokenExpirySeconds: 3 }));
    const game = await short.create('host');
    const joined = await short.join(game.passcode, 'late');
    const fresh = await harness.refclient(harness.tokenFile(game.connectToken), { label: 'fresh' }).result();
    expect(fresh).toMatchObject({ exitCode: '0', connected: 'yes' });
    // Wait past the token's expire timestamp before sending the first request.
    const late = harness.refclient(harness.tokenFile(joined.body.connectToken), { label: 'late', delay: 4.2, secs: 3 });
    const r = await late.result();
    expect(r).toMatchObject({ exitCode: '1', connected: 'no', payloads_received: '0' });
    expect(late.lines.some((line) => line.includes('SENDING_CONNECTION_RESPONSE'))).toBe(false);
    expect(short.seats(game.gameId).late).not.toBe(true);
  }, 25_000);
});
