/**
 * The matchmaker's REST API as the page uses it: create, join, rejoin a seat, watch, play again and a game's
 * status, and every failure turned into one sentence a player understands (docs/API.md and docs/SEATS.md list
 * the codes).
 */

export type SeatRole = 'player' | 'spectator';

/** What the page needs to reach a game: its connect token and where to send it. */
export interface Ticket {
  gameId: string;
  port: number;
  /** "host:port" written in the connect token: the only address the netcode client accepts datagrams from. */
  serverAddress: string;
  relayUrl: string;
  connectToken: string;
  expiresAt: string;
  /** The seat's name as the game shows it (made unique in the game: "alice (2)"). */
  name?: string;
  role?: SeatRole;
  passcode?: string;
  maxPlayers?: number;
  /** Players only: opens the same seat again (rejoin) and the seat in a play-again game. */
  rejoinKey?: string;
  /** Opens the game for spectators: the watch link carries it. */
  watchKey?: string;
  /** Players only: the link to share (`<public base>/?invite=KEY`), leads to the group's newest game. */
  inviteUrl?: string;
}

/** `GET /api/games/:id`: the public status, and the follow-up game once the host asked to play again. */
export interface GameStatus {
  gameId: string;
  state: string;
  /** Why it ended, once it has (`admin_ended`: the server's operator ended it). */
  endReason: string | null;
  next: { state: 'starting' | 'ready' | 'failed'; gameId?: string; message?: string } | null;
}

export type ApiFailureKind =
  | 'wrong_passcode'
  | 'invalid_passcode'
  | 'game_full'
  | 'game_started'
  | 'game_over'
  | 'unknown_seat'
  | 'unknown_game'
  | 'unknown_invite'
  | 'spectators_full'
  | 'not_host'
  | 'not_finished'
  | 'rate_limited'
  | 'invalid_name'
  | 'capacity'
  | 'unreachable'
  | 'other';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly kind: ApiFailureKind,
    message: string,
    /** For `rate_limited`: seconds to wait (Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 15_000;

export function createGame(name: string): Promise<Ticket> {
  return post('/api/games', { name });
}

export function joinGame(passcode: string, name: string): Promise<Ticket> {
  return post('/api/games/join', { passcode, name });
}

/** Join with the key of an invite link instead of the passcode (never held back by the guess budget). */
export function joinByInvite(invite: string, name: string): Promise<Ticket> {
  return post('/api/games/join', { invite, name });
}

/** A fresh ticket for the seat this key belongs to (in the newest game of a play-again chain). */
export function rejoinGame(rejoinKey: string, timeoutMs = TIMEOUT_MS): Promise<Ticket> {
  return post('/api/games/rejoin', { rejoinKey }, timeoutMs);
}

export function watchGame(watchKey: string, name: string, timeoutMs = TIMEOUT_MS): Promise<Ticket> {
  return post('/api/games/watch', { watchKey, name }, timeoutMs);
}

/** The host's "Play again": a ticket into the follow-up game. */
export function playAgain(rejoinKey: string): Promise<Ticket> {
  return post('/api/games/again', { rejoinKey });
}

export async function gameStatus(gameId: string, timeoutMs = 5000): Promise<GameStatus> {
  const v = (await request(`/api/games/${encodeURIComponent(gameId)}`, {}, timeoutMs)) as Partial<GameStatus> | undefined;
  if (typeof v?.state !== 'string') throw notUnderstood();
  return { gameId, state: v.state, endReason: typeof v.endReason === 'string' ? v.endReason : null, next: v.next ?? null };
}

/** `GET /api/games/:id/results`: the stored leaderboard of a finished round (for a results screen after a reload). */
export interface StoredResults {
  difficulty: 'easy' | 'normal' | 'hard';
  outcome: 'finished' | 'abandoned';
  players: { rank: number; name: string; score: number; left: boolean }[];
}

export async function gameResults(gameId: string): Promise<StoredResults> {
  const v = (await request(`/api/games/${encodeURIComponent(gameId)}/results`, {}, 5000)) as Partial<StoredResults> | undefined;
  if (!Array.isArray(v?.players) || typeof v?.difficulty !== 'string') throw notUnderstood();
  return { difficulty: v.difficulty, outcome: v.outcome === 'abandoned' ? 'abandoned' : 'finished', players: v.players };
}

async function post(path: string, body: object, timeoutMs = TIMEOUT_MS): Promise<Ticket> {
  const json = await request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, timeoutMs);
  if (!isTicket(json)) throw notUnderstood();
  return json;
}

/** One request to the matchmaker: its JSON body when the answer is 2xx, else the player-facing ApiError. */
async function request(path: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    throw unreachable();
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw failure(response, json);
  return json;
}

function notUnderstood(): ApiError {
  return new ApiError('other', 'The server sent an answer this page does not understand. Reload the page.');
}

function unreachable(): ApiError {
  return new ApiError('unreachable', 'Cannot reach the huddle server. Check your connection and try again.');
}

function isTicket(value: unknown): value is Ticket {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.gameId === 'string' &&
    typeof v.port === 'number' &&
    typeof v.serverAddress === 'string' &&
    typeof v.relayUrl === 'string' &&
    typeof v.connectToken === 'string'
  );
}

function failure(response: Response, json: unknown): ApiError {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : '';
  const serverMessage = typeof error?.message === 'string' ? error.message : '';
  switch (code) {
    case 'wrong_passcode':
      return new ApiError('wrong_passcode', 'No game has that passcode. Check it with the host and try again.');
    case 'invalid_passcode':
      return new ApiError('invalid_passcode', 'A passcode has 6 characters. Check it with the host.');
    case 'game_full':
      return new ApiError('game_full', 'That game is full. Ask the host to start a new one.');
    case 'game_started':
      return new ApiError('game_started', 'That game has already started. Wait for the next one.');
    case 'game_over':
      return new ApiError('game_over', 'That game has ended.');
    case 'unknown_seat':
      return new ApiError('unknown_seat', 'This page does not know that seat any more.');
    case 'unknown_game':
      return new ApiError('unknown_game', 'That watch link does not match a game. Ask for a new one.');
    case 'unknown_invite':
      return new ApiError('unknown_invite', 'That invite link does not match a game any more. Ask the host for a new link or the passcode.');
    case 'spectators_full':
      return new ApiError('spectators_full', 'That game has as many spectators as it allows. Try again later.');
    case 'not_host':
      return new ApiError('not_host', 'Only the host can start another game.');
    case 'not_finished':
      return new ApiError('not_finished', 'The round is not over yet.');
    case 'rate_limited': {
      const seconds = Math.max(1, Math.ceil(Number(response.headers.get('retry-after')) || 60));
      return new ApiError('rate_limited', `Too many attempts. Wait ${seconds} s before trying again.`, seconds);
    }
    case 'invalid_name':
    case 'validation_failed':
      return new ApiError('invalid_name', 'Pick a name of 1 to 24 letters or numbers, and a passcode of 6 characters.');
    case 'capacity':
    case 'no_ports':
    case 'start_failed':
    case 'draining':
      return new ApiError('capacity', `The server cannot host another game right now (${serverMessage || code}). Try again in a minute.`);
  }
  return new ApiError('other', `The server refused: ${serverMessage || `HTTP ${response.status}`}.`);
}

/** The connect token's server address as the netcode client wants it: host without brackets, and the port. */
export function parseServerAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/**
 * The relay URL for this page. The server builds it from the request it saw, which says ws:// behind a TLS proxy:
 * a page served over https must use wss:// or the browser blocks it as mixed content.
 */
export function relayUrlForPage(relayUrl: string, pageProtocol: string): string {
  const url = new URL(relayUrl);
  if (pageProtocol === 'https:') url.protocol = 'wss:';
  return url.href;
}

export function decodeToken(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
