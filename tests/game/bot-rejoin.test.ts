/**
 * `huddle bot` after a lost connection: it asks for a fresh ticket with its rejoin key and takes its seat back.
 * A real game session and netcode server on a real UDP socket (as the game worker runs them), and a stand-in for
 * the matchmaker's join and rejoin routes (docs/SEATS.md) that mints real connect tokens for the same seat.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { type BotEvent, runBot } from '../../src/bot.ts';
import { ArenaRound } from '../../src/game/arena-round.ts';
import { createGameLink } from '../../src/game/peer-link.ts';
import { encodeSeatData } from '../../src/game/seat-data.ts';
import { GameSession } from '../../src/game/session.ts';
import { sessionNetcodeEvents } from '../../src/game/session-netcode.ts';
import { HUDDLE_PROTOCOL_ID } from '../../src/protocol/constants.ts';
import { parseAddress } from '../../src/protocol/netcode/address.ts';
import { generateConnectToken } from '../../src/protocol/netcode/connect-token.ts';
import { NetcodeServer } from '../../src/protocol/netcode/server.ts';
import type { DatagramTransport } from '../../src/protocol/transport/transport.ts';
import { openUdpTransport } from '../../src/protocol/transport/udp.ts';

const now = () => Date.now() / 1000;

interface Game {
  url: string;
  session: GameSession;
  /** While true, nothing the game sends reaches anyone: the bot's network is gone. */
  cut: { value: boolean };
  rejoinBodies: unknown[];
  /** Answer for the rejoin route (default: a fresh ticket for the same seat). */
  rejoinStatus: { value: number };
  released: bigint[];
  close(): void;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function startGame(rejoinGraceSeconds = 20): Promise<Game> {
  const privateKey = crypto.getRandomValues(new Uint8Array(32));
  const cut = { value: false };
  const released: bigint[] = [];
  let server: NetcodeServer | undefined;
  const socket: DatagramTransport = await openUdpTransport({ hostname: '127.0.0.1', port: 0, onDatagram: (d, h, p) => server?.receive(d, h, p, now()) });
  const session = new GameSession(
    {
      maxPlayers: 4,
      maxSpectators: 2,
      lobbyTimeoutSeconds: 60,
      roundSeconds: 30,
      rejoinGraceSeconds,
      createLink: createGameLink,
      createRound: (setup) => new ArenaRound(setup),
    },
    {
      sendPayload: (index, payload) => server?.sendPayload(index, payload, now()),
      disconnect: (index) => server?.disconnectClient(index, now()),
      report: async () => ({ ok: true }),
      onPlayersChanged: () => {},
      onSeatReleased: (id) => released.push(id),
      onEnd: () => {},
      log: () => {},
    },
    now(),
  );
  const port = socket.localPort;
  server = new NetcodeServer(
    { protocolId: HUDDLE_PROTOCOL_ID, privateKey, maxClients: 6, publicAddress: parseAddress(`127.0.0.1:${port}`) },
    {
      send: (data, host, p) => !cut.value && socket.send(data, host, p),
      // The worker's own wiring.
      ...sessionNetcodeEvents(session, now),
    },
  );
  server.start();
  const loop = setInterval(() => {
    server?.update(now());
    session.update(now());
  }, 1000 / 30);

  const ticket = (clientId: bigint, name: string) => ({
    gameId: 'g1',
    port,
    passcode: 'ABC123',
    rejoinKey: `key-${clientId}`,
    watchKey: 'watch-1',
    name,
    role: 'player',
    expiresAt: new Date(Date.now() + 30_000).toISOString(),
    connectToken: Buffer.from(
      generateConnectToken({
        protocolId: HUDDLE_PROTOCOL_ID,
        privateKey,
        clientId,
        serverAddresses: [parseAddress(`127.0.0.1:${port}`)],
        userData: encodeSeatData({ name, kind: 'player' }),
        expireSeconds: 30,
        // Short, so the lost connection shows within the test's time.
        timeoutSeconds: 1,
        nowSeconds: now(),
      }).bytes,
    ).toString('base64'),
  });
  const rejoinBodies: unknown[] = [];
  const rejoinStatus = { value: 200 };
  const http = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      const body = (await request.json()) as Record<string, unknown>;
      if (path === '/api/games/join') return Response.json(ticket(7n, String(body.name)));
      if (path === '/api/games/rejoin') {
        rejoinBodies.push(body);
        if (rejoinStatus.value !== 200) return Response.json({ error: { code: 'game_over', message: 'The seat was given up' } }, { status: rejoinStatus.value });
        return Response.json(ticket(7n, 'bob'));
      }
      return Response.json({ error: { code: 'not_found', message: 'no such route' } }, { status: 404 });
    },
  });
  const game: Game = {
    url: `http://127.0.0.1:${http.port}`,
    session,
    cut,
    rejoinBodies,
    rejoinStatus,
    released,
    close: () => {
      clearInterval(loop);
      server?.stop(now());
      socket.close();
      void http.stop(true);
    },
  };
  cleanups.push(game.close);
  return game;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

describe('huddle bot rejoin', () => {
  test('a lost connection: the bot rejoins its seat with its rejoin key and carries on', async () => {
    const game = await startGame();
    const events: BotEvent[] = [];
    const outcome = runBot({ server: game.url, name: 'bob', mode: { join: 'ABC123' }, timeoutSeconds: 20, onEvent: (e) => events.push(e) });
    await until(() => events.some((e) => e.event === 'connected'), 5000, 'the bot to connect');
    game.cut.value = true;
    await until(() => events.some((e) => e.event === 'connection-lost'), 5000, 'the bot to notice');
    // The game holds the seat meanwhile; the network comes back.
    await Bun.sleep(300);
    game.cut.value = false;
    await until(() => events.some((e) => e.event === 'rejoined'), 8000, 'the bot to rejoin');
    expect(events.find((e) => e.event === 'rejoined')).toEqual({ event: 'rejoined', you: 0 });
    expect(game.rejoinBodies[0]).toEqual({ rejoinKey: 'key-7' });
    expect(game.released).toEqual([]);
    expect(game.session.playerCount).toBe(1);
    game.session.shutdown('The server is shutting down.', now());
    const result = await outcome;
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('The server is shutting down.');
    expect(events.filter((e) => e.event === 'connection-lost')).toHaveLength(1);
  }, 30_000);

  test('a seat that is gone (409) ends the bot with a plain reason, after one question', async () => {
    const game = await startGame();
    game.rejoinStatus.value = 409;
    const events: BotEvent[] = [];
    const outcome = runBot({ server: game.url, name: 'bob', mode: { join: 'ABC123' }, timeoutSeconds: 20, onEvent: (e) => events.push(e) });
    await until(() => events.some((e) => e.event === 'connected'), 5000, 'the bot to connect');
    game.cut.value = true;
    const result = await outcome;
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('the seat is gone');
    expect(game.rejoinBodies).toHaveLength(1);
    expect(events.map((e) => e.event)).toContain('connection-lost');
  }, 30_000);

  test('a matchmaker that stays unreachable: the bot asks at a steady pace, then gives up when the grace is over', async () => {
    const game = await startGame(2);
    game.rejoinStatus.value = 503;
    const events: BotEvent[] = [];
    const outcome = runBot({ server: game.url, name: 'bob', mode: { join: 'ABC123' }, timeoutSeconds: 20, onEvent: (e) => events.push(e) });
    await until(() => events.some((e) => e.event === 'connected'), 5000, 'the bot to connect');
    game.cut.value = true;
    const started = performance.now();
    const result = await outcome;
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('connection lost and the seat was not reopened in time');
    // About one question a second for the 2 s grace, not a storm, and nothing after the end.
    expect(game.rejoinBodies.length).toBeGreaterThanOrEqual(2);
    expect(game.rejoinBodies.length).toBeLessThanOrEqual(4);
    expect(performance.now() - started).toBeLessThan(8000);
    const asked = game.rejoinBodies.length;
    await Bun.sleep(1500);
    expect(game.rejoinBodies).toHaveLength(asked);
  }, 30_000);
});
