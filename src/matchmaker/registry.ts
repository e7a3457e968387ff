/**
 * The game registry: the facade the routes call for every game's life (create, join, rejoin, watch, play again,
 * reports, status, the admin view, sweeps and drain). It owns nothing itself but the wiring; each job is a module
 * of registry/ (docs/SEATS.md is the contract for seats, keys and play again):
 *
 * - registry/state-store.ts: what must be shareable across nodes (games and their states, passcode → game, key
 *   hash → seat or group, counts); registry/memory-store.ts is the in-memory default every registry uses today.
 * - registry/lifecycle.ts: the state machine and its single release path, and drain.
 * - registry/launch.ts: the create path (capacity, port, secrets, worker start).
 * - registry/supervision.ts: what the launcher's events do to a game, and the end state an exit means.
 * - registry/reports.ts: the authenticated report and the results it stores.
 * - registry/read-model.ts: status, results, /metrics counts, the admin view.
 * - registry/tickets.ts: connect tokens and the per-game ticket budgets; registry/backstop.ts: the sweep's rules.
 *
 * Accounting rule: a game holds its slot and port from `create` until its launcher reports `exit` (the worker is
 * gone and the port can be bound again), and releases them exactly once, whatever ended it.
 */
import type { GameReport, TickStats } from '../contract/worker-messages.ts';
import { silentLogger, type Logger } from '../log.ts';
import { GameError } from './errors.ts';
import { type GameState, type LiveSnapshot, Metrics } from './metrics.ts';
import { hasPasscodeLength, PASSCODE_LENGTH } from './passcodes.ts';
import { PortPool } from './ports.ts';
import type { StoredGame } from './results-store.ts';
import { openInviteKey, openWatchKey, type Seat, type SeatKey } from './seats.ts';
import { AdoptionJournal, adoptGames } from './registry/adopt.ts';
import { overstayed } from './registry/backstop.ts';
import { type GameRecord, seatsTaken } from './registry/game-record.ts';
import { launchGame, type LaunchDeps, requireName } from './registry/launch.ts';
import { WarmGames } from './registry/warm.ts';
import { GameLifecycle } from './registry/lifecycle.ts';
import { MemoryGameStateStore } from './registry/memory-store.ts';
import { GameReads } from './registry/read-model.ts';
import { handleReport, type ReportDeps } from './registry/reports.ts';
import { NO_OBSERVER, type ObservedGame, type RegistryObserver } from './registry/observer.ts';
import type { GameStateStore } from './registry/state-store.ts';
import { applyLauncherEvent, type SupervisionDeps } from './registry/supervision.ts';
import { TicketDesk } from './registry/tickets.ts';
import {
  ADMIN_END_MESSAGE,
  ADMIN_ENDED,
  type AdminGame,
  type CreatedGame,
  type GameStatus,
  maxSeatsPerGame,
  NEXT_GAME_MESSAGES,
  type RegistryOptions,
  type RegistrySettings,
  type ReportAck,
  type SeatTicket,
  type WatchTicket,
} from './registry/types.ts';

export { BACKSTOP } from './registry/backstop.ts';
export type { GameStateStore } from './registry/state-store.ts';
export type { ObservedGame, RegistryObserver } from './registry/observer.ts';
export { MemoryGameStateStore } from './registry/memory-store.ts';
export * from './registry/types.ts';

export class GameRegistry {
  private readonly state: GameStateStore;
  private readonly ports: PortPool;
  private readonly settings: RegistrySettings;
  readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly historyLimit: number;
  private drainingFlag = false;
  private readonly lifecycle: GameLifecycle;
  private readonly tickets: TicketDesk;
  private readonly reads: GameReads;
  private readonly launchDeps: LaunchDeps;
  private readonly reportDeps: ReportDeps;
  private readonly supervision: SupervisionDeps;
  private readonly observer: RegistryObserver;
  private readonly journal: AdoptionJournal | undefined;
  private readonly launcher: RegistryOptions['launcher'];
  /** Games started ahead of their create (registry/warm.ts); only with a launcher that can start them warm. */
  private readonly warm: WarmGames | undefined;

  constructor(options: RegistryOptions) {
    this.settings = options.settings;
    this.metrics = options.metrics ?? new Metrics();
    this.log = options.log ?? silentLogger;
    const now = options.now ?? Date.now;
    this.clock = options.clock ?? (() => performance.now());
    const clock = this.clock;
    this.historyLimit = options.historyLimit ?? 1000;
    this.state = options.state ?? new MemoryGameStateStore();
    this.ports = new PortPool(options.settings.gamePorts.first, options.settings.gamePorts.last);
    this.observer = options.observer ?? NO_OBSERVER;
    const { state, ports, metrics, log, observer } = this;
    this.launcher = options.launcher;
    this.journal = options.adoptionDir === undefined ? undefined : new AdoptionJournal(options.adoptionDir, state, log);
    this.lifecycle = new GameLifecycle({ store: state, ports, metrics, log, clock, observer, ...(this.journal ? { journal: this.journal } : {}) });
    this.tickets = new TicketDesk(options.settings, now, clock);
    this.reads = new GameReads(state, options.store, now);
    const warmTarget = options.settings.warmGames ?? 0;
    this.warm =
      options.launcher.warm && warmTarget > 0
        ? new WarmGames({ settings: options.settings, target: warmTarget, ports, launcher: options.launcher, log, reportUrl: options.reportUrl, live: () => state.live, clock })
        : undefined;
    if (this.warm) {
      const warm = this.warm;
      // A slot given back may be a warm game's again: on a later turn, not inside the release (which runs in the
      // ended worker's close event, beside the relay closing that game's tunnels).
      this.lifecycle.onGameEnded(() => {
        if (!this.drainingFlag) warm.refillSoon();
      });
    }
    this.supervision = { lifecycle: this.lifecycle, metrics, log, clock, workerStartTimeoutMs: options.settings.workerStartTimeoutMs };
    this.launchDeps = {
      settings: options.settings,
      state,
      ports,
      lifecycle: this.lifecycle,
      launcher: options.launcher,
      log,
      reportUrl: options.reportUrl,
      now,
      clock,
      onEvent: (record, event) => applyLauncherEvent(this.supervision, record, event),
      observer,
      ...(this.warm ? { warm: this.warm } : {}),
    };
    this.reportDeps = { state, results: options.store, lifecycle: this.lifecycle, metrics, log, now, clock, observer };
  }

  /**
   * After a restart with `--launcher process`: takes back every game an earlier matchmaker left running (its
   * adoption record, registry/adopt.ts). Each waits for its process's channel to reconnect; a dead pid or no
   * reconnection in time ends it `failed` (`lost_in_restart`). Answers how many were taken back and lost.
   */
  adopt(): { adopted: number; lost: number } {
    if (!this.journal) return { adopted: 0, lost: 0 };
    return adoptGames({
      state: this.state,
      ports: this.ports,
      lifecycle: this.lifecycle,
      launcher: this.launcher,
      journal: this.journal,
      log: this.log,
      clock: this.clock,
      // A child backs off up to ~2.4 s between attempts while no matchmaker answers: give it a few.
      reconnectTimeoutMs: Math.max(this.settings.workerStartTimeoutMs, 10_000),
      heartbeatTimeoutMs: this.settings.heartbeatTimeoutMs,
      onEvent: (record, event) => applyLauncherEvent(this.supervision, record, event),
    });
  }

  /** Starts the warm games (`warmGames`): the server calls it once it listens, after any adoption. */
  warmUp(): void {
    if (!this.drainingFlag) this.warm?.refill();
  }

  /** Warm games standing by, and how many creates found one or started cold (for /metrics). */
  get warmStats(): { standingBy: number; held: number; claimed: number; missed: number } | undefined {
    const warm = this.warm;
    return warm ? { standingBy: warm.standingBy, held: warm.held, claimed: warm.claimed, missed: warm.cold } : undefined;
  }

  /**
   * `--on-stop detach`: takes no new games and lets go of the running ones (they play on, their adoption records
   * stay for the next start). Idempotent; a game whose launcher cannot let go is drained instead.
   */
  async detach(reason = 'the server is restarting', timeoutMs = 5000): Promise<void> {
    this.drainingFlag = true;
    const warmStopped = this.warm?.stop(timeoutMs);
    const kept = this.state.liveGames().filter((record) => {
      const handle = record.local.handle;
      if (!this.journal || !handle?.detach || !handle.process) return true;
      handle.detach();
      return false;
    });
    if (kept.length > 0) await this.lifecycle.drain(reason, timeoutMs, kept);
    await warmStopped;
  }

  /** Games holding a slot (their worker has not exited yet). */
  get live(): number {
    return this.state.live;
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
    const record = this.state.game(gameId);
    return record?.slotHeld && record.state !== 'starting' ? { port: record.port } : undefined;
  }

  /** Calls `listener(gameId)` whenever a game releases its slot (the relay closes its tunnels). Returns an unsubscribe. */
  onGameEnded(listener: (gameId: string) => void): () => void {
    return this.lifecycle.onGameEnded(listener);
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
    const gameId = this.state.gameForPasscode(request.passcode);
    const record = gameId === undefined ? undefined : this.state.game(gameId);
    if (!record || !record.slotHeld) throw new GameError('wrong_passcode', 'no game has that passcode');
    if (record.state !== 'lobby') throw new GameError('game_started', 'that game has already started');
    if (seatsTaken(record) >= record.maxPlayers) throw new GameError('game_full', `that game is full (${record.maxPlayers} players)`);
    this.tickets.spendNewSeat(record);
    return this.newPlayerSeat(record, record.clientIds.next(), record.seats.uniqueName(name));
  }

  /**
   * A new seat by invite key instead of passcode (docs/SEATS.md "Keys"): the same lobby rules as a join, in the
   * newest game of the key's chain. Throws `invalid_name`, `unknown_invite`, `game_started`, `game_full`,
   * `game_over` (the group's newest game has ended).
   */
  joinByInvite(request: { invite: string; name: string }): SeatTicket {
    const name = requireName(request.name);
    const chain = this.state.inviteChain(request.invite);
    const record = chain && this.state.game(chain.gameId);
    if (!record) throw new GameError('unknown_invite', 'no game has that invite link');
    if (record.state === 'in_progress') throw new GameError('game_started', 'that game has already started');
    if (!record.slotHeld || record.state !== 'lobby') throw new GameError('game_over', 'that game is over');
    if (seatsTaken(record) >= record.maxPlayers) throw new GameError('game_full', `that game is full (${record.maxPlayers} players)`);
    this.tickets.spendNewSeat(record);
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
    this.tickets.spendRenewal(record, seat);
    return this.seatTicket(record, seat, rejoinKey, key);
  }

  /**
   * A spectator's ticket for the newest game of a watch key's chain, in the lobby or during the round. Throws
   * `invalid_name`, `unknown_game`, `game_over`, `spectators_full`.
   */
  watch(request: { watchKey: string; name: string }): WatchTicket {
    const name = requireName(request.name);
    const chain = this.state.watchChain(request.watchKey);
    const record = chain && this.state.game(chain.gameId);
    if (!record) throw new GameError('unknown_game', 'no game has that watch key');
    if (!record.slotHeld || (record.state !== 'lobby' && record.state !== 'in_progress')) {
      throw new GameError('game_over', 'that game is over');
    }
    if (record.spectators >= this.settings.maxSpectators) {
      throw new GameError('spectators_full', `that game has as many spectators as it takes (${this.settings.maxSpectators})`);
    }
    this.tickets.spendNewSeat(record);
    // A watcher may not pass for a player in the lobby list; among watchers a repeated name does no harm.
    const seat = record.seats.add({ clientId: record.clientIds.next(), name: record.seats.uniqueName(name), kind: 'spectator', keyHash: undefined });
    this.lifecycle.changed(record);
    return { ...this.tickets.ticket(record, seat), watchKey: request.watchKey };
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
      this.lifecycle.changed(previous);
      this.log.warn('game.again_failed', { gameId: previous.id, code });
      throw error;
    }
    // The same group, under new client ids: the old game's tokens can never open a seat here.
    for (const old of previous.seats.players()) {
      const clientId = old.clientId === host.clientId ? record.hostClientId : record.clientIds.next();
      record.seats.add({ clientId, name: old.name, kind: 'player', keyHash: old.keyHash });
      if (old.keyHash !== undefined) this.state.moveSeat(old.keyHash, record.id, clientId);
    }
    this.state.moveChain(previous.chain, record.id);
    previous.next = { state: 'ready', gameId: record.id, message: null, done: undefined };
    this.lifecycle.changed(record);
    this.lifecycle.changed(previous);
    this.log.info('game.again', { gameId: previous.id, to: record.id, players: record.seats.players().length });
    return record;
  }

  /** The game and seat a rejoin key leads to. Throws `unknown_seat`. */
  private findSeat(rejoinKey: string): { record: GameRecord; seat: Seat; key: SeatKey } {
    const key = this.state.seatKey(rejoinKey);
    const record = key && this.state.game(key.gameId);
    const seat = key && record?.seats.get(key.clientId);
    if (!key || !record || !seat) throw new GameError('unknown_seat', 'no seat has that rejoin key');
    return { record, seat, key };
  }

  private seatTicket(record: GameRecord, seat: Seat, rejoinKey: string, key: SeatKey): SeatTicket {
    return {
      ...this.tickets.ticket(record, seat),
      passcode: record.passcode,
      rejoinKey,
      watchKey: openWatchKey(key, rejoinKey),
      inviteKey: openInviteKey(key, rejoinKey),
    };
  }

  /** Adds a player seat with fresh keys and answers its ticket. */
  private newPlayerSeat(record: GameRecord, clientId: bigint, name: string): SeatTicket {
    const keys = this.state.issueKeys(record.chain, clientId);
    const seat = record.seats.add({ clientId, name, kind: 'player', keyHash: keys.rejoinHash });
    this.lifecycle.notify(record, () => this.observer.keysIssued(record, keys));
    this.lifecycle.changed(record);
    return { ...this.tickets.ticket(record, seat), passcode: record.passcode, rejoinKey: keys.rejoinKey, watchKey: keys.watchKey, inviteKey: keys.inviteKey };
  }

  /** The create path shared by create and play again: a game in its lobby, or a GameError. */
  private launch(request: { name: string; maxPlayers?: number }, previous: GameRecord | undefined): Promise<GameRecord> {
    if (this.drainingFlag) return Promise.reject(new GameError('draining', 'the server is shutting down and takes no new games'));
    return launchGame(this.launchDeps, request, previous);
  }

  /** Public status; never a secret. Games no longer in memory are looked up in the results store. */
  status(gameId: string): GameStatus {
    return this.reads.status(gameId);
  }

  /** Stored results of a finished game. Throws `not_found`, or `not_finished` for a game without results. */
  results(gameId: string): StoredGame {
    return this.reads.stored(gameId);
  }

  /**
   * The authenticated state report of a game server (registry/reports.ts). Throws `not_found`, `game_over`,
   * `unauthorized` (state untouched), `bad_state`, `internal` (store failed; state untouched).
   */
  report(gameId: string, bearer: string | undefined, report: GameReport): ReportAck {
    return handleReport(this.reportDeps, gameId, bearer, report);
  }

  /**
   * Ends games whose worker outstays its welcome and forgets old dead games. The server calls it every second;
   * tests call it with their own clock.
   */
  sweep(): void {
    for (const [record, intent] of overstayed(this.state.games(), this.clock(), this.settings)) this.lifecycle.stop(record, intent);
    this.state.pruneHistory(this.historyLimit);
  }

  /**
   * Stops taking games, asks every worker to shut down and waits (bounded) for them to exit. Idempotent.
   */
  async drain(reason = 'the server is shutting down', timeoutMs = 5000): Promise<void> {
    this.drainingFlag = true;
    await Promise.all([this.lifecycle.drain(reason, timeoutMs), this.warm?.stop(timeoutMs)]);
  }

  /** Counts for /metrics, and the worst live game loop's tick lateness and work p99 (ms, last heartbeat each). */
  snapshot(): Required<LiveSnapshot> {
    const warm = this.warmStats;
    return { ...this.reads.snapshot(), warm: { standingBy: warm?.standingBy ?? 0, claimed: warm?.claimed ?? 0, missed: warm?.missed ?? 0 } };
  }

  /** The live games for the admin view, oldest first. */
  adminGames(): AdminGame[] {
    return this.reads.adminGames();
  }

  /**
   * The operator ends a live game: its worker tells the players (ADMIN_END_MESSAGE) and stops; the game ends with
   * `endReason: 'admin_ended'` (a finished round keeps its `round_over`). Asking again while it ends is answered
   * the same. Throws `not_found`, `game_over` (already gone, or already ending for another reason).
   */
  adminEnd(gameId: string): { gameId: string; state: GameState; endReason: string } {
    const record = this.state.game(gameId);
    if (!record) throw new GameError('not_found', 'no such game');
    if (!record.slotHeld) throw new GameError('game_over', `that game has already ended (${record.endReason ?? record.state})`);
    const intent = record.local.stopIntent;
    if (intent && intent.reason !== ADMIN_ENDED) {
      throw new GameError('game_over', `that game is already ending (${intent.reason})`);
    }
    // Set before the worker is told, so a player's page that asks why its game closed already reads it.
    if (record.state !== 'finished') record.endReason = ADMIN_ENDED;
    if (!intent) this.log.info('game.admin_end', { gameId, state: record.state });
    this.lifecycle.stop(record, { state: 'finished', reason: ADMIN_ENDED }, ADMIN_END_MESSAGE);
    return { gameId, state: record.state, endReason: record.endReason ?? ADMIN_ENDED };
  }

  /** What one game's ticket bookkeeping holds (seats ever given, client ids drawn), for the memory bound's tests. */
  bookkeeping(gameId: string): { seats: number; clientIds: number; limit: number } | undefined {
    const record = this.state.game(gameId);
    if (!record) return undefined;
    let seats = 0;
    for (const _ of record.seats.all()) seats++;
    return { seats, clientIds: record.clientIds.issued, limit: maxSeatsPerGame(this.settings) };
  }

  /**
   * Whether this node knows what a request names (a passcode of a live game, a key, a game id), so the cluster
   * layer answers it here and never asks the directory. A game it forgot, or never had, is not known.
   */
  knows(ref: { passcode: string } | { invite: string } | { rejoinKey: string } | { watchKey: string } | { gameId: string }): boolean {
    if ('passcode' in ref) return this.state.gameForPasscode(ref.passcode) !== undefined;
    if ('invite' in ref) return this.state.inviteChain(ref.invite) !== undefined;
    if ('rejoinKey' in ref) return this.state.seatKey(ref.rejoinKey) !== undefined;
    if ('watchKey' in ref) return this.state.watchChain(ref.watchKey) !== undefined;
    return this.state.game(ref.gameId) !== undefined;
  }

  /** Whether a create asked here would start here (a free slot and port, not shutting down). */
  get hasFreeSlot(): boolean {
    return !this.drainingFlag && this.state.live < this.settings.maxGames && (this.ports.available > 0 || (this.warm?.claimable ?? 0) > 0);
  }

  /** The live games as an observer sees them (the cluster republishes them after Redis comes back). */
  observedGames(): ObservedGame[] {
    return this.state.liveGames();
  }

  /**
   * The cluster declared these games lost (this node was cut off long enough for the others to give up on it):
   * each live one ends `failed` with `endReason: 'node_lost'`, its players told the server stopped.
   */
  endLost(gameIds: readonly string[], message: string): number {
    let ended = 0;
    for (const gameId of gameIds) {
      const record = this.state.game(gameId);
      if (!record?.slotHeld) continue;
      this.log.warn('game.node_lost', { gameId, state: record.state });
      this.lifecycle.stop(record, { state: 'failed', reason: 'node_lost' }, message);
      ended++;
    }
    return ended;
  }

  /** Latest tick statistics of each live game, for load benchmarks. */
  tickStats(): { gameId: string; players: number; tick: TickStats }[] {
    return this.reads.tickStats();
  }
}
