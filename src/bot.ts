/**
 * `huddle bot`: a headless player over real UDP, for demos and load tests. It asks the matchmaker for a game
 * (create) or a seat (join by passcode), connects with the connect token it gets, chats, starts the game when
 * it is the host and enough players are in, plays until the results, and says how it went.
 */
import { GameClient, type GameView } from './game/game-client.ts';
import { DIFFICULTIES, type Difficulty } from './game/lobby.ts';
import { ArenaClient } from './game/arena-client.ts';
import { botControls } from './game/bot-brain.ts';
import { Channel, createGameLink } from './game/peer-link.ts';
import { HUDDLE_PROTOCOL_ID } from './protocol/constants.ts';
import { openUdpTransport } from './protocol/transport/udp.ts';

export interface BotOptions {
  /** Matchmaker base URL, e.g. http://127.0.0.1:8080 */
  server: string;
  name: string;
  /** Create a game (as its host) or join one with this passcode. */
  mode: { create: { maxPlayers?: number; createToken?: string } } | { join: string };
  /** As host: start on this difficulty once `startWhenPlayers` are in the lobby. */
  start?: Difficulty;
  startWhenPlayers?: number;
  chat?: string;
  /** Give up after this long (seconds). */
  timeoutSeconds?: number;
  onEvent?: (event: BotEvent) => void;
}

export type BotEvent =
  | { event: 'created'; gameId: string; passcode: string; port: number }
  | { event: 'joined'; gameId: string; port: number }
  | { event: 'connected'; you: number }
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
}

interface Ticket {
  gameId: string;
  port: number;
  connectToken: string;
  passcode?: string;
}

export class BotError extends Error {
  override readonly name = 'BotError';
}

/** Asks the matchmaker for a ticket; HTTP errors become a BotError with the server's message. */
export async function requestTicket(options: Pick<BotOptions, 'server' | 'name' | 'mode'>): Promise<Ticket> {
  const create = 'create' in options.mode ? options.mode.create : undefined;
  const url = new URL(create ? '/api/games' : '/api/games/join', options.server);
  const body = create
    ? { name: options.name, ...(create.maxPlayers ? { maxPlayers: create.maxPlayers } : {}) }
    : { passcode: (options.mode as { join: string }).join, name: options.name };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (create?.createToken) headers.authorization = `Bearer ${create.createToken}`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new BotError(`cannot reach the matchmaker at ${options.server}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const json = (await response.json().catch(() => null)) as { error?: { message?: string } } & Partial<Ticket> | null;
  if (!response.ok || !json) throw new BotError(json?.error?.message ?? `the matchmaker answered ${response.status}`);
  if (typeof json.gameId !== 'string' || typeof json.port !== 'number' || typeof json.connectToken !== 'string') {
    throw new BotError('the matchmaker answered without a connect token');
  }
  return { gameId: json.gameId, port: json.port, connectToken: json.connectToken, ...(json.passcode ? { passcode: json.passcode } : {}) };
}

export async function runBot(options: BotOptions): Promise<BotOutcome> {
  const emit = options.onEvent ?? (() => {});
  const ticket = await requestTicket(options);
  if (ticket.passcode) emit({ event: 'created', gameId: ticket.gameId, passcode: ticket.passcode, port: ticket.port });
  else emit({ event: 'joined', gameId: ticket.gameId, port: ticket.port });

  const now = () => performance.now() / 1000;
  const done = Promise.withResolvers<BotOutcome>();
  let client: GameClient | undefined;
  const socket = await openUdpTransport({ hostname: '0.0.0.0', port: 0, onDatagram: (d, h, p) => client?.receive(d, h, p, now()) });
  let chatted = false;
  let started = false;
  let announcedStart = false;
  let seenChat = 0;
  let lastNotice: string | undefined;

  const arena = new ArenaClient();
  client = new GameClient({
    protocolId: HUDDLE_PROTOCOL_ID,
    createLink: createGameLink,
    send: (d, h, p) => socket.send(d, h, p),
    onChange: (view) => onChange(view),
    gameChannels: [Channel.Snapshot],
    onGameMessage: (_channel, bytes) => arena.receive(bytes),
  });

  function onChange(view: GameView): void {
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
      done.resolve({ ok: true, gameId: ticket.gameId, results, reason: 'round over', ...(ticket.passcode ? { passcode: ticket.passcode } : {}) });
    } else if (view.phase === 'closed') {
      const reason = view.closedReason ?? 'connection closed';
      emit({ event: 'closed', reason });
      done.resolve({ ok: false, gameId: ticket.gameId, reason, ...(ticket.passcode ? { passcode: ticket.passcode } : {}) });
    }
  }

  const ticker = setInterval(() => {
    const t = now();
    const view = client?.view;
    if (!client || !view) return;
    if (view.phase === 'lobby' && options.start && client.isHost && !started && view.players.length >= (options.startWhenPlayers ?? 1)) {
      started = true;
      client.start(options.start);
    }
    // Every client tick of the round: the bot brain's controls for the newest view, with its snapshot ack.
    const latest = arena.latest;
    if (view.phase === 'playing' && latest && view.you !== undefined) client.sendGameMessage(Channel.Input, arena.input(botControls(latest, view.you)));
    client.update(t);
  }, 1000 / 30);
  const timeout = setTimeout(
    () => done.resolve({ ok: false, gameId: ticket.gameId, reason: `gave up after ${options.timeoutSeconds ?? 600} s` }),
    (options.timeoutSeconds ?? 600) * 1000,
  );

  client.connect(new Uint8Array(Buffer.from(ticket.connectToken, 'base64')), now());
  try {
    return await done.promise;
  } finally {
    clearInterval(ticker);
    clearTimeout(timeout);
    if (client.view.phase !== 'closed' && client.view.phase !== 'results') client.disconnect(now());
    socket.close();
  }
}

export function parseDifficulty(text: string): Difficulty {
  if (!(DIFFICULTIES as readonly string[]).includes(text)) throw new BotError(`difficulty must be one of ${DIFFICULTIES.join(', ')}`);
  return text as Difficulty;
}
