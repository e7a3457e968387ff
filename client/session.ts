/**
 * One game, from the page's side: the WebSocket tunnel through the relay, the same GameClient the native bot uses,
 * a 30 Hz tick (netcode keep-alives, resends, and the arena's inputs), and the arena's snapshots. The screens read
 * `client.view` and `arena`; everything that ends the game arrives once, as a `SessionEnd`.
 */
import { GameClient, type GameView } from '../src/game/game-client.ts';
import type { Difficulty } from '../src/game/lobby.ts';
import { Channel, createGameLink } from '../src/game/peer-link.ts';
import { type Controls, NO_CONTROLS } from '../src/game/sim/controls.ts';
import { HUDDLE_PROTOCOL_ID } from '../src/protocol/constants.ts';
import { ClientState } from '../src/protocol/netcode/client.ts';
import { openWebSocketTransport, RelayClosedError, type WebSocketTransport } from '../src/protocol/transport/websocket.ts';
import { decodeToken, parseServerAddress, relayUrlForPage, type Ticket } from './api.ts';
import { ArenaFeed } from './arena-feed.ts';

/** Why a session ended, for the home screen's message. */
export interface SessionEnd {
  message: string;
  /** True when asking again with the passcode may work (expired token, lost tunnel before play). */
  canRejoin: boolean;
}

export interface SessionHandlers {
  onView(view: GameView): void;
  onEnd(end: SessionEnd): void;
}

const TICK_MS = 1000 / 30;
const RESULTS_LINGER_MS = 2000;
const now = (): number => performance.now() / 1000;

export class GameSession {
  private controls: Controls = NO_CONTROLS;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private ended = false;

  private constructor(
    readonly client: GameClient,
    readonly arena: ArenaFeed,
    private readonly transport: WebSocketTransport,
    private readonly handlers: SessionHandlers,
  ) {}

  /** Opens the tunnel and starts the handshake; rejects with a SessionOpenError if the relay cannot be reached. */
  static async open(ticket: Ticket, handlers: SessionHandlers): Promise<GameSession> {
    const server = parseServerAddress(ticket.serverAddress);
    // The client and the feed exist before the tunnel, so that no datagram can arrive to nobody; the session
    // (and with it the transport) exists once the tunnel is open, before the handshake sends anything.
    let session: GameSession | undefined;
    const arena = new ArenaFeed();
    const client = new GameClient({
      protocolId: HUDDLE_PROTOCOL_ID,
      createLink: createGameLink,
      send: (data, host, port) => session?.transport.send(data, host, port),
      onChange: (view) => session?.changed(view),
      onGameMessage: (channel, bytes) => {
        if (channel === Channel.Snapshot) arena.receive(bytes, now());
      },
      gameChannels: [Channel.Snapshot],
    });
    let transport: WebSocketTransport;
    try {
      transport = await openWebSocketTransport({
        url: relayUrlForPage(ticket.relayUrl, location.protocol),
        serverHost: server.host,
        serverPort: server.port,
        onDatagram: (data, host, port) => client.receive(data, host, port, now()),
        onClose: (info) => {
          if (!info.local) session?.relayClosed(info.message);
        },
      });
    } catch (error) {
      const detail = error instanceof RelayClosedError ? error.info.message : String(error);
      throw new SessionOpenError({ message: `The game server is unreachable (${detail}). Try joining again.`, canRejoin: true });
    }
    const opened = new GameSession(client, arena, transport, handlers);
    session = opened;
    client.connect(decodeToken(ticket.connectToken), now());
    opened.ticker = setInterval(() => opened.tick(), TICK_MS);
    return opened;
  }

  get view(): GameView {
    return this.client.view;
  }

  get isHost(): boolean {
    return this.client.isHost;
  }

  chat(text: string): void {
    this.client.chat(text);
  }

  start(difficulty: Difficulty): void {
    this.client.start(difficulty);
  }

  tap(): void {
    // The arena refuses the tap round's command (and counts it against the sender): tap only in a tap round.
    if (!this.arena.active) this.client.tap();
  }

  setControls(controls: Controls): void {
    this.controls = controls;
  }

  leave(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.view.phase !== 'closed' && this.view.phase !== 'results') this.client.disconnect(now());
    this.stop();
  }

  private tick(): void {
    const t = now();
    // Inputs only once the arena speaks: a tap round has no input channel reader, and queued inputs would pile up.
    if (this.arena.active && (this.view.phase === 'playing' || this.view.phase === 'countdown')) {
      this.client.sendGameMessage(Channel.Input, this.arena.input(this.controls));
    }
    this.client.update(t);
  }

  private changed(view: GameView): void {
    if (this.ended) return;
    this.handlers.onView(view);
    if (view.phase === 'closed') {
      const state = this.client.netcodeState;
      this.finish({
        message: view.closedReason ?? 'The game closed the connection.',
        // Before play, a slow or lost handshake is cured by a fresh token; a refused one (full, started) is not.
        canRejoin:
          state === ClientState.ConnectTokenExpired ||
          state === ClientState.ConnectionRequestTimedOut ||
          state === ClientState.ConnectionResponseTimedOut,
      });
    } else if (view.phase === 'results') {
      // The game is over: keep ticking a moment so the results' ack reaches the server, then let go.
      this.ended = true;
      setTimeout(() => this.stop(), RESULTS_LINGER_MS);
    }
  }

  private relayClosed(message: string): void {
    if (this.ended || this.view.phase === 'results') return;
    this.finish({ message: `Relay closed: ${message}.`, canRejoin: this.view.phase === 'connecting' });
  }

  private finish(end: SessionEnd): void {
    this.ended = true;
    this.stop();
    this.handlers.onEnd(end);
  }

  private stop(): void {
    clearInterval(this.ticker);
    this.transport.close();
  }
}

export class SessionOpenError extends Error {
  override readonly name = 'SessionOpenError';
  constructor(readonly end: SessionEnd) {
    super(end.message);
  }
}
