/**
 * The game worker: one game's netcode server on its own UDP port, run in an isolated Bun Worker.
 *
 * Everything it needs, secrets included, comes from its environment (worker-env.ts); it talks to the
 * matchmaker over two lines: the message channel (ready, heartbeats, player counts, exiting) for supervision,
 * and HTTP with its reporting token for the reports that change the game's state. It never logs a secret and
 * never sends one on the channel.
 */
import { createSessionHostReporter } from './reporter.ts';
import { parseMatchmakerMessage } from './matchmaker-message.ts';
import type { WorkerExitReason, WorkerToMatchmaker } from '../contract/worker-messages.ts';
import { parseWorkerEnv, type WorkerEnv } from './worker-env.ts';
import { TickTimer } from './tick-timer.ts';
import { GameSession } from '../game/session.ts';
import { sessionNetcodeEvents } from '../game/session-netcode.ts';
import { createGameLink } from '../game/peer-link.ts';
import { ArenaRound } from '../game/arena-round.ts';
import { parseAddress } from '../protocol/netcode/address.ts';
import { NetcodeServer } from '../protocol/netcode/server.ts';
import { openUdpTransport } from '../protocol/transport/udp.ts';
import type { DatagramTransport } from '../protocol/transport/transport.ts';

declare const self: Worker;

const TICK_HZ = 30;
const post = (message: WorkerToMatchmaker): void => self.postMessage(message);
const now = (): number => Date.now() / 1000;

async function main(env: WorkerEnv): Promise<void> {
  // Game events go to the matchmaker's log over the channel; they carry names and counts, never secrets.
  const log = (event: string, fields: Record<string, string | number | boolean> = {}): void => post({ type: 'log', event, fields });
  let server: NetcodeServer | undefined;
  let failedDatagrams = 0;
  let lastFailureLog = -Infinity;
  const socket: DatagramTransport = await openUdpTransport({
    hostname: env.bindHost,
    port: env.port,
    onDatagram: (data, host, port) => {
      try {
        server?.receive(data, host, port, now());
      } catch (error) {
        // Anyone can send datagrams: if one ever reaches a bug, it must cost that datagram, not everyone's game.
        // (The game loop is not guarded: a failing tick is a broken game, and the matchmaker fails it.)
        // At most one log line a second, so a flood cannot flood the log too.
        failedDatagrams++;
        if (now() - lastFailureLog >= 1) {
          lastFailureLog = now();
          log('datagram_failed', { count: failedDatagrams, why: error instanceof Error ? error.message.slice(0, 120) : 'unknown error' });
        }
      }
    },
  });

  const timers: Timer[] = [];
  let ended = false;

  const session = new GameSession(
    {
      maxPlayers: env.maxPlayers,
      maxSpectators: env.maxSpectators,
      rejoinGraceSeconds: env.rejoinGraceSeconds,
      hostClientId: env.hostClientId,
      lobbyTimeoutSeconds: env.lobbyTimeoutSeconds,
      roundSeconds: env.roundSeconds,
      createLink: createGameLink,
      createRound: (setup) => new ArenaRound(setup),
    },
    {
      sendPayload: (clientIndex, payload) => server?.sendPayload(clientIndex, payload, now()),
      disconnect: (clientIndex) => server?.disconnectClient(clientIndex, now()),
      report: createSessionHostReporter(env, post),
      onPlayersChanged: ({ count, names, spectators }) => post({ type: 'players', count, names, spectators }),
      onSeatReleased: (clientId) => post({ type: 'seat_released', clientId: clientId.toString(10) }),
      onEnd: (reason) => finish(reason),
      log,
    },
    now(),
  );

  const publicHost = env.publicHost.includes(':') ? `[${env.publicHost}]` : env.publicHost;
  server = new NetcodeServer(
    {
      protocolId: env.protocolId,
      privateKey: env.privateKey,
      // Players and spectators each have their own limit, which the session enforces; netcode needs room for both.
      maxClients: env.maxPlayers + env.maxSpectators,
      publicAddress: parseAddress(`${publicHost}:${env.port}`),
    },
    {
      send: (data, host, port) => socket.send(data, host, port),
      ...sessionNetcodeEvents(session, now),
    },
  );
  server.start();

  function finish(reason: WorkerExitReason): void {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearInterval(timer);
    server?.stop(now());
    socket.close();
    post({ type: 'exiting', reason });
    // Let the channel deliver `exiting` before the thread ends.
    setTimeout(() => process.exit(0), 10);
  }

  self.addEventListener('message', (event: MessageEvent) => {
    const message = parseMatchmakerMessage(event.data);
    if (message?.type === 'shutdown') session.shutdown(message.reason, now());
  });

  const tickTimer = new TickTimer();
  timers.push(
    setInterval(() => {
      const started = performance.now();
      const t = now();
      server?.update(t);
      session.update(t);
      tickTimer.record(performance.now() - started);
    }, 1000 / TICK_HZ),
    setInterval(() => {
      const tick = tickTimer.take();
      post({ type: 'heartbeat', players: session.playerCount, phase: session.phase, ...(tick ? { tick } : {}), seats: session.seatStates() });
    }, env.heartbeatIntervalMs),
  );
  post({ type: 'ready', port: socket.localPort });
  post({ type: 'heartbeat', players: 0, phase: session.phase });
}

try {
  await main(parseWorkerEnv(process.env));
} catch (error) {
  // Messages from env parsing name the variable, never its value; socket errors carry no secrets.
  post({ type: 'fatal', message: error instanceof Error ? `${error.name}: ${error.message}` : 'worker failed to start' });
}
