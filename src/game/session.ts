/**
 * One game, server side: players come and go through netcode, talk through the reliability layer, and follow
 * the lobby → start → countdown → round → results flow. The session holds no sockets and no clock: the worker
 * feeds it events with the time, and it acts through `SessionHost`, so the whole flow is testable in memory.
 *
 * The start and the results are reported to the matchmaker by the host (HTTP with the reporting token), and
 * the session waits for that acknowledgement before play begins or results are shown: the matchmaker's record
 * is the truth, so a game the matchmaker did not accept never starts.
 */
import type { GameReport, WorkerExitReason, WorkerPhase } from '../workers/messages.ts';
import { type Difficulty, Lobby } from './lobby.ts';
import { CHANNEL_RELIABLE, type ClientMessage, decodeClientMessage, encodeMessage, sanitizeChat, sanitizeName, type ServerMessage } from './messages.ts';
import type { GameLink } from './peer-link.ts';
import type { Round, RoundFactory } from './round.ts';

export type ReportOutcome = { ok: true } | { ok: false; reason: string };

export interface SessionHost {
  sendPayload(clientIndex: number, payload: Uint8Array): void;
  /** Drops a player's connection (netcode disconnect packets). */
  disconnect(clientIndex: number): void;
  /** Reports to the matchmaker and resolves once it answered (or gave up). */
  report(report: GameReport): Promise<ReportOutcome>;
  onPlayersChanged(names: string[]): void;
  /** The game is over for good; the worker should stop. */
  onEnd(reason: WorkerExitReason): void;
  log(event: string, fields?: Record<string, string | number | boolean>): void;
}

export interface SessionOptions {
  maxPlayers: number;
  lobbyTimeoutSeconds: number;
  roundSeconds: number;
  countdownSeconds?: number;
  /** Invalid messages or packets from one player before it is disconnected. */
  maxInvalidPerPlayer?: number;
  createLink: () => GameLink;
  createRound: RoundFactory;
}

interface Player {
  readonly index: number;
  readonly name: string;
  readonly link: GameLink;
  invalid: number;
}

type Phase = 'lobby' | 'starting' | 'countdown' | 'playing' | 'ending' | 'ended';

const LOBBY_BROADCAST_SECONDS = 1;
/** Time for the results (reliable) to reach everyone before the connections are closed. */
const RESULTS_LINGER_SECONDS = 1.5;

export class GameSession {
  private readonly lobby: Lobby;
  private readonly players = new Map<number, Player>();
  private phaseValue: Phase = 'lobby';
  private round: Round | undefined;
  private difficulty: Difficulty = 'normal';
  private countdownEnds = 0;
  private lingerEnds = 0;
  private lastLobbyBroadcast = -Infinity;
  private lastNow: number;
  /** Players to disconnect at the end of the current event (see `deliver`). */
  private readonly kicks = new Set<number>();
  private readonly maxInvalid: number;
  private readonly countdownSeconds: number;

  constructor(
    private readonly options: SessionOptions,
    private readonly host: SessionHost,
    now: number,
  ) {
    this.lobby = new Lobby(options.maxPlayers, options.lobbyTimeoutSeconds, now);
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

  get playerCount(): number {
    return this.players.size;
  }

  /** netcode's admission hook: a valid token gets a slot only while the lobby is open and has room. */
  admit(): boolean {
    return this.phaseValue === 'lobby' && this.lobby.canAdmit();
  }

  playerConnected(clientIndex: number, userData: Uint8Array, now: number): void {
    const name = nameFromUserData(userData) || `player ${clientIndex + 1}`;
    if (!this.lobby.join(clientIndex, name, now)) {
      // The door shut between the handshake's admission and its completion.
      this.host.disconnect(clientIndex);
      return;
    }
    this.players.set(clientIndex, { index: clientIndex, name, link: this.options.createLink(), invalid: 0 });
    this.host.log('player_joined', { clientIndex, players: this.players.size });
    this.sendTo(clientIndex, { type: 'welcome', you: clientIndex, maxPlayers: this.options.maxPlayers });
    this.broadcastLobby(now);
    this.playersChanged();
  }

  playerDisconnected(clientIndex: number, now: number): void {
    const player = this.players.get(clientIndex);
    if (!player) return;
    this.players.delete(clientIndex);
    const { newHost } = this.lobby.leave(clientIndex, now);
    this.round?.removePlayer(clientIndex);
    this.host.log('player_left', { clientIndex, players: this.players.size });
    this.playersChanged();
    if (this.phaseValue === 'ended' || this.phaseValue === 'ending') return;
    if (this.players.size === 0) {
      if (this.phaseValue === 'playing' || this.phaseValue === 'countdown') this.finishRound(now);
      else this.end('lobby_empty');
      return;
    }
    if (newHost) this.broadcast({ type: 'notice', code: 'host-changed', message: `${newHost.name} is now the host` });
    this.broadcastLobby(now);
  }

  payload(clientIndex: number, payload: Uint8Array, now: number): void {
    const player = this.players.get(clientIndex);
    if (!player) return;
    this.lastNow = now;
    const invalidBefore = player.link.stats.invalidPackets;
    player.link.receivePacket(payload, now);
    if (player.link.stats.invalidPackets > invalidBefore) this.strike(player, 'invalid packet');
    for (const bytes of player.link.drain(CHANNEL_RELIABLE)) {
      const message = decodeClientMessage(bytes);
      if (!message) this.strike(player, 'invalid message');
      else this.onMessage(player, message, now);
      if (!this.players.has(clientIndex)) return;
    }
    if (this.round) {
      for (const [channel, messages] of this.round.channels().map((c) => [c, player.link.drain(c)] as const)) {
        for (const bytes of messages) if (!this.round.onMessage(clientIndex, channel, bytes, now)) this.strike(player, 'invalid game message');
      }
    }
  }

  update(now: number): void {
    this.lastNow = now;
    switch (this.phaseValue) {
      case 'lobby':
        if (this.lobby.idleExpired(now)) {
          this.broadcast({ type: 'closing', reason: 'The lobby was idle for too long.' });
          this.flush(now);
          this.end('lobby_idle');
          return;
        }
        if (now - this.lastLobbyBroadcast >= LOBBY_BROADCAST_SECONDS) this.broadcastLobby(now);
        break;
      case 'countdown':
        if (now >= this.countdownEnds) {
          this.phaseValue = 'playing';
          this.round?.begin(now);
          this.host.log('round_started', { difficulty: this.difficulty });
        }
        break;
      case 'playing':
        this.round?.update(now, (index, channel, message) => this.deliver(index, channel, message));
        if (this.round?.isOver(now)) this.finishRound(now);
        break;
      case 'ending':
        if (this.lingerEnds > 0 && now >= this.lingerEnds) {
          for (const index of [...this.players.keys()]) this.host.disconnect(index);
          this.end('round_over');
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
    this.broadcast({ type: 'closing', reason });
    this.flush(now);
    for (const index of [...this.players.keys()]) this.host.disconnect(index);
    this.end('shutdown');
  }

  private onMessage(player: Player, message: ClientMessage, now: number): void {
    switch (message.type) {
      case 'chat': {
        const text = sanitizeChat(message.text);
        if (!text) return;
        this.lobby.touch(now);
        this.broadcast({ type: 'chat', from: player.index, name: player.name, text });
        return;
      }
      case 'start':
        this.requestStart(player, message.difficulty, now);
        return;
      default:
        if (this.phaseValue !== 'playing' || !this.round) return;
        if (!this.round.onCommand(player.index, message, now)) this.strike(player, 'invalid command');
        return;
    }
  }

  private requestStart(player: Player, difficulty: Difficulty, now: number): void {
    const refusal = this.lobby.requestStart(player.index, difficulty, now);
    if (refusal) {
      const message = refusal === 'not-host' ? 'Only the host can start the game.' : 'The game cannot be started now.';
      this.sendTo(player.index, { type: 'notice', code: `start-${refusal}`, message });
      return;
    }
    this.phaseValue = 'starting';
    this.difficulty = difficulty;
    this.host.log('start_requested', { difficulty });
    void this.host.report({ status: 'in_progress', difficulty }).then((outcome) => this.onStartAnswer(outcome, difficulty));
  }

  private onStartAnswer(outcome: ReportOutcome, difficulty: Difficulty): void {
    if (this.phaseValue !== 'starting') return;
    const now = this.clockOfLastUpdate();
    if (!outcome.ok) {
      this.lobby.startFailed(now);
      this.phaseValue = 'lobby';
      this.host.log('start_refused', { reason: outcome.reason });
      this.broadcast({ type: 'notice', code: 'start-refused', message: `The game could not start: ${outcome.reason}` });
      this.broadcastLobby(now);
      return;
    }
    this.lobby.begin();
    this.round = this.options.createRound({ difficulty, roundSeconds: this.options.roundSeconds, players: [...this.players.values()].map((p) => ({ index: p.index, name: p.name })) });
    this.phaseValue = 'countdown';
    this.countdownEnds = now + this.countdownSeconds;
    this.broadcast({ type: 'countdown', difficulty, seconds: this.countdownSeconds });
  }

  private finishRound(now: number): void {
    this.lastNow = now;
    if (this.phaseValue === 'ending' || this.phaseValue === 'ended') return;
    this.phaseValue = 'ending';
    const scores = this.round?.scores() ?? [];
    this.host.log('round_over', { players: scores.length });
    const results = scores.map(({ name, score }) => ({ name, score }));
    void this.host.report({ status: 'finished', results }).then((outcome) => {
      if (!outcome.ok) {
        this.host.log('results_not_stored', { reason: outcome.reason });
        this.broadcast({ type: 'notice', code: 'results-not-saved', message: `The results could not be saved: ${outcome.reason}` });
      }
      this.broadcast({ type: 'results', difficulty: this.difficulty, scores });
      this.lingerEnds = this.clockOfLastUpdate() + RESULTS_LINGER_SECONDS;
      if (this.players.size === 0) this.end('round_over');
    });
  }

  private strike(player: Player, why: string): void {
    player.invalid++;
    if (player.invalid === this.maxInvalid) {
      this.host.log('player_kicked', { clientIndex: player.index, why });
      this.host.disconnect(player.index);
    }
  }

  private broadcastLobby(now: number): void {
    this.lastLobbyBroadcast = now;
    const hostIndex = this.lobby.host?.clientIndex;
    const players = this.lobby.list().map((p) => ({
      index: p.clientIndex,
      name: p.name,
      host: p.clientIndex === hostIndex,
      pingMs: Math.round((this.players.get(p.clientIndex)?.link.stats.rttSeconds ?? 0) * 1000),
    }));
    const message: ServerMessage = { type: 'lobby', players, secondsLeft: Math.ceil(this.lobby.secondsUntilIdleClose(now)) };
    if (hostIndex !== undefined) message.hostIndex = hostIndex;
    this.broadcast(message);
  }

  private broadcast(message: ServerMessage): void {
    const bytes = encodeMessage(message);
    for (const player of this.players.values()) this.deliver(player.index, CHANNEL_RELIABLE, bytes);
  }

  private sendTo(clientIndex: number, message: ServerMessage): void {
    this.deliver(clientIndex, CHANNEL_RELIABLE, encodeMessage(message));
  }

  /**
   * Queues a message for one player. A player whose link refuses it (its reliable queue is full because it stopped
   * acknowledging) is dropped once the current event is done: one stuck or hostile client must never take the
   * game down for everyone by making a send throw inside the game loop.
   */
  private deliver(clientIndex: number, channel: number, message: Uint8Array): void {
    const player = this.players.get(clientIndex);
    if (!player || this.kicks.has(clientIndex)) return;
    try {
      player.link.send(channel, message);
    } catch (error) {
      this.host.log('player_kicked', { clientIndex, why: error instanceof Error ? error.message.slice(0, 120) : 'send failed' });
      this.kicks.add(clientIndex);
    }
  }

  private processKicks(): void {
    for (const index of [...this.kicks]) {
      this.kicks.delete(index);
      if (this.players.has(index)) this.host.disconnect(index);
    }
  }

  /** Report answers arrive between updates; they act at the time of the latest event. */
  private clockOfLastUpdate(): number {
    return this.lastNow;
  }

  private flush(now: number): void {
    this.processKicks();
    for (const player of this.players.values()) {
      player.link.flush(now, (packet) => this.host.sendPayload(player.index, packet));
    }
  }

  private playersChanged(): void {
    this.host.onPlayersChanged([...this.players.values()].map((p) => p.name));
  }

  private end(reason: WorkerExitReason): void {
    if (this.phaseValue === 'ended') return;
    this.phaseValue = 'ended';
    this.host.log('game_ended', { reason });
    this.host.onEnd(reason);
  }
}

/** The display name the matchmaker put in the token's user data: UTF-8, zero padded. */
export function nameFromUserData(userData: Uint8Array): string {
  let end = userData.indexOf(0);
  if (end < 0) end = userData.length;
  try {
    return sanitizeName(new TextDecoder('utf-8', { fatal: true }).decode(userData.subarray(0, end)));
  } catch {
    return '';
  }
}
