/**
 * One game's server: its netcode server on its own UDP port, the session and its tick, whatever hosts it. The host
 * (game-worker.ts: a Bun Worker; game-process.ts: a `huddle game` child process) hands in the environment and the
 * supervision channel; the game never knows which.
 *
 * Everything it needs, secrets included, comes from its environment (worker-env.ts); it talks to the matchmaker
 * over two lines: the supervision channel (ready, heartbeats, player counts, exiting) and HTTP with its reporting
 * token for the reports that change the game's state. It never logs a secret and never sends one on the channel.
 */
import { createSessionHostReporter, type ReporterOptions } from './reporter.ts';
import type { WorkerExitReason, WorkerToMatchmaker } from '../contract/worker-messages.ts';
import type { WorkerEnv } from './worker-env.ts';
import type { HostChannel } from './host-channel.ts';
import { TickTimer } from './tick-timer.ts';
import { GameSession } from '../game/session.ts';
import { sessionNetcodeEvents } from '../game/session-netcode.ts';
import { createGameLink } from '../game/peer-link.ts';
import { ArenaRound, SNAPSHOTS_PER_SECOND } from '../game/arena-round.ts';
import { wakePhase } from './wake-phase.ts';
import { parseAddress } from '../protocol/netcode/address.ts';
import { NetcodeServer } from '../protocol/netcode/server.ts';
import { openUdpTransport } from '../protocol/transport/udp.ts';
import { bindUdpFd, PolledUdpSocket } from '../protocol/transport/udp-polled.ts';
import type { DatagramTransport } from '../protocol/transport/transport.ts';

const TICK_HZ = 30;
/**
 * Reading at wakes: while a handshake is under way (a valid connection request was answered), and for the first
 * seconds of the lobby (its creator connects right after the create), the loop wakes at least this often even with
 * nobody connected, so a handshake's steps do not each wait for an empty lobby's 10 Hz wake. Junk datagrams create
 * no handshake, so they cannot keep a lobby awake.
 */
const POLL_SECONDS = 1 / 30;
const POLL_AFTER_START_SECONDS = 2;

/**
 * How the game reads its UDP port: `each`, Bun's socket calling back for every datagram (udp.ts); `wakes`, a socket
 * read at the loop's wakes (udp-polled.ts), bound here; `{ fd }`, the same on a descriptor the launcher bound, owns
 * and closes after the game (a Bun Worker).
 */
export type UdpReads = 'each' | 'wakes' | { fd: number };

export interface GameMainOptions {
  /** How the host's reports are retried (a process game outlives a matchmaker restart, so it retries longer). */
  reporter?: ReporterOptions;
  /**
   * Default `each`, the mode that needs nothing of the host; the product's default (`wakes`) comes from its
   * setting, which both hosts pass (game-worker.ts with the launcher's descriptor, game-process.ts).
   */
  udpReads?: UdpReads;
}

export interface RunningGame {
  /** Tells the players why, and ends the game (as a matchmaker's `shutdown` does). */
  shutdown(reason: string): void;
}

/**
 * Runs the game until it ends (then `channel.end()`); resolves once it is ready. Throws when it cannot start
 * (its port is taken): the host posts `fatal` with the message, which names no secret.
 */
export async function runGame(env: WorkerEnv, channel: HostChannel, options: GameMainOptions = {}): Promise<RunningGame> {
  const post = (message: WorkerToMatchmaker): void => channel.post(message);
  // Game events go to the matchmaker's log over the channel; they carry names and counts, never secrets.
  const log = (event: string, fields: Record<string, string | number | boolean> = {}): void => post({ type: 'log', event, fields });
  // One clock for everything the game is told (datagram arrivals, its loop's wakes, sends): seconds since 1970,
  // taken from the monotonic clock with an offset fixed at start. A wall clock stepped later (NTP, a VM paused and
  // resumed) would otherwise put arrivals and wakes on different clocks, and the reliability layer compares them
  // (how long an ack has been held, its delayed-ack rule).
  const epochMinusPerf = Date.now() - performance.now();
  const now = (): number => (epochMinusPerf + performance.now()) / 1000;
  let server: NetcodeServer | undefined;
  // Created before the socket, so the first datagram is timed too; the loop below schedules its first wake when it
  // starts, so the game's own start is not counted as the first wake's lateness.
  // A wake more than one snapshot period late is a stall: the game is handed its real time, so the round restarts
  // its snapshot schedule instead of sending the missed ones in the same millisecond.
  const tickTimer = new TickTimer(1000 / TICK_HZ, performance.now(), 1000 / SNAPSHOTS_PER_SECOND);
  let failedDatagrams = 0;
  let lastFailureLog = -Infinity;
  // Receive, AEAD open and message handling: anyone can send datagrams, so if one ever reaches a bug it must cost
  // that datagram, not everyone's game. (The game loop is not guarded: a failing tick is a broken game, and the
  // matchmaker fails it.) At most one log line a second, so a flood cannot flood the log too.
  const onDatagram = (data: Uint8Array, host: string, port: number, receivedAt: number): void => {
    try {
      server?.receive(data, host, port, receivedAt);
    } catch (error) {
      failedDatagrams++;
      if (now() - lastFailureLog >= 1) {
        lastFailureLog = now();
        log('datagram_failed', { count: failedDatagrams, why: error instanceof Error ? error.message.slice(0, 120) : 'unknown error' });
      }
    }
  };
  const reads = options.udpReads ?? 'each';
  let socketErrors = 0;
  let lastSocketErrorLog = -Infinity;
  // Read at wakes, the datagrams are handled inside the tick (its work counts them); called back, each one is timed
  // on its own and counted into the next tick's work (tick-timer.ts).
  const polled =
    reads === 'each'
      ? undefined
      : new PolledUdpSocket(reads === 'wakes' ? bindUdpFd(env.bindHost, env.port) : reads.fd, {
          owned: reads === 'wakes',
          // A socket that stops working would leave the game deaf: say so, at most once a minute.
          onError: (error) => {
            socketErrors++;
            if (now() - lastSocketErrorLog < 60) return;
            lastSocketErrorLog = now();
            log('udp_error', { count: socketErrors, why: error.message.slice(0, 120) });
          },
        });
  const socket: DatagramTransport =
    polled ??
    (await openUdpTransport({
      hostname: env.bindHost,
      port: env.port,
      onDatagram: (data, host, port) => {
        tickTimer.datagramStarted(performance.now());
        onDatagram(data, host, port, now());
        tickTimer.datagramEnded(performance.now());
      },
    }));
  let loopStartedAt: number | undefined;

  // One handler for the game's life: before the lobby opens (a warm game waiting for `begin`) and after.
  let onShutdown: (reason: string) => void = () => {};
  let onBegin: (maxPlayers: number) => void = () => {};
  channel.onMessage((message) => {
    if (message.type === 'shutdown') onShutdown(message.reason);
    else onBegin(message.maxPlayers);
  });
  if (env.standby) {
    // A warm game: loaded and bound, it waits for the game it will be (registry/warm.ts). Its secrets came with
    // its environment; `begin` only says how many players the creator asked for.
    const begun = await new Promise<number | undefined>((resolve) => {
      onBegin = resolve;
      onShutdown = () => resolve(undefined);
      post({ type: 'standby' });
    });
    onBegin = () => {};
    if (begun === undefined) {
      socket.close();
      post({ type: 'exiting', reason: 'shutdown' });
      channel.end(0);
      return { shutdown: () => {} };
    }
    if (begun > env.maxPlayers) {
      socket.close();
      throw new Error(`begin asks for ${begun} players, more than HUDDLE_MAX_PLAYERS (${env.maxPlayers})`);
    }
    env = { ...env, maxPlayers: begun };
  }

  const timers: Timer[] = [];
  let tickTimeout: Timer | undefined;
  let ended = false;
  // What a reconnecting channel tells a new matchmaker first (HostChannel.resync).
  let lastPlayers: WorkerToMatchmaker | undefined;
  const released: WorkerToMatchmaker[] = [];

  const session = new GameSession(
    {
      maxPlayers: env.maxPlayers,
      maxSpectators: env.maxSpectators,
      rejoinGraceSeconds: env.rejoinGraceSeconds,
      hostClientId: env.hostClientId,
      lobbyTimeoutSeconds: env.lobbyTimeoutSeconds,
      roundSeconds: env.roundSeconds,
      createLink: createGameLink,
      // Each game's snapshots on their own phase of the 50 ms period, from its port: the games of a machine take
      // turns (wake-phase.ts).
      createRound: (setup) => new ArenaRound({ ...setup, wakePhase: wakePhase(socket.localPort) }),
    },
    {
      sendPayload: (clientIndex, payload) => server?.sendPayload(clientIndex, payload, now()),
      disconnect: (clientIndex) => server?.disconnectClient(clientIndex, now()),
      report: createSessionHostReporter(env, post, fetch, options.reporter),
      onPlayersChanged: ({ count, names, spectators }) => {
        lastPlayers = { type: 'players', count, names, spectators };
        post(lastPlayers);
      },
      onSeatReleased: (clientId) => {
        const message: WorkerToMatchmaker = { type: 'seat_released', clientId: clientId.toString(10) };
        released.push(message);
        post(message);
      },
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
    clearTimeout(tickTimeout);
    server?.stop(now());
    socket.close();
    post({ type: 'exiting', reason });
    channel.end(0);
  }

  onShutdown = (reason) => session.shutdown(reason, now());

  // The loop wakes when the game says something is due (session.nextDueAt): in a round its snapshots at an even
  // 20 Hz on the round's own fixed schedule, each wake first running the 30 Hz steps due, so a late wake is
  // measured as late and does not push the ones after it; 30 Hz with anyone connected and no round running, 10 Hz
  // with nobody (an idle lobby has nothing to do 30 times a second).
  // The game sees each wake at its due time, not the timer's: the arena then runs exactly the steps due by its
  // snapshot (its 30 Hz world clock would otherwise take one step too few on a wake that fires a hair early and one
  // too many on the next) and its snapshots leave 50 ms apart. The wake's sends carry that time too, so a late wake adds its lateness to the
  // round-trip times its links measure (a few ms at most when healthy).
  const tick = (): void => {
    tickTimeout = undefined;
    if (ended) return;
    const due = tickTimer.tickStarted(performance.now());
    const t = (epochMinusPerf + due) / 1000;
    if (polled) {
      // Each datagram at the time it arrived (the kernel's stamp), not the wake's: its ack's hold counts from then.
      const drainedAt = now();
      const read = polled.drain((data, host, port, ageSeconds) => onDatagram(data, host, port, drainedAt - ageSeconds));
      tickTimer.datagramsRead(read);
    }
    if (ended) return void tickTimer.tickEnded(performance.now());
    server?.update(t);
    session.update(t);
    tickTimer.tickEnded(performance.now());
    if (ended) return;
    let next = session.nextDueAt(t);
    loopStartedAt ??= t;
    if (polled && ((server?.numPendingMappings ?? 0) > 0 || t - loopStartedAt < POLL_AFTER_START_SECONDS)) next = Math.min(next, t + POLL_SECONDS);
    // Never due again at the very time just run (that would spin without moving the game's clock): at the
    // soonest 1 ms on, when the round is behind and catching up.
    tickTimer.schedule(Math.max(next, t + 0.001) * 1000 - epochMinusPerf);
    tickTimeout = setTimeout(tick, tickTimer.nextDelayMs(performance.now()));
  };
  tickTimer.schedule(performance.now());
  tickTimeout = setTimeout(tick, 0);
  timers.push(
    setInterval(() => {
      const tick = tickTimer.take();
      post({ type: 'heartbeat', players: session.playerCount, phase: session.phase, ...(tick ? { tick } : {}), seats: session.seatStates() });
    }, env.heartbeatIntervalMs),
  );
  const port = socket.localPort;
  channel.resync(() => [
    { type: 'ready', port },
    ...(lastPlayers ? [lastPlayers] : []),
    ...released,
    { type: 'heartbeat', players: session.playerCount, phase: session.phase, seats: session.seatStates() },
  ]);
  post({ type: 'ready', port });
  post({ type: 'heartbeat', players: 0, phase: session.phase });
  return { shutdown: (reason) => session.shutdown(reason, now()) };
}

