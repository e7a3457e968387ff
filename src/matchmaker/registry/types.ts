/**
 * What the registry's callers see: its settings and options, the tickets it hands out, a game's public status and
 * its admin view, and the limits and messages the routes and tests name. Never a secret field beyond the ones a
 * ticket's holder is meant to have.
 */
import type { Config } from '../../config.ts';
import type { Difficulty } from '../../game/lobby.ts';
import type { SeatKind } from '../../game/seat-data.ts';
import type { Logger } from '../../log.ts';
import type { TickStats } from '../../contract/worker-messages.ts';
import type { GameLauncher } from '../../workers/launcher.ts';
import type { GameState, Metrics } from '../metrics.ts';
import type { ResultsStore } from '../results-store.ts';
import type { RegistryObserver } from './observer.ts';
import type { GameStateStore } from './state-store.ts';

export type RegistrySettings = Pick<
  Config,
  | 'maxGames'
  | 'maxPlayers'
  | 'gamePorts'
  | 'publicHost'
  | 'lobbyTimeoutSeconds'
  | 'roundSeconds'
  | 'tokenExpirySeconds'
  | 'workerStartTimeoutMs'
  | 'heartbeatTimeoutMs'
  | 'rejoinGraceSeconds'
  | 'maxSpectators'
> &
  Partial<Pick<Config, 'ticketsPerGame' | 'warmGames'>> & {
  /** Address the game workers bind their UDP sockets on. */
  bindHost: string;
  heartbeatIntervalMs: number;
};

export interface RegistryOptions {
  settings: RegistrySettings;
  launcher: GameLauncher;
  store: ResultsStore;
  /** Absolute URL of the report route for a game; the server knows its own address only once it listens. */
  reportUrl: (gameId: string) => string;
  metrics?: Metrics;
  log?: Logger;
  /** Wall clock, unix ms (token timestamps, createdAt). */
  now?: () => number;
  /** Monotonic ms (start latency, backstop deadlines). */
  clock?: () => number;
  /** Dead games kept in memory for status queries (finished ones are also in the store). */
  historyLimit?: number;
  /** Where games, passcodes, key hashes and counts live; the in-memory store (one node) when not given. */
  state?: GameStateStore;
  /** Told of every game's changes, keys and results (the cluster directory); nobody when not given. */
  observer?: RegistryObserver;
  /**
   * Where each live game's adoption record is kept (`<dataDir>/games`), with a launcher whose games outlive this
   * process (`--launcher process`): `adopt()` takes them back after a restart (registry/adopt.ts).
   */
  adoptionDir?: string;
}

/** The play-again game as a status shows it. */
export interface NextGameStatus {
  state: 'starting' | 'ready' | 'failed';
  gameId: string | null;
  /** For players, when it failed. */
  message: string | null;
}

export interface GameStatus {
  gameId: string;
  state: GameState;
  players: number;
  spectators: number;
  maxPlayers: number;
  difficulty: Difficulty | null;
  /** ISO 8601; null for games known only from the results store. */
  createdAt: string | null;
  /** Why the game ended, once it has (e.g. `round_over`, `abandoned`, `lobby_idle`, `heartbeat_timeout`). */
  endReason: string | null;
  /** The play-again game, once the host asked for one. */
  next: NextGameStatus | null;
}

/** A connect token for one seat. */
export interface Ticket {
  gameId: string;
  port: number;
  serverAddress: string;
  connectToken: string;
  /** ISO 8601. */
  expiresAt: string;
  /** The seat's name as the game shows it (made unique in the game). */
  name: string;
  role: SeatKind;
}

/** A player's ticket, with what reopens the seat and what lets friends watch or join. */
export interface SeatTicket extends Ticket {
  passcode: string;
  rejoinKey: string;
  watchKey: string;
  /** Joins the group's newest game without the passcode (the controller turns it into `inviteUrl`). */
  inviteKey: string;
}

export interface CreatedGame extends SeatTicket {
  maxPlayers: number;
}

/** A spectator's ticket: never a passcode or a rejoin key (a watcher never gets a player seat). */
export interface WatchTicket extends Ticket {
  watchKey: string;
}

/** What players are told when the next game cannot start. */
export const NEXT_GAME_MESSAGES = {
  capacity: 'No free game slot on this server right now; try again in a minute.',
  draining: 'The server is shutting down, so no new game can start.',
  start_failed: 'The next game could not be started; try again in a minute.',
} as const;

/** Why a game the operator ended ended (its status's `endReason`), and what its players are told. */
export const ADMIN_ENDED = 'admin_ended';
export const ADMIN_END_MESSAGE = "The server's operator ended this game.";

/** A live game as the admin view shows it: never a secret (no passcode, key or token). */
export interface AdminGame {
  gameId: string;
  /** The host's name, which names the game. */
  name: string;
  state: GameState;
  difficulty: Difficulty | null;
  /** ISO 8601. */
  createdAt: string;
  ageSeconds: number;
  maxPlayers: number;
  /** Seats taken (connected players and dropped ones whose seat is held). */
  seatsTaken: number;
  /** `connected` and `pingMs` are null until the game's first heartbeat that lists its seats. */
  players: { name: string; connected: boolean | null; pingMs: number | null }[];
  spectators: number;
  /** The game loop's tick durations over the last heartbeat interval; null before the first. */
  tick: TickStats | null;
  /** Asked to stop (by the operator, a backstop or a shutdown) and not yet gone. */
  ending: boolean;
}

export interface ReportAck {
  gameId: string;
  state: GameState;
}

/** `--tickets-per-game`'s default, for registries built without it (tests, benches). */
export const DEFAULT_TICKETS_PER_GAME = 60;

/** A seat's fresh tickets (rejoins) per minute, also the burst: a reload every 3 s for a minute is still served. */
export const REJOINS_PER_SEAT_PER_MINUTE = 20;

/**
 * Seats one game keeps at most (players, spectators and the seats of tokens never used): room for every seat to be
 * taken sixteen times over, so honest churn never meets it; what one game's bookkeeping costs is bounded by it.
 */
export function maxSeatsPerGame(settings: Pick<RegistrySettings, 'maxPlayers' | 'maxSpectators'>): number {
  return 16 * (settings.maxPlayers + settings.maxSpectators);
}
