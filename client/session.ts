/**
 * One connection to a game, from the page's side: the WebSocket tunnel through the relay, the same GameClient the
 * native bot uses, a 30 Hz tick (netcode keep-alives, resends, and the arena's inputs), and the arena's snapshots.
 * The screens read `client.view` and `arena`; whatever ends the connection arrives once, as a `SessionEnd` whose
 * reason says whether rejoining the seat may cure it (main.ts decides).
 */
import { GameClient, type GameView } from '../src/game/game-client.ts';
import type { Difficulty } from '../src/game/lobby.ts';
import { Channel, createGameLink } from '../src/game/peer-link.ts';
import { type Controls, NO_CONTROLS } from '../src/game/sim/controls.ts';
import { HUDDLE_PROTOCOL_ID } from '../src/protocol/constants.ts';
import { openWebSocketTransport, RelayClosedError, type WebSocketTransport } from '../src/protocol/transport/websocket.ts';
import { decodeToken, parseServerAddress, relayUrlForPage, type Ticket } from './api.ts';
import { ArenaFeed } from './arena-feed.ts';
import { type EndReason, reasonFromClosingCode, reasonFromNetcode, reasonFromRelayClose } from './endings.ts';

/** How a connection ended. */
export interface SessionEnd {
  reason: EndReason;
  /** The game had welcomed us: we hold a seat (or a spectator's place) that a rejoin may take back. */
  welcomed: boolean;
  /** The phase we were in when it ended. */
  phase: GameView['phase'];
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
  private welcomed = false;
  private lastPhase: GameView['phase'] = 'connecting';

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
          if (!info.local) session?.relayClosed(info.code);
        },
      });
    } catch (error) {
      const reason = error instanceof RelayClosedError ? reasonFromRelayClose(error.info.code, false) : 'relay-unreachable';
      throw new SessionOpenError({ reason, welcomed: false, phase: 'connecting' });
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

  get isSpectator(): boolean {
    return this.view.role === 'spectator';
  }

  chat(text: string): void {
    this.client.chat(text);
  }

  start(difficulty: Difficulty): void {
    this.client.start(difficulty);
  }

  setDifficulty(difficulty: Difficulty): void {
    this.client.setDifficulty(difficulty);
  }

  setControls(controls: Controls): void {
    this.controls = controls;
  }

  /** "Leave game": gives the seat up at once (the others see "left"), then disconnects. */
  leave(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.view.phase !== 'closed' && this.view.phase !== 'results') this.client.leave(now());
    this.stop();
  }

  /** The tab is going away (reload, close): disconnect but keep the seat, so a reload can take it back. */
  drop(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.view.phase !== 'closed' && this.view.phase !== 'results') this.client.disconnect(now());
    this.stop();
  }

  private tick(): void {
    const t = now();
    // Inputs once the arena speaks, and never from a spectator (the server would count them against us).
    if (!this.isSpectator && this.arena.active && (this.view.phase === 'playing' || this.view.phase === 'countdown')) {
      this.client.sendGameMessage(Channel.Input, this.arena.input(this.controls));
    }
    this.client.update(t);
  }

  private changed(view: GameView): void {
    if (this.ended) return;
    if (view.phase !== 'connecting' && view.phase !== 'closed') this.welcomed = true;
    if (view.phase !== 'closed') this.lastPhase = view.phase;
    this.handlers.onView(view);
    if (view.phase === 'closed') {
      const reason = reasonFromClosingCode(view.closedCode) ?? reasonFromNetcode(this.client.netcodeState);
      this.finish(reason);
    } else if (view.phase === 'results') {
      // The game is over: keep ticking a moment so the results' ack reaches the server, then let go.
      this.ended = true;
      setTimeout(() => this.stop(), RESULTS_LINGER_MS);
    }
  }

  private relayClosed(code: number): void {
    if (this.ended || this.view.phase === 'results') return;
    // A closing message that arrived just before the tunnel went (shutdown, seat taken) says more than the code.
    this.finish(reasonFromClosingCode(this.view.closedCode) ?? reasonFromRelayClose(code, true));
  }

  private finish(reason: EndReason): void {
    this.ended = true;
    this.stop();
    this.handlers.onEnd({ reason, welcomed: this.welcomed, phase: this.lastPhase });
  }

  private stop(): void {
    clearInterval(this.ticker);
    this.transport.close();
  }
}

export class SessionOpenError extends Error {
  override readonly name = 'SessionOpenError';
  constructor(readonly end: SessionEnd) {
    super(end.reason);
  }
}
