/**
 * One game, server side: seats, spectators and the lobby → start → countdown → round → results flow. The
 * session holds no sockets and no clock: the worker feeds it netcode events with the time, and it acts through
 * `SessionHost`, so the whole flow is testable in memory.
 *
 * A **seat** (docs/SEATS.md) belongs to a player for the whole game, not to one connection: it is keyed by the
 * netcode client id the matchmaker minted for that player, and has a stable index (the ship's slot, the `index`
 * in every message) while the netcode client index changes with each connection. A dropped seat is held for the
 * rejoin grace; a rejoin (or a takeover from another tab or network) carries on with the same index, score and,
 * within a few seconds, host mark. Spectators watch: they get what players see and send nothing.
 *
 * The start and the results are reported to the matchmaker (HTTP with the reporting token), and the session
 * waits for that acknowledgement before play begins or results are shown: the matchmaker's record is the truth,
 * so a game the matchmaker did not accept never starts.
 */
import type { GameReport, WorkerExitReason, WorkerPhase } from '../contract/worker-messages.ts';
import { type HostCandidate, HostMark } from './host-mark.ts';
import { type Difficulty, Lobby } from './lobby.ts';
import { CHANNEL_RELIABLE, type ClientMessage, decodeClientMessage, encodeMessage, sanitizeChat, type ServerMessage } from './messages.ts';
import type { GameLink } from './peer-link.ts';
import type { Round, RoundFactory, ScoreLine } from './round.ts';
import { decodeSeatData } from './seat-data.ts';

export type ReportOutcome = { ok: true } | { ok: false; reason: string };

export interface SeatCounts {
  /** Seats taken: connected players and dropped players whose seat is held. */
  count: number;
  names: string[];
  /** Connected spectators. */
  spectators: number;
}

export interface SessionHost {
  sendPayload(clientIndex: number, payload: Uint8Array): void;
  /** Drops a connection (netcode disconnect packets); the session then gets `playerDisconnected`. */
  disconnect(clientIndex: number): void;
  /** Reports to the matchmaker and resolves once it answered (or gave up). */
  report(report: GameReport): Promise<ReportOutcome>;
  onPlayersChanged(counts: SeatCounts): void;
  /** A seat is gone for good (left, grace over, kicked): a later rejoin for it must fail. */
  onSeatReleased(clientId: bigint): void;
  /** The game is over for good; the worker should stop. */
  onEnd(reason: WorkerExitReason): void;
  log(event: string, fields?: Record<string, string | number | boolean>): void;
}

export interface SessionOptions {
  maxPlayers: number;
  maxSpectators: number;
  lobbyTimeoutSeconds: number;
  roundSeconds: number;
  /** Seconds a dropped seat is held for a rejoin (0: released at once). */
  rejoinGraceSeconds: number;
  /** The creator's client id: host as soon as it connects. */
  hostClientId?: bigint;
  countdownSeconds?: number;
  /** How long the first player waits for the creator before someone else is host. */
  creatorWaitSeconds?: number;
  /** How long a dropped host keeps the mark. */
  hostKeepSeconds?: number;
  /** Invalid messages or packets from one connection before it is disconnected. */
  maxInvalidPerPlayer?: number;
  createLink: () => GameLink;
  createRound: RoundFactory;
}

/** What the session needs of a netcode connection (netcode's `ConnectedClient` is one). */
export interface SessionClient {
  readonly clientIndex: number;
  readonly clientId: bigint;
  readonly userData: Uint8Array;
}

interface Seat extends HostCandidate {
  readonly clientId: bigint;
  readonly index: number;
  readonly name: string;
  /** Admission order (the lobby lists seats in it). */
  readonly order: number;
  connection: Connection | undefined;
  /** `connection !== undefined`, read by the host mark. */
  readonly connected: boolean;
  /** When the current connection began, or when the seat dropped. */
  since: number;
  /** Set while the seat is held without a connection: released at `droppedAt + grace`. */
  droppedAt: number | undefined;
  /** The drop was a takeover in progress, not news: no notices when the seat comes back. */
  quietDrop: boolean;
  /** Given up mid-round: kept only for the results. */
  released: boolean;
}

interface Connection {
  readonly clientIndex: number;
  readonly clientId: bigint;
  readonly name: string;
  readonly link: GameLink;
  /** Undefined for a spectator. */
  readonly seat: Seat | undefined;
  invalid: number;
  /** The session itself is ending this connection: its disconnect is not a drop. */
  ending: 'left' | 'kicked' | 'replaced' | undefined;
}

type Phase = 'lobby' | 'starting' | 'countdown' | 'playing' | 'ending' | 'ended';

const LOBBY_BROADCAST_SECONDS = 1;
const ROUND_STATE_SECONDS = 1;
/** Time for the results (reliable) to reach everyone before the connections are closed. */
const RESULTS_LINGER_SECONDS = 1.5;
/** Copies of each last packet before the game ends (see flushLastWords). */
const LAST_WORDS_REPEATS = 3;
/**
 * How often the session needs its update while anyone is connected and no round has anything due (the lobby, the
 * wait for the start's acknowledgement, the results' linger): what they send (chat, a ready, a start) is passed on
 * and answered with the next update, so this is how long a lobby keeps them waiting at most. (Pings do not count
 * it: an ack says how long it was held. In a round the next snapshot, at most 50 ms away, carries the answers.)
 */
export const CONNECTED_UPDATE_SECONDS = 1 / 30;
/**
 * ... and while nobody is connected (a lobby before its creator arrives, or whose players all dropped and are
 * held): its clocks (idle and rejoin timeouts, host changes) count in seconds and nobody waits for an answer, so
 * it wakes 10 times a second (on this kind of machine a wake of an idle loop costs ~0.15–0.2 ms of CPU:
 * BENCHMARKS.md, "Load"). Not 10 Hz with players in the lobby: their ping would show up to 100 ms of waiting.
 */
export const IDLE_UPDATE_SECONDS = 0.1;

export class GameSession {
  private readonly lobby: Lobby;
  private readonly hostMark: HostMark;
  private readonly hostCandidates: Seat[] = [];
  /** Every seat still held, and (mid-round) released ones kept for the results. */
  private readonly seats = new Map<bigint, Seat>();
  private readonly connections = new Map<number, Connection>();
  private phaseValue: Phase = 'lobby';
  private round: Round | undefined;
  private difficulty: Difficulty = 'normal';
  private countdownEnds = 0;
  private lingerEnds = 0;
  private endReason: WorkerExitReason = 'round_over';
  private finalResults: ServerMessage | undefined;
  private lastLobbyBroadcast = -Infinity;
  private lastRoundState = -Infinity;
  private lastNow: number;
  private admissions = 0;
  /** Connections to disconnect at the end of the current event (see `deliver`). */
  private readonly kicks = new Set<number>();
  private readonly maxInvalid: number;
  private readonly countdownSeconds: number;

  constructor(
    private readonly options: SessionOptions,
    private readonly host: SessionHost,
    now: number,
  ) {
    this.lobby = new Lobby(options.maxPlayers, options.lobbyTimeoutSeconds, now);
    this.hostMark = new HostMark({
      ...(options.hostClientId !== undefined ? { creatorId: options.hostClientId } : {}),
      ...(options.creatorWaitSeconds !== undefined ? { creatorWaitSeconds: options.creatorWaitSeconds } : {}),
      ...(options.hostKeepSeconds !== undefined ? { keepSeconds: options.hostKeepSeconds } : {}),
    });
    this.lastNow = now;
    this.maxInvalid = options.maxInvalidPerPlayer ?? 20;
    this.countdownSeconds = options.countdownSeconds ?? 3;
  }

  /** The phase as the matchmaker's heartbeat names it. */
  get phase(): WorkerPhase {
    switch (this.phaseValue) {
      case 'lobby':
        return 'lobby';
      case 'starting':
      case 'countdown':
        return 'starting';
      case 'playing':
        return 'playing';
      default:
        return 'ending';
    }
  }

  /** Seats taken (connected or held). */
  get playerCount(): number {
    return this.heldSeats().length;
  }

  /** The held seats with who is connected and each round-trip time, for the matchmaker's admin view. */
  seatStates(): { name: string; connected: boolean; pingMs: number }[] {
    return this.heldSeats().map((s) => ({
      name: s.name,
      connected: s.connection !== undefined,
      // Bounded as the heartbeat's schema bounds it: a wild estimate must not read as a protocol violation.
      pingMs: Math.min(600_000, Math.round((s.connection?.link.stats.rttSeconds ?? 0) * 1000)),
    }));
  }

  /**
   * netcode's admission hook, asked on every valid token: a held seat (a rejoin, in the lobby or the round); a new
   * player while the lobby is open and has seats; a spectator while the game is not over and there is room.
   */
  admit(request: { clientId: bigint; userData: Uint8Array }): boolean {
    if (this.over) return false;
    const { kind } = decodeSeatData(request.userData);
    if (kind === 'spectator') return this.spectatorCount() < this.options.maxSpectators || this.isConnectedSpectator(request.clientId);
    const seat = this.seats.get(request.clientId);
    if (seat) return !seat.released;
    return this.phaseValue === 'lobby' && this.lobby.canSeat(this.heldSeats().length);
  }

  /**
   * netcode's takeover hook: the same seat (or spectator) completed a handshake from another address (a second
   * tab, a phone that changed networks). The old connection is told why, then netcode disconnects it.
   */
  takeover(clientIndex: number, now: number): boolean {
    this.lastNow = now;
    const connection = this.connections.get(clientIndex);
    if (!connection) return true;
    if (connection.seat?.released) return false;
    connection.ending = 'replaced';
    this.deliver(clientIndex, CHANNEL_RELIABLE, encodeMessage({ type: 'closing', code: 'seat-taken', reason: 'This seat was opened in another tab or device.' }));
    connection.link.flush(now, (packet) => this.host.sendPayload(clientIndex, packet));
    return true;
  }

  playerConnected(client: SessionClient, now: number): void {
    this.lastNow = now;
    const { name: tokenName, kind } = decodeSeatData(client.userData);
    // The door may have shut between the handshake's admission and its completion.
    if (!this.admit(client)) {
      this.host.disconnect(client.clientIndex);
      return;
    }
    if (kind === 'spectator') return this.spectatorConnected(client, tokenName || `spectator ${client.clientIndex + 1}`, now);
    const held = this.seats.get(client.clientId);
    if (held) return this.seatConnected(held, client, now);

    const index = this.freeSeatIndex();
    const seat: Seat = {
      clientId: client.clientId,
      index,
      name: tokenName || `player ${index + 1}`,
      order: this.admissions++,
      connection: undefined,
      get connected() {
        return this.connection !== undefined;
      },
      since: now,
      droppedAt: undefined,
      quietDrop: false,
      released: false,
    };
    this.seats.set(seat.clientId, seat);
    this.attach(seat, client, now);
    this.lobby.touch(now);
    this.host.log('player_joined', { seat: index, clientIndex: client.clientIndex, players: this.heldSeats().length });
    this.sendTo(client.clientIndex, this.welcome(seat, false));
    this.updateHost(now);
    this.broadcastLobby(now);
    this.playersChanged();
  }

  /** netcode dropped a connection; `replaced`: a takeover, the same seat is connecting again right now. */
  playerDisconnected(clientIndex: number, now: number, replaced = false): void {
    this.lastNow = now;
    const connection = this.connections.get(clientIndex);
    if (!connection) return;
    this.connections.delete(clientIndex);
    this.kicks.delete(clientIndex);
    const seat = connection.seat;
    if (!seat) {
      this.round?.removeViewer(clientIndex);
      this.host.log('spectator_left', { clientIndex });
      if (!this.over) this.broadcastLobby(now);
      this.playersChanged();
      return;
    }
    if (seat.connection !== connection) return;
    seat.connection = undefined;
    if (seat.released || this.over) return;
    if (connection.ending === 'kicked') return this.release(seat, 'kicked', now);
    seat.droppedAt = now;
    seat.since = now;
    seat.quietDrop = replaced || connection.ending === 'replaced';
    this.round?.disconnect(seat.index);
    if (this.options.rejoinGraceSeconds <= 0) return this.release(seat, 'expired', now);
    this.host.log('player_dropped', { seat: seat.index, clientIndex, quiet: seat.quietDrop });
    if (!seat.quietDrop) {
      this.broadcast({
        type: 'notice',
        code: 'player-dropped',
        message: `${seat.name} lost connection — their seat is kept for ${this.options.rejoinGraceSeconds} s`,
      });
    }
    this.updateHost(now);
    this.broadcastLobby(now);
  }

  payload(clientIndex: number, payload: Uint8Array, now: number): void {
    const connection = this.connections.get(clientIndex);
    if (!connection) return;
    this.lastNow = now;
    const invalidBefore = connection.link.stats.invalidPackets;
    connection.link.receivePacket(payload, now);
    if (connection.link.stats.invalidPackets > invalidBefore) this.strike(connection, 'invalid packet');
    for (const bytes of connection.link.drain(CHANNEL_RELIABLE)) {
      if (this.connections.get(clientIndex) !== connection) return;
      const message = decodeClientMessage(bytes);
      if (!message) this.strike(connection, 'invalid message');
      else this.onMessage(connection, message, now);
    }
    if (this.connections.get(clientIndex) !== connection || !this.round) return;
    for (const channel of this.round.channels()) {
      for (const bytes of connection.link.drain(channel)) {
        // Spectators send no inputs: whatever they send on a game channel is dropped unread.
        if (!connection.seat || connection.seat.released) continue;
        if (!this.round.onMessage(connection.seat.index, channel, bytes, now)) this.strike(connection, 'invalid game message');
      }
    }
  }

  /**
   * When the session next needs `update`, on its clock: when the round has something due (or its countdown ends), else
   * CONNECTED_UPDATE_SECONDS after `now` (IDLE_UPDATE_SECONDS with nobody connected). What arrives in between
   * (datagrams, the start's acknowledgement) is handled when it arrives; its answers go out with the next update.
   */
  nextDueAt(now: number): number {
    if (this.round && (this.phaseValue === 'countdown' || this.phaseValue === 'playing')) {
      // The round's own schedule (the arena's: its 20 Hz snapshots, each wake running the steps due) and the
      // countdown's end; every packet a wake sends carries the acks owed, so players wait no longer for answers.
      const due = this.round.nextDueAt();
      if (due < Infinity) return this.phaseValue === 'countdown' && this.countdownEnds > now ? Math.min(due, this.countdownEnds) : due;
    }
    return now + (this.connections.size > 0 ? CONNECTED_UPDATE_SECONDS : IDLE_UPDATE_SECONDS);
  }

  update(now: number): void {
    this.lastNow = now;
    if (this.phaseValue === 'ended') return;
    this.expireHeldSeats(now);
    if (this.isEnded()) return;
    if (this.updateHost(now)) this.broadcastLobby(now);
    switch (this.phaseValue) {
      case 'lobby':
        if (this.lobby.idleExpired(now)) {
          this.broadcast({ type: 'closing', code: 'lobby-idle', reason: 'The lobby was idle for too long.' });
          this.flushLastWords(now);
          this.end('lobby_idle');
          return;
        }
        if (now - this.lastLobbyBroadcast >= LOBBY_BROADCAST_SECONDS) this.broadcastLobby(now);
        break;
      case 'countdown':
        this.round?.update(now, (index, channel, message) => this.deliver(index, channel, message));
        if (now >= this.countdownEnds) {
          this.phaseValue = 'playing';
          this.host.log('round_started', { difficulty: this.difficulty });
          this.broadcastRoundState(now);
        }
        break;
      case 'playing':
        this.round?.update(now, (index, channel, message) => this.deliver(index, channel, message));
        if (this.round?.isOver(now)) this.finishRound(now);
        else if (now - this.lastRoundState >= ROUND_STATE_SECONDS) this.broadcastRoundState(now);
        break;
      case 'ending':
        if (this.lingerEnds > 0 && now >= this.lingerEnds) {
          for (const index of [...this.connections.keys()]) this.host.disconnect(index);
          this.end(this.endReason);
          return;
        }
        break;
      default:
        break;
    }
    this.flush(now);
  }

  /** The matchmaker asked the game to end (server shutdown): tell everyone, then end. */
  shutdown(reason: string, now: number): void {
    if (this.phaseValue === 'ended') return;
    this.phaseValue = 'ending';
    this.broadcast({ type: 'closing', code: 'shutdown', reason });
    this.flushLastWords(now);
    for (const index of [...this.connections.keys()]) this.host.disconnect(index);
    this.end('shutdown');
  }

  // ---- seats and connections -------------------------------------------------------------------------------

  private seatConnected(seat: Seat, client: SessionClient, now: number): void {
    const wasDropped = seat.droppedAt !== undefined && !seat.quietDrop;
    seat.droppedAt = undefined;
    seat.quietDrop = false;
    this.attach(seat, client, now);
    this.host.log('player_rejoined', { seat: seat.index, clientIndex: client.clientIndex });
    this.sendTo(client.clientIndex, this.welcome(seat, true));
    if (wasDropped) this.broadcast({ type: 'notice', code: 'player-back', message: `${seat.name} is back` }, client.clientIndex);
    this.lobby.touch(now);
    this.round?.connect(seat.index, client.clientIndex);
    this.updateHost(now);
    this.sendCurrentState(client.clientIndex, now);
    this.broadcastLobby(now);
  }

  private spectatorConnected(client: SessionClient, name: string, now: number): void {
    this.connections.set(client.clientIndex, {
      clientIndex: client.clientIndex,
      clientId: client.clientId,
      name,
      link: this.options.createLink(),
      seat: undefined,
      invalid: 0,
      ending: undefined,
    });
    this.host.log('spectator_joined', { clientIndex: client.clientIndex, spectators: this.spectatorCount() });
    this.sendTo(client.clientIndex, {
      type: 'welcome',
      maxPlayers: this.options.maxPlayers,
      role: 'spectator',
      rejoined: false,
      rejoinGraceSeconds: this.options.rejoinGraceSeconds,
    });
    this.round?.addViewer(client.clientIndex);
    this.sendCurrentState(client.clientIndex, now);
    this.broadcastLobby(now);
    this.playersChanged();
  }

  private attach(seat: Seat, client: SessionClient, now: number): void {
    const connection: Connection = {
      clientIndex: client.clientIndex,
      clientId: client.clientId,
      name: seat.name,
      link: this.options.createLink(),
      seat,
      invalid: 0,
      ending: undefined,
    };
    this.connections.set(client.clientIndex, connection);
    seat.connection = connection;
    seat.since = now;
  }

  /** Gives a seat up for good: in the lobby it is gone; mid-round it stays in the results, marked left. */
  private release(seat: Seat, why: 'left' | 'expired' | 'kicked', now: number): void {
    if (seat.released) return;
    const inRound = this.phaseValue === 'countdown' || this.phaseValue === 'playing' || this.phaseValue === 'ending';
    seat.released = true;
    seat.droppedAt = undefined;
    if (inRound) this.round?.removePlayer(seat.index);
    else this.seats.delete(seat.clientId);
    this.host.log('seat_released', { seat: seat.index, why });
    this.host.onSeatReleased(seat.clientId);
    this.playersChanged();
    if (this.phaseValue === 'ending' || this.phaseValue === 'ended') return;
    const leaver = seat.connection?.clientIndex;
    this.broadcast({ type: 'notice', code: 'player-left', message: `${seat.name} left the game` }, leaver);
    if (this.heldSeats().length === 0) {
      if (inRound) return this.abandonRound(now);
      this.broadcast({ type: 'closing', code: 'game-over', reason: 'Every player left the game.' });
      this.flushLastWords(now);
      return this.end('lobby_empty');
    }
    this.updateHost(now);
    this.broadcastLobby(now);
  }

  private expireHeldSeats(now: number): void {
    const expired = (seat: Seat): boolean =>
      seat.droppedAt !== undefined && !seat.released && now >= seat.droppedAt + this.options.rejoinGraceSeconds;
    // Asked at every wake: look before copying (a release changes the map).
    let any = false;
    for (const seat of this.seats.values()) any ||= expired(seat);
    if (!any) return;
    for (const seat of [...this.seats.values()]) {
      if (expired(seat)) {
        this.release(seat, 'expired', now);
        if (this.isEnded()) return;
      }
    }
  }

  /** Moves the host mark as the seats changed; says so to everyone when it moved. True if it moved. */
  private updateHost(now: number): boolean {
    const before = this.hostMark.host;
    // Every wake asks, so the held seats go in as they are, in a reused list: no copies, no sort (the mark breaks
    // ties by admission order itself).
    const candidates = this.hostCandidates;
    candidates.length = 0;
    for (const seat of this.seats.values()) if (!seat.released) candidates.push(seat);
    const announce = this.hostMark.update(now, candidates);
    const host = this.hostSeat();
    if (announce && host) {
      this.host.log('host_changed', { seat: host.index });
      this.broadcast({ type: 'notice', code: 'host-changed', message: `${host.name} is now the host` });
      // Mid-round the host mark travels in the round state: send it now, not at the next once-a-second update.
      if (this.round && this.phaseValue === 'playing') this.broadcastRoundState(now);
    }
    return this.hostMark.host !== before;
  }

  private hostSeat(): Seat | undefined {
    const id = this.hostMark.host;
    const seat = id === undefined ? undefined : this.seats.get(id);
    return seat && !seat.released ? seat : undefined;
  }

  private heldSeats(): Seat[] {
    return [...this.seats.values()].filter((s) => !s.released).sort((a, b) => a.order - b.order);
  }

  private freeSeatIndex(): number {
    const taken = new Set([...this.seats.values()].map((s) => s.index));
    let index = 0;
    while (taken.has(index)) index++;
    return index;
  }

  private spectatorCount(): number {
    let count = 0;
    for (const connection of this.connections.values()) if (!connection.seat) count++;
    return count;
  }

  private isConnectedSpectator(clientId: bigint): boolean {
    for (const connection of this.connections.values()) if (!connection.seat && connection.clientId === clientId) return true;
    return false;
  }

  /** A method, not a comparison inline: the phase changes under calls that TypeScript's narrowing cannot see. */
  private isEnded(): boolean {
    return this.phaseValue === 'ended';
  }

  private get over(): boolean {
    return this.phaseValue === 'ending' || this.phaseValue === 'ended';
  }

  // ---- messages --------------------------------------------------------------------------------------------

  private onMessage(connection: Connection, message: ClientMessage, now: number): void {
    const seat = connection.seat;
    if (message.type === 'leave') {
      connection.ending = 'left';
      if (seat) this.release(seat, 'left', now);
      this.host.disconnect(connection.clientIndex);
      return;
    }
    // A spectator watches: chat, start and difficulty are for players (a stale page may still send them).
    if (!seat || seat.released) return;
    switch (message.type) {
      case 'chat': {
        const text = sanitizeChat(message.text);
        if (!text) return;
        this.lobby.touch(now);
        this.broadcast({ type: 'chat', from: seat.index, name: seat.name, text });
        return;
      }
      case 'start':
        this.requestStart(seat, message.difficulty, now);
        return;
      case 'difficulty':
        if (this.phaseValue !== 'lobby' || seat !== this.hostSeat()) return;
        this.difficulty = message.difficulty;
        this.lobby.touch(now);
        this.broadcastLobby(now);
        return;
      default:
        if (this.phaseValue !== 'playing' || !this.round) return;
        if (!this.round.onCommand(seat.index, message, now)) this.strike(connection, 'invalid command');
        return;
    }
  }

  private requestStart(seat: Seat, difficulty: Difficulty, now: number): void {
    const refusal = this.lobby.requestStart(seat === this.hostSeat(), difficulty, now);
    if (refusal) {
      const message = refusal === 'not-host' ? 'Only the host can start the game.' : 'The game cannot be started now.';
      if (seat.connection) this.sendTo(seat.connection.clientIndex, { type: 'notice', code: `start-${refusal}`, message });
      return;
    }
    this.phaseValue = 'starting';
    this.difficulty = difficulty;
    this.host.log('start_requested', { difficulty });
    void this.host.report({ status: 'in_progress', difficulty }).then((outcome) => this.onStartAnswer(outcome, difficulty));
  }

  private onStartAnswer(outcome: ReportOutcome, difficulty: Difficulty): void {
    if (this.phaseValue !== 'starting') return;
    const now = this.lastNow;
    if (!outcome.ok) {
      this.lobby.startFailed(now);
      this.phaseValue = 'lobby';
      this.host.log('start_refused', { reason: outcome.reason });
      this.broadcast({ type: 'notice', code: 'start-refused', message: `The game could not start: ${outcome.reason}` });
      this.broadcastLobby(now);
      return;
    }
    this.lobby.begin();
    const seats = this.heldSeats();
    this.round = this.options.createRound({
      difficulty,
      roundSeconds: this.options.roundSeconds,
      countdownSeconds: this.countdownSeconds,
      players: seats.map((s) => ({ index: s.index, name: s.name })),
    });
    for (const seat of seats) if (seat.connection) this.round.connect(seat.index, seat.connection.clientIndex);
    for (const connection of this.connections.values()) if (!connection.seat) this.round.addViewer(connection.clientIndex);
    this.round.begin(now);
    this.phaseValue = 'countdown';
    this.countdownEnds = now + this.countdownSeconds;
    this.broadcast({ type: 'countdown', difficulty, seconds: this.countdownSeconds });
  }

  private finishRound(now: number): void {
    this.lastNow = now;
    if (this.over) return;
    const anyoneConnected = this.heldSeats().some((s) => s.connection);
    if (!anyoneConnected) return this.abandonRound(now);
    this.phaseValue = 'ending';
    const scores = this.round?.scores() ?? [];
    this.host.log('round_over', { players: scores.length });
    const host = this.hostSeat();
    const report: GameReport = { status: 'finished', results: reportResults(scores) };
    if (host) report.hostClientId = host.clientId.toString(10);
    void this.host.report(report).then((outcome) => this.showResults(outcome, { type: 'results', difficulty: this.difficulty, scores }));
  }

  /** Every player seat was given up mid-round, or nobody was connected when the timer ran out. */
  private abandonRound(now: number): void {
    this.lastNow = now;
    if (this.over) return;
    this.phaseValue = 'ending';
    this.endReason = 'round_abandoned';
    const scores = this.round?.scores() ?? [];
    this.host.log('round_abandoned', { players: scores.length });
    void this.host
      .report({ status: 'abandoned', results: reportResults(scores) })
      .then((outcome) => this.showResults(outcome, { type: 'results', difficulty: this.difficulty, scores, abandoned: true }));
  }

  private showResults(outcome: ReportOutcome, results: ServerMessage): void {
    if (this.phaseValue === 'ended') return;
    if (!outcome.ok) {
      this.host.log('results_not_stored', { reason: outcome.reason });
      this.broadcast({ type: 'notice', code: 'results-not-saved', message: `The results could not be saved: ${outcome.reason}` });
    }
    this.finalResults = results;
    this.broadcast(results);
    this.lingerEnds = this.lastNow + RESULTS_LINGER_SECONDS;
    if (this.connections.size === 0) this.end(this.endReason);
  }

  private welcome(seat: Seat, rejoined: boolean): ServerMessage {
    return {
      type: 'welcome',
      you: seat.index,
      maxPlayers: this.options.maxPlayers,
      role: 'player',
      rejoined,
      rejoinGraceSeconds: this.options.rejoinGraceSeconds,
    };
  }

  /** What a connection arriving mid-game needs at once to show the right screen. */
  private sendCurrentState(clientIndex: number, now: number): void {
    switch (this.phaseValue) {
      case 'lobby':
      case 'starting':
        this.sendTo(clientIndex, this.lobbyMessage(now));
        return;
      case 'countdown':
        this.sendTo(clientIndex, { type: 'countdown', difficulty: this.difficulty, seconds: Math.max(0, this.countdownEnds - now) });
        return;
      case 'playing':
        if (this.round) this.sendTo(clientIndex, this.roundMessage(now));
        return;
      default:
        if (this.finalResults) this.sendTo(clientIndex, this.finalResults);
        return;
    }
  }

  private strike(connection: Connection, why: string): void {
    connection.invalid++;
    if (connection.invalid === this.maxInvalid) {
      this.host.log('player_kicked', { clientIndex: connection.clientIndex, why });
      connection.ending = 'kicked';
      this.host.disconnect(connection.clientIndex);
    }
  }

  private lobbyMessage(now: number): ServerMessage {
    const host = this.hostSeat();
    const players = this.heldSeats().map((s) => ({
      index: s.index,
      name: s.name,
      host: s === host,
      pingMs: Math.round((s.connection?.link.stats.rttSeconds ?? 0) * 1000),
      connected: s.connection !== undefined,
    }));
    const spectators = [...this.connections.values()].filter((c) => !c.seat).map((c) => c.name);
    return {
      type: 'lobby',
      players,
      ...(host ? { hostIndex: host.index } : {}),
      secondsLeft: Math.ceil(this.lobby.secondsUntilIdleClose(now)),
      difficulty: this.difficulty,
      spectators,
    };
  }

  private broadcastLobby(now: number): void {
    if (this.phaseValue !== 'lobby' && this.phaseValue !== 'starting') return;
    this.lastLobbyBroadcast = now;
    this.broadcast(this.lobbyMessage(now));
  }

  private roundMessage(now: number): ServerMessage {
    const round = this.round as Round;
    const host = this.hostSeat();
    return { type: 'round', secondsLeft: round.secondsLeft(now), scores: round.scores(), ...(host ? { hostIndex: host.index } : {}) };
  }

  private broadcastRoundState(now: number): void {
    if (!this.round) return;
    this.lastRoundState = now;
    this.broadcast(this.roundMessage(now));
  }

  private broadcast(message: ServerMessage, except?: number): void {
    const bytes = encodeMessage(message);
    for (const index of this.connections.keys()) if (index !== except) this.deliver(index, CHANNEL_RELIABLE, bytes);
  }

  private sendTo(clientIndex: number, message: ServerMessage): void {
    this.deliver(clientIndex, CHANNEL_RELIABLE, encodeMessage(message));
  }

  /**
   * Queues a message for one connection. A connection whose link refuses it (its reliable queue is full because
   * it stopped acknowledging) is dropped once the current event is done (its seat is held, as for any drop):
   * one stuck or hostile client must never take the game down for everyone by making a send throw inside the
   * game loop.
   */
  private deliver(clientIndex: number, channel: number, message: Uint8Array): void {
    const connection = this.connections.get(clientIndex);
    if (!connection || this.kicks.has(clientIndex)) return;
    try {
      connection.link.send(channel, message);
    } catch (error) {
      this.host.log('player_kicked', { clientIndex, why: error instanceof Error ? error.message.slice(0, 120) : 'send failed' });
      this.kicks.add(clientIndex);
    }
  }

  private processKicks(): void {
    for (const index of [...this.kicks]) {
      this.kicks.delete(index);
      if (this.connections.has(index)) this.host.disconnect(index);
    }
  }

  private flush(now: number): void {
    this.processKicks();
    for (const connection of this.connections.values()) {
      connection.link.flush(now, (packet) => this.host.sendPayload(connection.clientIndex, packet));
    }
  }

  /**
   * The last packets before the game ends (a `closing` message): nothing will resend them, so each goes out
   * LAST_WORDS_REPEATS times, like netcode's repeated disconnect packets; the receiving link drops the copies.
   */
  private flushLastWords(now: number): void {
    this.processKicks();
    for (const connection of this.connections.values()) {
      connection.link.flush(now, (packet) => {
        for (let i = 0; i < LAST_WORDS_REPEATS; i++) this.host.sendPayload(connection.clientIndex, packet);
      });
    }
  }

  private playersChanged(): void {
    const seats = this.heldSeats();
    this.host.onPlayersChanged({ count: seats.length, names: seats.map((s) => s.name), spectators: this.spectatorCount() });
  }

  private end(reason: WorkerExitReason): void {
    if (this.phaseValue === 'ended') return;
    this.phaseValue = 'ended';
    this.host.log('game_ended', { reason });
    this.host.onEnd(reason);
  }
}

/** The report's results: names and scores, `left` for seats given up before the end. */
function reportResults(scores: readonly ScoreLine[]): { name: string; score: number; left?: boolean }[] {
  return scores.map(({ name, score, left }) => (left ? { name, score, left: true } : { name, score }));
}
