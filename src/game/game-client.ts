/**
 * A player's (or spectator's) side of a game: the netcode client, the reliability link and the lobby/round
 * messages, behind one object with a readable state. Pure like the protocol (datagrams and time in, datagrams
 * out), so the bot drives it over a UDP socket and the browser over the WebSocket relay. One client may
 * `connect` again with a fresh ticket after a lost connection (a rejoin: docs/SEATS.md); the view carries on.
 */
import { ClientState, clientStateName, NetcodeClient } from '../protocol/netcode/client.ts';
import type { Difficulty } from './lobby.ts';
import { CHANNEL_RELIABLE, type ClientMessage, decodeServerMessage, encodeMessage, type ServerMessage } from './messages.ts';
import type { GameLink } from './peer-link.ts';
import type { ScoreLine } from './round.ts';

export type GamePhase = 'connecting' | 'lobby' | 'countdown' | 'playing' | 'results' | 'closed';

export interface LobbyEntry {
  /** The seat index (ship slot): the same across the player's reconnections. */
  index: number;
  name: string;
  host: boolean;
  pingMs: number;
  /** False while the player is dropped and their seat is held. */
  connected: boolean;
}

/**
 * Why the game ended for us: the server's `closing` code (`seat-taken`, `lobby-idle`, `shutdown`, `game-over`;
 * `closed` when it gave none), or the connection's fate: `timed-out` (the game stopped answering: a lost
 * connection, worth a rejoin), `request-timed-out` (the game never answered the handshake), `denied` (refused:
 * full, started or the seat is gone), `token-expired`, `invalid-token`, `disconnected` (the server closed the
 * connection without saying why), `left` (we left).
 */
export type ClosedCode = string;

export interface GameView {
  phase: GamePhase;
  /** Our seat index, once welcomed as a player (a spectator has none). */
  you: number | undefined;
  /** Once welcomed. */
  role: 'player' | 'spectator' | undefined;
  /** The last welcome took back a seat that was already ours (after a drop, a reload, or from another tab). */
  rejoined: boolean;
  /** Seconds the server holds a dropped seat. */
  rejoinGraceSeconds: number;
  maxPlayers: number;
  players: LobbyEntry[];
  /** Who watches, by name. */
  spectators: string[];
  hostIndex: number | undefined;
  lobbySecondsLeft: number;
  /** The host's pick in the lobby, then the round's. */
  difficulty: Difficulty | undefined;
  /** Countdown or round seconds left, as last told by the server. */
  secondsLeft: number;
  scores: ScoreLine[];
  results: ScoreLine[] | undefined;
  /** The results are of an abandoned round (every player left): recorded, not ranked. */
  abandoned: boolean;
  chat: { from: number; name: string; text: string }[];
  /** Last notice from the server (start refused, host changed, ...). */
  notice: { code: string; message: string } | undefined;
  /** Why the game is over for us, when phase is 'closed'. */
  closedReason: string | undefined;
  /** A short code for the same, for code that acts on it (see `ClosedCode`). */
  closedCode: ClosedCode | undefined;
  pingMs: number;
}

export interface GameClientOptions {
  protocolId: bigint;
  createLink: () => GameLink;
  send(data: Uint8Array, host: string, port: number): void;
  onChange?(view: GameView): void;
  /** Channel messages other than the reliable lobby channel (the arena's snapshots). */
  onGameMessage?(channel: number, bytes: Uint8Array): void;
  gameChannels?: readonly number[];
}

const MAX_CHAT_LINES = 100;
/** Copies of the leave message's packet: duplicates are dropped by the link, a loss would hold the seat. */
const LEAVE_REPEATS = 3;

export class GameClient {
  readonly view: GameView = {
    phase: 'connecting',
    you: undefined,
    role: undefined,
    rejoined: false,
    rejoinGraceSeconds: 0,
    maxPlayers: 0,
    players: [],
    spectators: [],
    hostIndex: undefined,
    lobbySecondsLeft: 0,
    difficulty: undefined,
    secondsLeft: 0,
    scores: [],
    results: undefined,
    abandoned: false,
    chat: [],
    notice: undefined,
    closedReason: undefined,
    closedCode: undefined,
    pingMs: 0,
  };
  private readonly netcode: NetcodeClient;
  private link: GameLink;
  private countdownEndsAt = 0;
  /** Set once the game ended on purpose, so the disconnect that follows is not reported as a failure. */
  private finished = false;

  constructor(private readonly options: GameClientOptions) {
    this.link = options.createLink();
    this.netcode = new NetcodeClient(
      { protocolId: options.protocolId },
      {
        send: options.send,
        onStateChange: (state) => this.onNetcodeState(state),
        onPayload: (payload) => this.onPayload(payload),
      },
    );
  }

  get netcodeState(): ClientState {
    return this.netcode.state;
  }

  get isHost(): boolean {
    return this.view.you !== undefined && this.view.you === this.view.hostIndex;
  }

  /** Connects with a ticket's token; again after a lost connection, with a fresh ticket for the same seat. */
  connect(connectToken: Uint8Array, now: number): void {
    this.now = now;
    this.link = this.options.createLink();
    this.finished = false;
    const view = this.view;
    if (view.phase === 'closed') view.phase = 'connecting';
    view.closedReason = undefined;
    view.closedCode = undefined;
    this.netcode.connect(connectToken, now);
  }

  receive(data: Uint8Array, host: string, port: number, now: number): void {
    this.now = now;
    this.netcode.receive(data, host, port, now);
    this.flush(now);
  }

  update(now: number): void {
    this.now = now;
    this.netcode.update(now);
    if (this.view.phase === 'countdown') this.view.secondsLeft = Math.max(0, this.countdownEndsAt - now);
    this.flush(now);
  }

  chat(text: string): void {
    this.sendCommand({ type: 'chat', text });
  }

  start(difficulty: Difficulty): void {
    this.sendCommand({ type: 'start', difficulty });
  }

  /** The host's pick, shown to everyone in the lobby (the server ignores it from anyone else). */
  setDifficulty(difficulty: Difficulty): void {
    this.sendCommand({ type: 'difficulty', difficulty });
  }

  /**
   * Gives the seat up on purpose ("Leave game"): the server releases it at once instead of holding it for a
   * rejoin. The message goes out now, its packet repeated so one loss does not turn a leave into a drop, then
   * the connection is closed.
   */
  leave(now: number = this.now): void {
    if (this.netcode.connected) {
      try {
        this.link.send(CHANNEL_RELIABLE, encodeMessage({ type: 'leave' }));
      } catch {
        // A stuck link: the disconnect below still ends the connection; the seat then waits out the grace.
      }
      this.link.flush(now, (packet) => {
        for (let i = 0; i < LEAVE_REPEATS; i++) this.netcode.sendPayload(packet, now);
      });
    }
    this.finished = true;
    this.view.closedCode ??= 'left';
    this.netcode.disconnect(now);
    this.close('You left the game.');
  }

  /** A binary game message (inputs) on one of the game channels. */
  sendGameMessage(channel: number, bytes: Uint8Array): void {
    if (!this.netcode.connected) return;
    try {
      this.link.send(channel, bytes);
    } catch {
      // Inputs are unreliable and repeated in the next packet: one that cannot be queued is simply lost.
    }
  }

  /** Closes the connection without giving the seat up (the server holds it for the grace, as for a drop). */
  disconnect(now: number): void {
    this.finished = true;
    this.flush(now);
    this.view.closedCode ??= 'left';
    this.netcode.disconnect(now);
    this.close('You left the game.');
  }

  private now = 0;

  private sendCommand(message: ClientMessage): void {
    if (!this.netcode.connected) return;
    try {
      this.link.send(CHANNEL_RELIABLE, encodeMessage(message));
    } catch (error) {
      // The link refuses when the server has stopped acknowledging: say so rather than throw into the UI.
      this.view.notice = { code: 'send-failed', message: `Not sent: ${error instanceof Error ? error.message : 'the connection is stuck'}` };
      this.changed();
      return;
    }
    this.flush(this.now);
  }

  private flush(now: number): void {
    if (!this.netcode.connected) return;
    this.link.flush(now, (packet) => this.netcode.sendPayload(packet, now));
  }

  private onPayload(payload: Uint8Array): void {
    this.link.receivePacket(payload, this.now);
    for (const bytes of this.link.drain(CHANNEL_RELIABLE)) {
      const message = decodeServerMessage(bytes);
      if (message) this.onMessage(message);
    }
    for (const channel of this.options.gameChannels ?? []) {
      for (const bytes of this.link.drain(channel)) this.options.onGameMessage?.(channel, bytes);
    }
    this.view.pingMs = Math.round(this.link.stats.rttSeconds * 1000);
    this.changed();
  }

  private onMessage(message: ServerMessage): void {
    const view = this.view;
    switch (message.type) {
      case 'welcome':
        view.you = message.you;
        view.role = message.role;
        view.rejoined = message.rejoined;
        view.rejoinGraceSeconds = message.rejoinGraceSeconds;
        view.maxPlayers = message.maxPlayers;
        // The server follows a welcome with the current state (lobby, countdown, round or results).
        if (view.phase === 'connecting') view.phase = 'lobby';
        break;
      case 'lobby':
        view.phase = 'lobby';
        view.players = message.players;
        view.spectators = message.spectators;
        view.hostIndex = message.hostIndex;
        view.lobbySecondsLeft = message.secondsLeft;
        view.difficulty = message.difficulty;
        break;
      case 'chat':
        view.chat.push({ from: message.from, name: message.name, text: message.text });
        if (view.chat.length > MAX_CHAT_LINES) view.chat.splice(0, view.chat.length - MAX_CHAT_LINES);
        break;
      case 'notice':
        view.notice = { code: message.code, message: message.message };
        break;
      case 'countdown':
        view.phase = 'countdown';
        view.difficulty = message.difficulty;
        view.secondsLeft = message.seconds;
        this.countdownEndsAt = this.now + message.seconds;
        break;
      case 'round':
        view.phase = 'playing';
        view.secondsLeft = message.secondsLeft;
        view.scores = message.scores;
        if (message.hostIndex !== undefined) view.hostIndex = message.hostIndex;
        break;
      case 'results':
        view.phase = 'results';
        view.difficulty = message.difficulty;
        view.results = message.scores;
        view.scores = message.scores;
        view.abandoned = message.abandoned === true;
        this.finished = true;
        break;
      case 'closing':
        this.finished = true;
        view.closedReason = message.reason;
        view.closedCode = message.code ?? 'closed';
        break;
    }
  }

  private onNetcodeState(state: ClientState): void {
    if (state === ClientState.Connected || state > ClientState.Disconnected) return;
    if (this.view.phase === 'results') return this.changed();
    if (state === ClientState.Disconnected && this.finished) return this.close(this.view.closedReason ?? 'The game is over.');
    const failure = describeFailure(state);
    this.view.closedCode ??= failure.code;
    this.close(failure.reason);
  }

  private close(reason: string): void {
    if (this.view.phase !== 'results') this.view.phase = 'closed';
    this.view.closedReason ??= reason;
    this.changed();
  }

  private changed(): void {
    this.options.onChange?.(this.view);
  }
}

/** The `closedCode` of each way a connection can fail, and what to tell the player. */
export function describeFailure(state: ClientState): { code: ClosedCode; reason: string } {
  switch (state) {
    case ClientState.ConnectTokenExpired:
      return { code: 'token-expired', reason: 'Your invitation expired before the game answered. Join again with the passcode.' };
    case ClientState.InvalidConnectToken:
      return { code: 'invalid-token', reason: 'The invitation is not valid for this game.' };
    case ClientState.ConnectionTimedOut:
      return { code: 'timed-out', reason: 'Connection lost: the game stopped answering.' };
    case ClientState.ConnectionResponseTimedOut:
    case ClientState.ConnectionRequestTimedOut:
      return { code: 'request-timed-out', reason: 'Connection timed out: the game did not answer.' };
    case ClientState.ConnectionDenied:
      return { code: 'denied', reason: 'The game refused the connection: it is full or has already started.' };
    case ClientState.Disconnected:
      return { code: 'disconnected', reason: 'The game closed the connection.' };
    default:
      return { code: 'disconnected', reason: `Connection ended (${clientStateName(state)}).` };
  }
}
