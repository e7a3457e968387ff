/**
 * A player's side of a game: the netcode client, the reliability link and the lobby/round messages, behind
 * one object with a readable state. Pure like the protocol (datagrams and time in, datagrams out), so the bot
 * drives it over a UDP socket and the browser over the WebSocket relay.
 */
import { ClientState, clientStateName, NetcodeClient } from '../protocol/netcode/client.ts';
import type { Difficulty } from './lobby.ts';
import { CHANNEL_RELIABLE, type ClientMessage, decodeServerMessage, encodeMessage, type ServerMessage } from './messages.ts';
import type { GameLink } from './peer-link.ts';
import type { ScoreLine } from './round.ts';

export type GamePhase = 'connecting' | 'lobby' | 'countdown' | 'playing' | 'results' | 'closed';

export interface LobbyEntry {
  index: number;
  name: string;
  host: boolean;
  pingMs: number;
}

export interface GameView {
  phase: GamePhase;
  /** Our slot, once welcomed. */
  you: number | undefined;
  maxPlayers: number;
  players: LobbyEntry[];
  hostIndex: number | undefined;
  lobbySecondsLeft: number;
  difficulty: Difficulty | undefined;
  /** Countdown or round seconds left, as last told by the server. */
  secondsLeft: number;
  scores: ScoreLine[];
  results: ScoreLine[] | undefined;
  chat: { from: number; name: string; text: string }[];
  /** Last notice from the server (start refused, host changed, ...). */
  notice: { code: string; message: string } | undefined;
  /** Why the game is over for us, when phase is 'closed'. */
  closedReason: string | undefined;
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

export class GameClient {
  readonly view: GameView = {
    phase: 'connecting',
    you: undefined,
    maxPlayers: 0,
    players: [],
    hostIndex: undefined,
    lobbySecondsLeft: 0,
    difficulty: undefined,
    secondsLeft: 0,
    scores: [],
    results: undefined,
    chat: [],
    notice: undefined,
    closedReason: undefined,
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

  connect(connectToken: Uint8Array, now: number): void {
    this.link = this.options.createLink();
    this.finished = false;
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

  tap(): void {
    this.sendCommand({ type: 'tap' });
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

  disconnect(now: number): void {
    this.finished = true;
    this.flush(now);
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
        view.maxPlayers = message.maxPlayers;
        if (view.phase === 'connecting') view.phase = 'lobby';
        break;
      case 'lobby':
        view.players = message.players;
        view.hostIndex = message.hostIndex;
        view.lobbySecondsLeft = message.secondsLeft;
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
        break;
      case 'results':
        view.phase = 'results';
        view.difficulty = message.difficulty;
        view.results = message.scores;
        view.scores = message.scores;
        this.finished = true;
        break;
      case 'closing':
        this.finished = true;
        view.closedReason = message.reason;
        break;
    }
  }

  private onNetcodeState(state: ClientState): void {
    if (state === ClientState.Connected || state > ClientState.Disconnected) return;
    if (this.view.phase === 'results') return this.changed();
    if (state === ClientState.Disconnected && this.finished) return this.close(this.view.closedReason ?? 'The game is over.');
    this.close(describeFailure(state));
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

/** What to tell a player for each way a connection can fail. */
export function describeFailure(state: ClientState): string {
  switch (state) {
    case ClientState.ConnectTokenExpired:
      return 'Your invitation expired before the game answered. Join again with the passcode.';
    case ClientState.InvalidConnectToken:
      return 'The invitation is not valid for this game.';
    case ClientState.ConnectionTimedOut:
      return 'Connection lost: the game stopped answering.';
    case ClientState.ConnectionResponseTimedOut:
    case ClientState.ConnectionRequestTimedOut:
      return 'Connection timed out: the game did not answer.';
    case ClientState.ConnectionDenied:
      return 'The game refused the connection: it is full or has already started.';
    case ClientState.Disconnected:
      return 'The game closed the connection.';
    default:
      return `Connection ended (${clientStateName(state)}).`;
  }
}
