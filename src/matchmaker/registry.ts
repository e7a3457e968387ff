/**
 * The game registry: the single owner of every game's state (`starting → lobby → in_progress → finished`, or
 * `failed` from any of them), its slot, its UDP port, its passcode and its secrets, and its seats (seats.ts: who
 * holds which client id, and the hashed rejoin and watch keys that lead there, across play-again games). Routes
 * only call it. docs/SEATS.md is the contract for seats, keys and play again.
 *
 * Accounting rule: a game holds its slot and port from `create` until its launcher reports `exit` (the worker is
 * gone and the port can be bound again), and releases them exactly once, whatever ended it.
 */
import type { Config } from '../config.ts';
import type { Difficulty } from '../game/lobby.ts';
import { silentLogger, type Logger } from '../log.ts';
import { HUDDLE_PROTOCOL_ID } from '../protocol/constants.ts';
import { FAILURE_CAUSES, type GameHandle, type GameLauncher, type LauncherEvent } from '../workers/launcher.ts';
import type { GameReport, SeatState, TickStats } from '../workers/messages.ts';
import type { SeatKind } from '../game/seat-data.ts';
import { GameError } from './errors.ts';
import { GAME_STATES, type GameState, Metrics } from './metrics.ts';
import { hasPasscodeLength, PASSCODE_LENGTH, PasscodeBook } from './passcodes.ts';
import { PortPool } from './ports.ts';
import type { ResultsStore, RoundOutcome, StoredGame } from './results-store.ts';
import { type Chain, KeyIndex, newChain, type Seat, SeatBook, type SeatKey } from './seats.ts';
import { newGameId, randomBytes, SECRET_BYTES, secretMatches } from './secrets.ts';
import { sanitizeName } from '../game/messages.ts';
import { ClientIds, mintConnectToken } from './tokens.ts';
import { TokenBuckets } from './rate-limit.ts';

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
  Partial<Pick<Config, 'ticketsPerGame'>> & {
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
}

/** Backstops for workers that outstay their welcome; the worker itself is expected to end well before. */
export const BACKSTOP = {
  /** An empty lobby is ended this long after the worker's own lobby timeout would have. */
  emptyLobbyGraceMs: 30_000,
  /** A round is ended this long after its nominal length (countdown and reporting included). */
  roundGraceMs: 60_000,
  /** A finished game's worker is stopped this long after its results were stored. */
  finishedGraceMs: 30_000,
} as const;

type EndState = { state: 'finished' | 'failed'; reason: string };

interface GameRecord {
  readonly id: string;
  /** The host's display name, which also names the game. */
  readonly name: string;
  readonly passcode: string;
  readonly port: number;
  readonly maxPlayers: number;
  readonly createdAt: number;
  readonly launchedAt: number;
  state: GameState;
  difficulty: Difficulty | undefined;
  /** Seats taken, as the worker last reported (connected players and dropped ones whose seat is held). */
  players: number;
  /** Whether the worker has reported its seats yet; before that the seat book counts them. */
  playersReported: boolean;
  playerNames: string[] | undefined;
  spectators: number;
  readonly seats: SeatBook;
  /** This game and its play-again successors; every watch key of the group leads to the newest. */
  readonly chain: Chain;
  /** Set once a round's results are stored. */
  outcome: RoundOutcome | undefined;
  /** Whose seat was host when the round ended, as the finished report says; the creator when it does not. */
  hostAtEnd: bigint | undefined;
  /** The game this one is the play-again of. */
  readonly previousId: string | undefined;
  /** The play-again game the host asked for. */
  next: NextGame | undefined;
  /** The game loop's tick durations over the last heartbeat interval. */
  tick: TickStats | undefined;
  /** The held player seats (connected, ping) as the last heartbeat said, for the admin view. */
  seatStates: SeatState[] | undefined;
  /** Monotonic ms when the player count last became 0 (or ready, which starts empty). */
  emptySince: number | undefined;
  /** Monotonic ms of the last state change. */
  stateSince: number;
  endReason: string | undefined;
  readonly privateKey: Uint8Array;
  readonly reportToken: Uint8Array;
  readonly clientIds: ClientIds;
  /** The creator's seat, reserved before launch so the worker knows its host before anyone connects. */
  readonly hostClientId: bigint;
  handle: GameHandle | undefined;
  /** True from create until the launcher's exit: the slot and port are in use. */
  slotHeld: boolean;
  /** Why we asked the worker to stop, and what the game then becomes. */
  stopIntent: EndState | undefined;
  readonly started: PromiseWithResolvers<void>;
  readonly exited: PromiseWithResolvers<void>;
}

interface NextGame {
  state: 'starting' | 'ready' | 'failed';
  gameId: string | null;
  /** For players, when it failed. */
  message: string | null;
  /** Settles with the new game once its seats are in place (only while starting). */
  done: Promise<GameRecord> | undefined;
}

export type NextGameStatus = Omit<NextGame, 'done'>;

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

export class GameRegistry {
  private readonly games = new Map<string, GameRecord>();
  private readonly ports: PortPool;
  private readonly passcodes = new PasscodeBook();
  private readonly keys = new KeyIndex();
  private readonly settings: RegistrySettings;
  private readonly launcher: GameLauncher;
  private readonly store: ResultsStore;
  private readonly reportUrl: (gameId: string) => string;
  readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly clock: () => number;
  private readonly historyLimit: number;
  private liveCount = 0;
  private drainingFlag = false;
  private readonly endedListeners = new Set<(gameId: string) => void>();
  /** New seats (join, invite, watch) per game per minute: `ticketsPerGame`, also the burst. */
  private readonly newSeats: TokenBuckets;
  /** Fresh tickets for one seat (rejoin) per minute, so one reload loop cannot mint tokens without end either. */
  private readonly seatRenewals: TokenBuckets;

  constructor(options: RegistryOptions) {
    this.settings = options.settings;
    this.launcher = options.launcher;
    this.store = options.store;
    this.reportUrl = options.reportUrl;
    this.metrics = options.metrics ?? new Metrics();
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.clock = options.clock ?? (() => performance.now());
    this.historyLimit = options.historyLimit ?? 1000;
    this.ports = new PortPool(options.settings.gamePorts.first, options.settings.gamePorts.last);
    const ticketClock = this.clock;
    this.newSeats = new TokenBuckets({ capacity: options.settings.ticketsPerGame ?? DEFAULT_TICKETS_PER_GAME, windowMs: 60_000, now: ticketClock });
    this.seatRenewals = new TokenBuckets({ capacity: REJOINS_PER_SEAT_PER_MINUTE, windowMs: 60_000, now: ticketClock });
  }

  /** Games holding a slot (their worker has not exited yet). */
  get live(): number {
    return this.liveCount;
  }

  get freePorts(): number {
    return this.ports.available;
  }

  get draining(): boolean {
    return this.drainingFlag;
  }

  /**
   * Where a live game's server listens, for the relay; undefined once the game no longer holds its slot (and for
   * games still starting, which nobody has a token for yet).
   */
  resolveLive(gameId: string): { port: number } | undefined {
    const record = this.games.get(gameId);
    return record?.slotHeld && record.state !== 'starting' ? { port: record.port } : undefined;
  }

  /** Calls `listener(gameId)` whenever a game releases its slot (the relay closes its tunnels). Returns an unsubscribe. */
  onGameEnded(listener: (gameId: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /**
   * Starts a game and resolves once its worker is ready, with the host's ticket. Never leaves a half-started
   * game: on any failure the slot and port are released (the port once the worker has closed) and a GameError
   * (`capacity`, `no_ports`, `draining`, `start_failed`, `invalid_name`, `validation_failed`) is thrown.
   */
  async create(request: { name: string; maxPlayers?: number }): Promise<CreatedGame> {
    const record = await this.launch(request, undefined);
    return { ...this.newPlayerSeat(record, record.hostClientId, record.name), maxPlayers: record.maxPlayers };
  }

  /**
   * A player's ticket into a lobby by passcode, for a new seat with a name unique in the game. Throws
   * `invalid_passcode` (not 6 characters: a typo, not a guess), `invalid_name`, `wrong_passcode`, `game_started`,
   * `game_full`.
   */
  join(request: { passcode: string; name: string }): SeatTicket {
    if (!hasPasscodeLength(request.passcode)) throw new GameError('invalid_passcode', `A passcode has ${PASSCODE_LENGTH} characters`);
    const name = requireName(request.name);
    const gameId = this.passcodes.lookup(request.passcode);
    const record = gameId === undefined ? undefined : this.games.get(gameId);
    if (!record || !record.slotHeld) throw new GameError('wrong_passcode', 'no game has that passcode');
    if (record.state !== 'lobby') throw new GameError('game_started', 'that game has already started');
    if (this.seatsTaken(record) >= record.maxPlayers) throw new GameError('game_full', `that game is full (${record.maxPlayers} players)`);
    this.spendNewSeat(record);
    return this.newPlayerSeat(record, record.clientIds.next(), record.seats.uniqueName(name));
  }

  /**
   * A new seat by invite key instead of passcode (docs/SEATS.md "Keys"): the same lobby rules as a join, in the
   * newest game of the key's chain. Throws `invalid_name`, `unknown_invite`, `game_started`, `game_full`,
   * `game_over` (the group's newest game has ended).
   */
  joinByInvite(request: { invite: string; name: string }): SeatTicket {
    const name = requireName(request.name);
    const chain = this.keys.invite(request.invite);
    const record = chain && this.games.get(chain.gameId);
    if (!record) throw new GameError('unknown_invite', 'no game has that invite link');
    if (record.state === 'in_progress') throw new GameError('game_started', 'that game has already started');
    if (!record.slotHeld || record.state !== 'lobby') throw new GameError('game_over', 'that game is over');
    if (this.seatsTaken(record) >= record.maxPlayers) throw new GameError('game_full', `that game is full (${record.maxPlayers} players)`);
    this.spendNewSeat(record);
    return this.newPlayerSeat(record, record.clientIds.next(), record.seats.uniqueName(name));
  }

  /**
   * A fresh ticket for the seat a rejoin key opens (same client id, same name), in the lobby or during the round
   * of the newest game of its chain. Throws `unknown_seat`, or `game_over` (the game ended, or the worker released
   * the seat).
   */
  rejoin(rejoinKey: string): SeatTicket {
    const { record, seat, key } = this.findSeat(rejoinKey);
    if (!record.slotHeld || (record.state !== 'lobby' && record.state !== 'in_progress')) {
      throw new GameError('game_over', 'that game is over');
    }
    if (seat.released) throw new GameError('game_over', 'that seat was given up (the player left or did not come back in time)');
    this.spendTicket(this.seatRenewals, `${record.id} ${seat.clientId}`, 'fresh tickets for this seat');
    return this.seatTicket(record, seat, rejoinKey, key);
  }

  /**
   * A spectator's ticket for the newest game of a watch key's chain, in the lobby or during the round. Throws
   * `invalid_name`, `unknown_game`, `game_over`, `spectators_full`.
   */
  watch(request: { watchKey: string; name: string }): WatchTicket {
    const name = requireName(request.name);
    const chain = this.keys.watch(request.watchKey);
    const record = chain && this.games.get(chain.gameId);
    if (!record) throw new GameError('unknown_game', 'no game has that watch key');
    if (!record.slotHeld || (record.state !== 'lobby' && record.state !== 'in_progress')) {
      throw new GameError('game_over', 'that game is over');
    }
    if (record.spectators >= this.settings.maxSpectators) {
      throw new GameError('spectators_full', `that game has as many spectators as it takes (${this.settings.maxSpectators})`);
    }
    this.spendNewSeat(record);
    // A watcher may not pass for a player in the lobby list; among watchers a repeated name does no harm.
    const seat = record.seats.add({ clientId: record.clientIds.next(), name: record.seats.uniqueName(name), kind: 'spectator', keyHash: undefined });
    return { ...this.ticket(record, seat), watchKey: request.watchKey };
  }

  /**
   * Play again: the host at the end of a finished round starts the next game for the same group. It is a new game
   * (worker, key, passcode, reporting token, results) with the same max players; the caller is its creator, every
   * unreleased player seat of the old game gets a seat of the same name in it, and every key of the group now
   * leads there. A second call answers the same game. Throws `unknown_seat`, `not_finished` (no finished round, or
   * an abandoned one), `not_host`, and create's errors (`capacity`, `no_ports`, `start_failed`, `draining`), which
   * also show in the old game's status as `next.state: 'failed'` with a message for players.
   */
  async again(rejoinKey: string): Promise<SeatTicket> {
    const found = this.findSeat(rejoinKey);
    const { record, seat } = found;
    // Asked again once the new game is up: the key already leads into it, to the caller's own creator seat.
    if (record.previousId !== undefined && record.state === 'lobby' && seat.clientId === record.hostClientId) {
      return this.seatTicket(record, seat, rejoinKey, found.key);
    }
    if (record.state !== 'finished' || record.outcome !== 'finished') {
      throw new GameError('not_finished', record.outcome === 'abandoned' ? 'that round was abandoned' : 'that game has not finished a round');
    }
    if (seat.clientId !== (record.hostAtEnd ?? record.hostClientId)) {
      throw new GameError('not_host', 'only the host at the end of the round can start the next game');
    }
    // A retry after a failure starts over; a click while it starts waits for the same game.
    let done = record.next?.state === 'starting' ? record.next.done : undefined;
    if (!done) {
      done = this.startNext(record, seat);
      record.next = { state: 'starting', gameId: null, message: null, done };
    }
    await done;
    const moved = this.findSeat(rejoinKey);
    if (!moved.record.slotHeld) throw new GameError('start_failed', 'the next game ended before it could be joined');
    return this.seatTicket(moved.record, moved.seat, rejoinKey, moved.key);
  }

  private async startNext(previous: GameRecord, host: Seat): Promise<GameRecord> {
    let record: GameRecord;
    try {
      record = await this.launch({ name: host.name, maxPlayers: previous.maxPlayers }, previous);
    } catch (error) {
      const code = error instanceof GameError ? error.code : 'start_failed';
      const message =
        code === 'capacity' || code === 'no_ports'
          ? NEXT_GAME_MESSAGES.capacity
          : code === 'draining'
            ? NEXT_GAME_MESSAGES.draining
            : NEXT_GAME_MESSAGES.start_failed;
      previous.next = { state: 'failed', gameId: null, message, done: undefined };
      this.log.warn('game.again_failed', { gameId: previous.id, code });
      throw error;
    }
    // The same group, under new client ids: the old game's tokens can never open a seat here.
    for (const old of previous.seats.players()) {
      const clientId = old.clientId === host.clientId ? record.hostClientId : record.clientIds.next();
      record.seats.add({ clientId, name: old.name, kind: 'player', keyHash: old.keyHash });
      const key = old.keyHash === undefined ? undefined : this.keys.seatByHash(old.keyHash);
      if (key) {
        key.gameId = record.id;
        key.clientId = clientId;
      }
    }
    previous.chain.gameId = record.id;
    previous.next = { state: 'ready', gameId: record.id, message: null, done: undefined };
    this.log.info('game.again', { gameId: previous.id, to: record.id, players: record.seats.players().length });
    return record;
  }

  /** The game and seat a rejoin key leads to. Throws `unknown_seat`. */
  private findSeat(rejoinKey: string): { record: GameRecord; seat: Seat; key: SeatKey } {
    const key = this.keys.seat(rejoinKey);
    const record = key && this.games.get(key.gameId);
    const seat = key && record?.seats.get(key.clientId);
    if (!key || !record || !seat) throw new GameError('unknown_seat', 'no seat has that rejoin key');
    return { record, seat, key };
  }

  private seatTicket(record: GameRecord, seat: Seat, rejoinKey: string, key: SeatKey): SeatTicket {
    return {
      ...this.ticket(record, seat),
      passcode: record.passcode,
      rejoinKey,
      watchKey: this.keys.watchKeyOf(key, rejoinKey),
      inviteKey: this.keys.inviteKeyOf(key, rejoinKey),
    };
  }

  /** Adds a player seat with fresh keys and answers its ticket. */
  private newPlayerSeat(record: GameRecord, clientId: bigint, name: string): SeatTicket {
    const keys = this.keys.issue(record.chain, clientId);
    const seat = record.seats.add({ clientId, name, kind: 'player', keyHash: keys.rejoinHash });
    return { ...this.ticket(record, seat), passcode: record.passcode, rejoinKey: keys.rejoinKey, watchKey: keys.watchKey, inviteKey: keys.inviteKey };
  }

  /** Seats counted against max players: the worker's count once it reports, the seat book's until then. */
  private seatsTaken(record: GameRecord): number {
    return record.playersReported ? record.players : record.seats.players().length;
  }

  /** The create path shared by create and play again: a game in its lobby, or a GameError. */
  private async launch(request: { name: string; maxPlayers?: number }, previous: GameRecord | undefined): Promise<GameRecord> {
    if (this.drainingFlag) throw new GameError('draining', 'the server is shutting down and takes no new games');
    const name = requireName(request.name);
    const maxPlayers = request.maxPlayers ?? this.settings.maxPlayers;
    if (!Number.isInteger(maxPlayers) || maxPlayers < 1 || maxPlayers > this.settings.maxPlayers) {
      throw new GameError('validation_failed', `maxPlayers must be from 1 to ${this.settings.maxPlayers}`);
    }
    if (this.liveCount >= this.settings.maxGames) {
      throw new GameError('capacity', `all ${this.settings.maxGames} game slots are in use; try again when a game ends`);
    }
    const port = this.ports.take();
    if (port === undefined) {
      throw new GameError('no_ports', `all ${this.ports.size} game ports are in use; try again when a game ends`);
    }

    const id = newGameId();
    const clientIds = new ClientIds();
    const record: GameRecord = {
      id,
      name,
      passcode: this.passcodes.issue(id),
      port,
      maxPlayers,
      createdAt: this.now(),
      launchedAt: this.clock(),
      state: 'starting',
      difficulty: undefined,
      players: 0,
      playersReported: false,
      playerNames: undefined,
      spectators: 0,
      seats: new SeatBook(),
      // A play-again game joins its group's chain; the chain moves on to it only once it is ready.
      chain: previous?.chain ?? newChain(id),
      outcome: undefined,
      hostAtEnd: undefined,
      previousId: previous?.id,
      next: undefined,
      tick: undefined,
      seatStates: undefined,
      emptySince: undefined,
      stateSince: this.clock(),
      endReason: undefined,
      privateKey: randomBytes(SECRET_BYTES),
      reportToken: randomBytes(SECRET_BYTES),
      clientIds,
      hostClientId: clientIds.next(),
      handle: undefined,
      slotHeld: true,
      stopIntent: undefined,
      started: Promise.withResolvers<void>(),
      exited: Promise.withResolvers<void>(),
    };
    // Nobody awaits these when a game dies unseen; they must not surface as unhandled rejections.
    record.started.promise.catch(() => {});
    this.games.set(id, record);
    this.liveCount++;
    // Registered with the logger's redaction guard in the encodings they travel in, until the game is released.
    for (const text of secretTexts(record)) this.log.protect(text);

    try {
      record.handle = this.launcher.launch(
        {
          env: {
            gameId: id,
            port,
            bindHost: this.settings.bindHost,
            publicHost: this.settings.publicHost,
            privateKey: record.privateKey,
            reportToken: Buffer.from(record.reportToken).toString('base64url'),
            reportUrl: this.reportUrl(id),
            maxPlayers,
            lobbyTimeoutSeconds: this.settings.lobbyTimeoutSeconds,
            roundSeconds: this.settings.roundSeconds,
            protocolId: HUDDLE_PROTOCOL_ID,
            heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
            hostClientId: record.hostClientId,
            rejoinGraceSeconds: this.settings.rejoinGraceSeconds,
            maxSpectators: this.settings.maxSpectators,
          },
          startTimeoutMs: this.settings.workerStartTimeoutMs,
          heartbeatTimeoutMs: this.settings.heartbeatTimeoutMs,
        },
        (event) => this.onEvent(record, event),
      );
    } catch (error) {
      // Nothing was started, so nothing holds the port: release now.
      this.release(record, { state: 'failed', reason: 'launch_error' });
      this.log.error('game.launch_error', { gameId: id, message: errorMessage(error) });
      throw new GameError('start_failed', 'the game server could not be started');
    }

    await record.started.promise;
    return record;
  }

  /** Public status; never a secret. Games no longer in memory are looked up in the results store. */
  status(gameId: string): GameStatus {
    const record = this.games.get(gameId);
    if (record) {
      return {
        gameId,
        state: record.state,
        players: record.players,
        spectators: record.spectators,
        maxPlayers: record.maxPlayers,
        difficulty: record.difficulty ?? null,
        createdAt: new Date(record.createdAt).toISOString(),
        endReason: record.endReason ?? null,
        next: record.next ? { state: record.next.state, gameId: record.next.gameId, message: record.next.message } : null,
      };
    }
    const stored = this.store.getGame(gameId);
    if (!stored) throw new GameError('not_found', 'no such game');
    return {
      gameId,
      state: 'finished',
      players: stored.players.length,
      spectators: 0,
      maxPlayers: stored.maxPlayers,
      difficulty: stored.difficulty,
      createdAt: null,
      endReason: stored.outcome === 'abandoned' ? 'abandoned' : 'round_over',
      next: null,
    };
  }

  /** Stored results of a finished game. Throws `not_found`, or `not_finished` for a game without results. */
  results(gameId: string): StoredGame {
    const stored = this.store.getGame(gameId);
    if (stored) return stored;
    if (this.games.has(gameId)) throw new GameError('not_finished', 'that game has no results (it has not finished a round)');
    throw new GameError('not_found', 'no such game');
  }

  /**
   * The authenticated state report of a game server. `in_progress` only from the lobby; `finished` and
   * `abandoned` only from in_progress, stored durably before this returns. Repeating the report that made the current state is
   * acknowledged again (the worker may retry after a lost answer). Throws `not_found`, `game_over` (the game is
   * gone), `unauthorized` (state untouched), `bad_state`, `internal` (store failed; state untouched).
   */
  report(gameId: string, bearer: string | undefined, report: GameReport): ReportAck {
    const record = this.games.get(gameId);
    if (!record) throw new GameError('not_found', 'no such game');
    if (!record.slotHeld) throw new GameError('game_over', `the game has ended (${record.state})`);
    if (!secretMatches(bearer, record.reportToken, 'base64url')) {
      this.log.warn('report.unauthorized', { gameId });
      throw new GameError('unauthorized', 'missing or wrong reporting token', { 'WWW-Authenticate': 'Bearer' });
    }
    if (report.status === 'in_progress') {
      if (record.state === 'in_progress') {
        // A start whose acknowledgement was lost (or came after the worker's report timeout) left this game in
        // in_progress while its worker stayed in the lobby and told the host the start failed. The host's next start,
        // at whatever difficulty, is that start retried: acknowledge it, or the game is stuck until the backstop.
        record.difficulty = report.difficulty;
        record.stateSince = this.clock();
        return { gameId, state: record.state };
      }
      if (record.state !== 'lobby') throw new GameError('bad_state', `a game in ${record.state} cannot start`);
      record.difficulty = report.difficulty;
      this.transition(record, 'in_progress');
      return { gameId, state: record.state };
    }
    // finished or abandoned: the round is over, its results are stored (an abandoned round is kept, never ranked).
    if (record.state === 'finished') return { gameId, state: record.state };
    if (record.state !== 'in_progress') throw new GameError('bad_state', `a game in ${record.state} cannot finish`);
    const outcome: RoundOutcome = report.status === 'abandoned' ? 'abandoned' : 'finished';
    try {
      this.store.saveGame({
        gameId,
        name: record.name,
        difficulty: record.difficulty ?? 'normal',
        maxPlayers: record.maxPlayers,
        finishedAt: this.now(),
        outcome,
        results: report.results,
      });
    } catch (error) {
      this.log.error('store.save_failed', { gameId, message: errorMessage(error) });
      throw new GameError('internal', 'the results could not be stored; report again');
    }
    record.outcome = outcome;
    if (report.status === 'finished' && report.hostClientId !== undefined) {
      // Only a seat of this game can be its host; anything else leaves play again to the creator.
      const host = BigInt(report.hostClientId);
      if (record.seats.get(host)?.kind === 'player') record.hostAtEnd = host;
    }
    record.endReason = outcome === 'abandoned' ? 'abandoned' : 'round_over';
    this.transition(record, 'finished');
    this.metrics.gamesFinished++;
    return { gameId, state: record.state };
  }

  /**
   * Ends games whose worker outstays its welcome and forgets old dead games. The server calls it every second;
   * tests call it with their own clock.
   */
  sweep(): void {
    const now = this.clock();
    const lobbyLimit = this.settings.lobbyTimeoutSeconds * 1000 + BACKSTOP.emptyLobbyGraceMs;
    const roundLimit = this.settings.roundSeconds * 1000 + BACKSTOP.roundGraceMs;
    for (const record of this.games.values()) {
      if (!record.slotHeld || record.stopIntent) continue;
      if (record.state === 'lobby' && record.players === 0 && record.emptySince !== undefined && now - record.emptySince > lobbyLimit) {
        this.stop(record, { state: 'finished', reason: 'lobby_idle' });
      } else if (record.state === 'in_progress' && now - record.stateSince > roundLimit) {
        this.stop(record, { state: 'failed', reason: 'round_overrun' });
      } else if (record.state === 'finished' && now - record.stateSince > BACKSTOP.finishedGraceMs) {
        this.stop(record, { state: 'finished', reason: 'round_over' });
      }
    }
    this.forgetOldGames();
  }

  /**
   * Stops taking games, asks every worker to shut down and waits (bounded) for them to exit. Idempotent.
   */
  async drain(reason = 'the server is shutting down', timeoutMs = 5000): Promise<void> {
    this.drainingFlag = true;
    const live = [...this.games.values()].filter((r) => r.slotHeld);
    for (const record of live) this.stop(record, { state: 'failed', reason: 'server_shutdown' }, reason);
    let timer: Timer | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(live.map((r) => r.exited.promise)), timeout]);
    clearTimeout(timer);
  }

  /** Counts for /metrics, and the slowest game loop's tick p99 over live games (ms). */
  snapshot(): { gamesByState: Record<GameState, number>; playersConnected: number; worstTickP99Ms: number } {
    const gamesByState = Object.fromEntries(GAME_STATES.map((s) => [s, 0])) as Record<GameState, number>;
    let playersConnected = 0;
    let worstTickP99Ms = 0;
    for (const record of this.games.values()) {
      if (!record.slotHeld) continue;
      gamesByState[record.state]++;
      playersConnected += record.players;
      worstTickP99Ms = Math.max(worstTickP99Ms, record.tick?.p99Ms ?? 0);
    }
    return { gamesByState, playersConnected, worstTickP99Ms };
  }

  /** The live games for the admin view, oldest first. */
  adminGames(): AdminGame[] {
    const now = this.now();
    const out: AdminGame[] = [];
    for (const record of this.games.values()) {
      if (!record.slotHeld) continue;
      const players =
        record.seatStates?.map((s) => ({ name: s.name, connected: s.connected, pingMs: s.pingMs })) ??
        (record.playerNames ?? record.seats.players().map((s) => s.name)).map((name) => ({ name, connected: null, pingMs: null }));
      out.push({
        gameId: record.id,
        name: record.name,
        state: record.state,
        difficulty: record.difficulty ?? null,
        createdAt: new Date(record.createdAt).toISOString(),
        ageSeconds: Math.max(0, Math.round((now - record.createdAt) / 1000)),
        maxPlayers: record.maxPlayers,
        seatsTaken: this.seatsTaken(record),
        players,
        spectators: record.spectators,
        tick: record.tick ?? null,
        ending: record.stopIntent !== undefined,
      });
    }
    return out;
  }

  /**
   * The operator ends a live game: its worker tells the players (ADMIN_END_MESSAGE) and stops; the game ends with
   * `endReason: 'admin_ended'` (a finished round keeps its `round_over`). Asking again while it ends is answered
   * the same. Throws `not_found`, `game_over` (already gone, or already ending for another reason).
   */
  adminEnd(gameId: string): { gameId: string; state: GameState; endReason: string } {
    const record = this.games.get(gameId);
    if (!record) throw new GameError('not_found', 'no such game');
    if (!record.slotHeld) throw new GameError('game_over', `that game has already ended (${record.endReason ?? record.state})`);
    if (record.stopIntent && record.stopIntent.reason !== ADMIN_ENDED) {
      throw new GameError('game_over', `that game is already ending (${record.stopIntent.reason})`);
    }
    // Set before the worker is told, so a player's page that asks why its game closed already reads it.
    if (record.state !== 'finished') record.endReason = ADMIN_ENDED;
    if (!record.stopIntent) this.log.info('game.admin_end', { gameId, state: record.state });
    this.stop(record, { state: 'finished', reason: ADMIN_ENDED }, ADMIN_END_MESSAGE);
    return { gameId, state: record.state, endReason: record.endReason ?? ADMIN_ENDED };
  }

  /** What one game's ticket bookkeeping holds (seats ever given, client ids drawn), for the memory bound's tests. */
  bookkeeping(gameId: string): { seats: number; clientIds: number; limit: number } | undefined {
    const record = this.games.get(gameId);
    if (!record) return undefined;
    let seats = 0;
    for (const _ of record.seats.all()) seats++;
    return { seats, clientIds: record.clientIds.issued, limit: maxSeatsPerGame(this.settings) };
  }

  /** Latest tick statistics of each live game, for load benchmarks. */
  tickStats(): { gameId: string; players: number; tick: TickStats }[] {
    const out: { gameId: string; players: number; tick: TickStats }[] = [];
    for (const record of this.games.values()) if (record.slotHeld && record.tick) out.push({ gameId: record.id, players: record.players, tick: record.tick });
    return out;
  }

  /**
   * The per-game bound on successful joins (DESIGN.md section 12): a new seat (join, invite, watch) spends one of
   * the game's `ticketsPerGame` a minute, and a game never keeps more than `maxSeatsPerGame` seats, so a passcode
   * holder can neither make the server mint tokens without end nor grow a game's bookkeeping (seats, client ids,
   * keys) without bound. Checked before a client id is drawn, so a refusal costs no memory.
   */
  private spendNewSeat(record: GameRecord): void {
    const limit = maxSeatsPerGame(this.settings);
    if (record.clientIds.issued >= limit) {
      throw new GameError('game_full', `that game has handed out as many seats as it keeps (${limit}); start a new game`);
    }
    this.spendTicket(this.newSeats, record.id, 'new tickets for this game');
  }

  private spendTicket(buckets: TokenBuckets, key: string, what: string): void {
    const waitMs = buckets.blockedForMs(key);
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new GameError('too_many_tickets', `too many ${what}; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
    buckets.take(key);
  }

  private ticket(record: GameRecord, seat: Seat): Ticket {
    const minted = mintConnectToken({
      privateKey: record.privateKey,
      publicHost: this.settings.publicHost,
      port: record.port,
      clientId: seat.clientId,
      name: seat.name,
      kind: seat.kind,
      expirySeconds: this.settings.tokenExpirySeconds,
      nowMs: this.now(),
    });
    return {
      gameId: record.id,
      port: record.port,
      serverAddress: minted.serverAddress,
      connectToken: minted.connectToken,
      expiresAt: new Date(minted.expiresAtMs).toISOString(),
      name: seat.name,
      role: seat.kind,
    };
  }

  private onEvent(record: GameRecord, event: LauncherEvent): void {
    if (!record.slotHeld) return;
    switch (event.type) {
      case 'ready': {
        if (record.state !== 'starting') return;
        const seconds = (this.clock() - record.launchedAt) / 1000;
        this.metrics.workerStarted(seconds);
        this.metrics.gamesStarted++;
        record.emptySince = this.clock();
        this.transition(record, 'lobby');
        this.log.info('game.ready', { gameId: record.id, port: record.port, durationMs: Math.round(seconds * 1000) });
        record.started.resolve();
        return;
      }
      case 'heartbeat':
        if (event.tick) record.tick = event.tick;
        if (event.seats) record.seatStates = event.seats;
        this.setPlayers(record, event.players, record.playerNames);
        return;
      case 'players':
        this.setPlayers(record, event.count, event.names);
        if (event.spectators !== undefined) record.spectators = event.spectators;
        return;
      case 'seat_released':
        // Unknown ids are ignored: the worker may release a seat we never issued only if it is broken, and then
        // there is nothing of ours to close.
        record.seats.release(event.clientId);
        return;
      case 'log':
        // The logger's secret guard applies here too; the game id is added by us, not trusted from the worker.
        this.log.info(`game.${event.event}`, { ...event.fields, gameId: record.id });
        return;
      case 'report':
        // Informational: the HTTP report with the bearer token is what changes state.
        this.log.info('worker.report', { gameId: record.id, status: event.report.status });
        return;
      case 'exit': {
        const wasStarting = record.state === 'starting';
        const end = this.endStateFor(record, event);
        this.release(record, end);
        const fields = { gameId: record.id, state: record.state, reason: end.reason, message: event.detail };
        if (end.state === 'failed') this.log.warn('game.failed', fields);
        else this.log.info('game.ended', fields);
        if (wasStarting) {
          const message =
            event.cause === 'start_timeout'
              ? `the game server did not start within ${this.settings.workerStartTimeoutMs} ms`
              : 'the game server failed to start';
          record.started.reject(new GameError('start_failed', message));
        }
        return;
      }
    }
  }

  private setPlayers(record: GameRecord, count: number, names: string[] | undefined): void {
    if (count === 0 && record.players !== 0) record.emptySince = this.clock();
    if (count !== 0) record.emptySince = undefined;
    record.players = count;
    record.playersReported = true;
    record.playerNames = names;
  }

  /** What a game becomes when its worker exits, from what we know of why. */
  private endStateFor(record: GameRecord, event: Extract<LauncherEvent, { type: 'exit' }>): EndState {
    if (record.state === 'finished') return { state: 'finished', reason: record.endReason ?? 'round_over' };
    if (record.stopIntent) return record.stopIntent;
    if (FAILURE_CAUSES.has(event.cause)) return { state: 'failed', reason: event.cause };
    // Every seat was given up (or nobody was there when the timer ran out): over, but never ranked.
    if (event.cause === 'exiting' && event.reason === 'round_abandoned' && (record.state === 'in_progress' || record.state === 'lobby')) {
      return { state: 'finished', reason: 'abandoned' };
    }
    if (event.cause === 'exiting' && record.state === 'lobby' && (event.reason === 'lobby_idle' || event.reason === 'lobby_empty')) {
      return { state: 'finished', reason: event.reason };
    }
    // Ending a round without reporting results, or saying "shutdown" when nobody asked, is not a normal end.
    return { state: 'failed', reason: event.reason ? `exited_${event.reason}` : event.cause };
  }

  private stop(record: GameRecord, intent: EndState, message = intent.reason): void {
    record.stopIntent ??= intent;
    record.handle?.stop(message);
  }

  /** The one place a slot and port are given back; guarded so it happens exactly once per game. */
  private release(record: GameRecord, end: EndState): void {
    if (!record.slotHeld) return;
    record.slotHeld = false;
    this.liveCount--;
    if (!this.ports.release(record.port)) {
      this.log.error('port.double_free', { gameId: record.id, port: record.port });
    }
    this.passcodes.revoke(record.passcode);
    for (const text of secretTexts(record)) this.log.unprotect(text);
    // The game is over: its secrets are worthless to keep and harmful to leak.
    record.privateKey.fill(0);
    record.reportToken.fill(0);
    record.endReason ??= end.reason;
    if (record.state !== 'finished' && end.state === 'failed') {
      this.transition(record, 'failed');
      this.metrics.gamesFailed++;
    } else if (record.state !== 'finished') {
      this.transition(record, 'finished');
      this.metrics.gamesFinished++;
    }
    record.players = 0;
    record.spectators = 0;
    record.exited.resolve();
    for (const listener of this.endedListeners) {
      try {
        listener(record.id);
      } catch (error) {
        this.log.error('game.ended_listener_failed', { gameId: record.id, message: errorMessage(error) });
      }
    }
  }

  private transition(record: GameRecord, to: GameState): void {
    const from = record.state;
    if (from === to) return;
    record.state = to;
    record.stateSince = this.clock();
    this.log.info('game.state', { gameId: record.id, from, to, ...(record.difficulty ? { difficulty: record.difficulty } : {}) });
  }

  private forgetOldGames(): void {
    let dead = 0;
    for (const record of this.games.values()) if (!record.slotHeld) dead++;
    for (const [id, record] of this.games) {
      if (dead <= this.historyLimit) break;
      if (record.slotHeld) continue;
      this.games.delete(id);
      const rejoinHashes = [...record.seats.all()].flatMap((seat) => (seat.keyHash === undefined ? [] : [seat.keyHash]));
      this.keys.forgetGame(id, rejoinHashes, record.chain);
      dead--;
    }
  }
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

function requireName(raw: string): string {
  // The same cleaning the game applies to the name it reads back from the token.
  const name = sanitizeName(raw);
  if (name === '') throw new GameError('invalid_name', 'the name is empty once control characters are removed');
  return name;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A game's secrets as text, in the encodings the worker environment carries them. */
function secretTexts(record: Pick<GameRecord, 'reportToken' | 'privateKey'>): string[] {
  return [Buffer.from(record.reportToken).toString('base64url'), Buffer.from(record.privateKey).toString('base64')];
}
