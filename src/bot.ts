/**
 * `huddle bot`: a headless player over real UDP, for demos and load tests. It asks the matchmaker for a game
 * (create), a seat (join by passcode) or a spectator's place (watch key), connects with the connect token it
 * gets, chats, starts the game when it is the host and enough players are in, plays until the results, and says
 * how it went. A lost connection is not the end: it asks for a fresh ticket to the same seat with its rejoin key
 * (docs/SEATS.md) and carries on, for as long as the game holds the seat.
 */
import { GameClient, type GameView } from './game/game-client.ts';
import { DIFFICULTIES, type Difficulty } from './game/lobby.ts';
import { ArenaClient } from './game/arena-client.ts';
import { botControls } from './game/bot-brain.ts';
import { Channel, createGameLink } from './game/peer-link.ts';
import { SnapshotGaps, type SnapshotGapSummary } from './game/snapshot-gaps.ts';
import { HUDDLE_PROTOCOL_ID } from './protocol/constants.ts';
import { openUdpTransport } from './protocol/transport/udp.ts';
import { bindUdpFd, PolledUdpSocket, polledUdpSupport } from './protocol/transport/udp-polled.ts';
import type { DatagramTransport } from './protocol/transport/transport.ts';
import { botClock } from './bot-clock.ts';

export interface BotOptions {
  /** Matchmaker base URL, e.g. http://127.0.0.1:8080 */
  server: string;
  name: string;
  /** Create a game (as its host), join one with this passcode, or watch one with this watch key. */
  mode: { create: { maxPlayers?: number; createToken?: string } } | { join: string } | { watch: string };
  /** As host: start on this difficulty once `startWhenPlayers` are in the lobby. */
  start?: Difficulty;
  startWhenPlayers?: number;
  chat?: string;
  /** Give up after this long (seconds). */
  timeoutSeconds?: number;
  onEvent?: (event: BotEvent) => void;
  /**
   * Where the bot records the gaps between the snapshots it receives (a bench passes its own to read or reset it
   * while the bot plays); one of its own otherwise. The outcome carries its summary either way.
   */
  snapshotGaps?: SnapshotGaps;
  /**
   * How the bot reads its UDP socket: `wakes` (the default where it works: Linux) at each tick of the clock the
   * process's bots share (bot-clock.ts), each datagram with the kernel's arrival time; `each`, Bun's socket calling
   * back per datagram.
   */
  udpReads?: 'wakes' | 'each';
}

export type BotEvent =
  | { event: 'created'; gameId: string; passcode: string; port: number }
  | { event: 'joined'; gameId: string; port: number }
  | { event: 'connected'; you: number }
  | { event: 'watching' }
  | { event: 'connection-lost' }
  | { event: 'rejoined'; you: number | undefined }
  | { event: 'chat'; from: string; text: string }
  | { event: 'notice'; code: string; message: string }
  | { event: 'started'; difficulty: string }
  | { event: 'results'; scores: { name: string; score: number }[] }
  | { event: 'closed'; reason: string };

export interface BotOutcome {
  ok: boolean;
  gameId?: string;
  passcode?: string;
  results?: { name: string; score: number }[];
  reason: string;
  /** The gaps between arena snapshots as they arrived, over the whole session (rejoins included). */
  snapshotGaps?: SnapshotGapSummary;
}

interface Ticket {
  gameId: string;
  port: number;
  connectToken: string;
  passcode?: string;
  /** Reopens this seat after a lost connection. A secret: never printed. */
  rejoinKey?: string;
}

/** How often the bot asks for a fresh ticket while its seat is held, and the grace it assumes if not told. */
const REJOIN_RETRY_MS = 1000;
const DEFAULT_GRACE_SECONDS = 60;
/** Closed codes that mean the connection was lost, not ended: worth a rejoin. */
const LOST_CODES = new Set(['timed-out', 'disconnected']);

export class BotError extends Error {
  override readonly name = 'BotError';
}

/** Asks the matchmaker for a ticket; HTTP errors become a BotError with the server's message. */
export async function requestTicket(options: Pick<BotOptions, 'server' | 'name' | 'mode'>): Promise<Ticket> {
  const mode = options.mode;
  const create = 'create' in mode ? mode.create : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (create?.createToken) headers.authorization = `Bearer ${create.createToken}`;
  if ('watch' in mode) return postTicket(options.server, '/api/games/watch', { watchKey: mode.watch, name: options.name }, headers);
  if ('join' in mode) return postTicket(options.server, '/api/games/join', { passcode: mode.join, name: options.name }, headers);
  return postTicket(options.server, '/api/games', { name: options.name, ...(create?.maxPlayers ? { maxPlayers: create.maxPlayers } : {}) }, headers);
}

/** A fresh ticket for the same seat (`POST /api/games/rejoin`); `signal` abandons the question. */
export function requestRejoin(server: string, rejoinKey: string, signal?: AbortSignal): Promise<Ticket> {
  return postTicket(server, '/api/games/rejoin', { rejoinKey }, { 'content-type': 'application/json' }, signal);
}

/** Thrown for an answer that says the seat is gone for good (404, 409): no point in asking again. */
export class TicketRefused extends BotError {}

async function postTicket(server: string, path: string, body: object, headers: Record<string, string>, signal?: AbortSignal): Promise<Ticket> {
  const url = new URL(path, server);
  const timeout = AbortSignal.timeout(10_000);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
  } catch (error) {
    throw new BotError(`cannot reach the matchmaker at ${server}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const json = (await response.json().catch(() => null)) as ({ error?: { message?: string } } & Partial<Ticket>) | null;
  if (!response.ok || !json) {
    const message = json?.error?.message ?? `the matchmaker answered ${response.status}`;
    throw response.status === 404 || response.status === 409 ? new TicketRefused(message) : new BotError(message);
  }
  if (typeof json.gameId !== 'string' || typeof json.port !== 'number' || typeof json.connectToken !== 'string') {
    throw new BotError('the matchmaker answered without a connect token');
  }
  return {
    gameId: json.gameId,
    port: json.port,
    connectToken: json.connectToken,
    ...(typeof json.passcode === 'string' ? { passcode: json.passcode } : {}),
    ...(typeof json.rejoinKey === 'string' ? { rejoinKey: json.rejoinKey } : {}),
  };
}

export async function runBot(options: BotOptions): Promise<BotOutcome> {
  const emit = options.onEvent ?? (() => {});
  // Decided before anything is asked of the matchmaker: reads at wakes where they cannot work fail here, not after
  // a game was created or a seat taken.
  const support = polledUdpSupport();
  const reads = options.udpReads ?? (support.ok ? 'wakes' : 'each');
  if (reads === 'wakes' && !support.ok) throw new Error(`UDP reads at wakes are not available: ${support.why}`);
  const ticket = await requestTicket(options);
  const creating = 'create' in options.mode;
  if (creating && ticket.passcode) emit({ event: 'created', gameId: ticket.gameId, passcode: ticket.passcode, port: ticket.port });
  else emit({ event: 'joined', gameId: ticket.gameId, port: ticket.port });
  // Only the creator's outcome names the passcode (as before); a joiner's ticket carries it too now.
  const passcode = creating ? ticket.passcode : undefined;
  let rejoinKey = ticket.rejoinKey;

  const now = () => performance.now() / 1000;
  const done = Promise.withResolvers<BotOutcome>();
  let client: GameClient | undefined;
  /** When the datagram being handled arrived (performance clock, ms): snapshot gaps are timed by it. */
  let arrivedMs = 0;
  // Opened last, right before the try whose finally closes it (below): nothing between can leave it open.
  let polled: PolledUdpSocket | undefined;
  let socket: DatagramTransport | undefined;
  let chatted = false;
  let started = false;
  let announcedStart = false;
  let seenChat = 0;
  let lastNotice: string | undefined;
  let rejoining = false;
  let rejoinDeadline = 0;
  let stopped = false;
  /** Aborts a rejoin question still in flight when the bot stops. */
  const stopping = new AbortController();

  let arena = new ArenaClient();
  const gaps = options.snapshotGaps ?? new SnapshotGaps();
  client = new GameClient({
    protocolId: HUDDLE_PROTOCOL_ID,
    createLink: createGameLink,
    send: (d, h, p) => socket?.send(d, h, p),
    onChange: (view) => onChange(view),
    gameChannels: [Channel.Snapshot],
    // Timed as it arrived at the socket (read at a tick: the kernel's stamp), not as the bot got to it.
    onGameMessage: (_channel, bytes) => {
      if (arena.receive(bytes)) gaps.arrived(arrivedMs);
    },
  });

  function onChange(view: GameView): void {
    if (rejoining && view.phase !== 'connecting' && view.phase !== 'closed' && view.role !== undefined) {
      rejoining = false;
      rejoinAttempts = 0;
      emit({ event: 'rejoined', you: view.you });
    }
    if (view.phase === 'lobby' && !chatted && view.role === 'spectator') {
      chatted = true;
      emit({ event: 'watching' });
    }
    if (view.phase === 'lobby' && !chatted && view.you !== undefined) {
      chatted = true;
      emit({ event: 'connected', you: view.you });
      if (options.chat) client?.chat(options.chat);
    }
    for (; seenChat < view.chat.length; seenChat++) {
      const line = view.chat[seenChat]!;
      emit({ event: 'chat', from: line.name, text: line.text });
    }
    if (view.notice && view.notice.message !== lastNotice) {
      lastNotice = view.notice.message;
      emit({ event: 'notice', code: view.notice.code, message: view.notice.message });
      if (view.notice.code === 'start-refused') started = false;
    }
    if ((view.phase === 'countdown' || view.phase === 'playing') && !announcedStart) {
      announcedStart = true;
      emit({ event: 'started', difficulty: view.difficulty ?? 'normal' });
    }
    if (view.phase === 'results' && view.results) {
      const results = view.results.map(({ name, score }) => ({ name, score }));
      emit({ event: 'results', scores: results });
      done.resolve({ ok: true, gameId: ticket.gameId, results, reason: view.abandoned ? 'round abandoned' : 'round over', ...(passcode ? { passcode } : {}) });
    } else if (view.phase === 'closed') {
      const lost = LOST_CODES.has(view.closedCode ?? '');
      if (rejoinKey && (lost || rejoining) && !stopped) {
        // A lost connection (or a failed attempt to come back): the seat is held for the grace, so ask again.
        if (!rejoining) {
          rejoining = true;
          rejoinDeadline = performance.now() + (view.rejoinGraceSeconds || DEFAULT_GRACE_SECONDS) * 1000;
          emit({ event: 'connection-lost' });
        }
        scheduleRejoin(rejoinKey);
        return;
      }
      finishClosed(view.closedReason ?? 'connection closed');
    }
  }

  function finishClosed(reason: string): void {
    emit({ event: 'closed', reason });
    done.resolve({ ok: false, gameId: ticket.gameId, reason, ...(passcode ? { passcode } : {}) });
  }

  let rejoinTimer: Timer | undefined;
  let rejoinAttempts = 0;
  function scheduleRejoin(key: string): void {
    if (rejoinTimer) return;
    // The first attempt at once (the network may be back already), then at a steady pace (a denied
    // connection comes back fast and must not turn into a request storm).
    rejoinTimer = setTimeout(() => void rejoin(key), rejoinAttempts++ === 0 ? 0 : REJOIN_RETRY_MS);
  }

  /** One attempt: a fresh ticket for the seat, then a new connection; on failure the next `closed` view retries. */
  async function rejoin(key: string): Promise<void> {
    for (;;) {
      if (stopped) return;
      if (performance.now() > rejoinDeadline) {
        rejoinTimer = undefined;
        return finishClosed('connection lost and the seat was not reopened in time');
      }
      try {
        const fresh = await requestRejoin(options.server, key, stopping.signal);
        if (stopped) return;
        rejoinKey = fresh.rejoinKey ?? key;
        arena = new ArenaClient();
        rejoinTimer = undefined;
        client?.connect(new Uint8Array(Buffer.from(fresh.connectToken, 'base64')), now());
        return;
      } catch (error) {
        if (stopped) return;
        if (error instanceof TicketRefused) {
          rejoinTimer = undefined;
          return finishClosed(`connection lost and the seat is gone: ${error.message}`);
        }
        // The matchmaker is unreachable or busy: try again while the seat is held.
        await Bun.sleep(REJOIN_RETRY_MS);
      }
    }
  }

  const step = (stepAt: number): void => {
    if (polled) {
      const drainedMs = stepAt * 1000;
      polled.drain((d, h, p, ageSeconds) => {
        arrivedMs = drainedMs - ageSeconds * 1000;
        client?.receive(d, h, p, arrivedMs / 1000);
      });
    }
    const t = now();
    const view = client?.view;
    if (!client || !view) return;
    if (view.phase === 'lobby' && options.start && !('watch' in options.mode) && client.isHost && !started && view.players.length >= (options.startWhenPlayers ?? 1)) {
      started = true;
      client.start(options.start);
    }
    // Every client tick of the round: the bot brain's controls for the newest view, with its snapshot ack.
    const latest = arena.latest;
    if (view.phase === 'playing' && latest && view.role === 'player' && view.you !== undefined) client.sendGameMessage(Channel.Input, arena.input(botControls(latest, view.you)));
    client.update(t);
  };
  if (reads === 'wakes') socket = polled = new PolledUdpSocket(bindUdpFd('0.0.0.0', 0), { owned: true });
  else {
    socket = await openUdpTransport({
      hostname: '0.0.0.0',
      port: 0,
      onDatagram: (d, h, p) => {
        arrivedMs = performance.now();
        client?.receive(d, h, p, arrivedMs / 1000);
      },
    });
  }
  const leaveClock = botClock.join(step);
  const timeout = setTimeout(
    () => done.resolve({ ok: false, gameId: ticket.gameId, reason: `gave up after ${options.timeoutSeconds ?? 600} s` }),
    (options.timeoutSeconds ?? 600) * 1000,
  );
  try {
    client.connect(new Uint8Array(Buffer.from(ticket.connectToken, 'base64')), now());
    return { ...(await done.promise), snapshotGaps: gaps.summary() };
  } finally {
    stopped = true;
    stopping.abort();
    leaveClock();
    clearTimeout(timeout);
    clearTimeout(rejoinTimer);
    if (client.view.phase !== 'closed' && client.view.phase !== 'results') client.disconnect(now());
    socket.close();
  }
}

export function parseDifficulty(text: string): Difficulty {
  if (!(DIFFICULTIES as readonly string[]).includes(text)) throw new BotError(`difficulty must be one of ${DIFFICULTIES.join(', ')}`);
  return text as Difficulty;
}
