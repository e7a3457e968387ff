import type { udp } from 'bun';
import { RelayCloseCode } from '../../protocol/transport/websocket.ts';
import { type CloseReason, MAX_RELAY_FRAME_BYTES, type RelayCounters, type RelayLimits, type RelayPeer } from './relay-model.ts';

type GameSocket = udp.ConnectedSocket<'uint8array'>;

const CLOSE_FRAMES: Readonly<Record<CloseReason, { code: number; reason: string } | undefined>> = {
  client_closed: undefined,
  game_ended: { code: RelayCloseCode.GameEnded, reason: 'game ended' },
  idle: { code: RelayCloseCode.Idle, reason: 'idle timeout' },
  rate_limited: { code: RelayCloseCode.RateLimited, reason: 'frame rate limit exceeded' },
  text_frame: { code: RelayCloseCode.TextFrame, reason: 'binary frames only' },
  udp_error: { code: RelayCloseCode.GameUnreachable, reason: 'game unreachable' },
  shutdown: { code: RelayCloseCode.GoingAway, reason: 'server shutting down' },
};

export interface TunnelSettings {
  readonly gameId: string;
  readonly gameHost: string;
  readonly gamePort: number;
  readonly limits: Readonly<RelayLimits>;
  readonly counters: RelayCounters;
  readonly now: () => number;
  /** Told exactly once, when the tunnel has closed, so the relay can forget it. */
  readonly onClosed: (tunnel: RelayTunnel) => void;
}

/**
 * One WebSocket's tunnel: a UDP socket on loopback connected to one game's port, so the kernel itself drops
 * datagrams from anywhere else and nothing a client sends can choose another destination.
 */
export class RelayTunnel {
  private socket: GameSocket | undefined;
  /** Frames that arrived while the socket was binding (Bun.udpSocket is async). */
  private pending: Uint8Array[] | undefined = [];
  private closed = false;
  private tokens: number;
  private lastRefill: number;
  private floodDrops = 0;
  private lastActivity: number;

  constructor(
    private readonly peer: RelayPeer,
    private readonly settings: TunnelSettings,
  ) {
    this.tokens = settings.limits.burstFrames;
    this.lastRefill = this.lastActivity = settings.now();
    settings.counters.openSockets++;
    settings.counters.opened++;
    this.bind();
  }

  get gameId(): string {
    return this.settings.gameId;
  }

  get gamePort(): number {
    return this.settings.gamePort;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The relay's UDP port for this tunnel, once bound (tests aim foreign datagrams at it). */
  get localPort(): number | undefined {
    return this.socket?.port;
  }

  /** A binary frame from the client: one datagram for the game. */
  fromClient(frame: Uint8Array): void {
    if (this.closed) return;
    const { counters, limits } = this.settings;
    const now = this.settings.now();
    if (!this.takeToken(now)) {
      counters.drops.rate_limited++;
      if (++this.floodDrops >= limits.floodCloseAfterDrops) this.close('rate_limited');
      return;
    }
    if (frame.length > MAX_RELAY_FRAME_BYTES) {
      counters.drops.oversize++;
      return;
    }
    if (frame.length === 0) {
      counters.drops.empty++;
      return;
    }
    // A client's frames never count as activity: only what the game answers does (fromGame), so junk sent every few
    // seconds to a game that ignores it cannot keep a tunnel (its UDP socket and fd) alive past the idle limit.
    const socket = this.socket;
    if (socket === undefined) {
      this.queue(frame);
      return;
    }
    this.sendToGame(socket, frame);
  }

  /** A text frame: not part of the tunnel's contract (and Elysia would have JSON-parsed it anyway). */
  textFrame(): void {
    this.close('text_frame');
  }

  /** Called by the relay's sweep: closes the tunnel if its game has not sent anything for the idle time. */
  sweep(now: number): void {
    if (!this.closed && now - this.lastActivity >= this.settings.limits.idleTimeoutMs) this.close('idle');
  }

  /**
   * Ends the tunnel: frees the UDP socket and, unless the client already left, closes the WebSocket with the
   * reason's code. Idempotent, so every path (client close, game end, idle, flood, UDP error) may call it.
   */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    const { counters } = this.settings;
    this.pending = undefined;
    if (this.socket !== undefined) {
      this.socket.close();
      this.socket = undefined;
      counters.boundUdpSockets--;
    }
    counters.openSockets--;
    counters.closes[reason]++;
    const frame = CLOSE_FRAMES[reason];
    if (frame !== undefined) this.peer.close(frame.code, frame.reason);
    this.settings.onClosed(this);
  }

  private bind(): void {
    const { gameHost, gamePort } = this.settings;
    Bun.udpSocket({
      hostname: gameHost,
      port: 0,
      binaryType: 'uint8array',
      connect: { hostname: gameHost, port: gamePort },
      socket: {
        data: (_socket, data, port, address) => this.fromGame(data, port, address),
        error: () => this.close('udp_error'),
      },
    }).then(
      (socket) => this.bound(socket),
      () => this.close('udp_error'),
    );
  }

  private bound(socket: GameSocket): void {
    if (this.closed) {
      socket.close();
      return;
    }
    this.socket = socket;
    this.settings.counters.boundUdpSockets++;
    const queued = this.pending ?? [];
    this.pending = undefined;
    for (const frame of queued) {
      if (this.closed) return;
      this.sendToGame(socket, frame);
    }
  }

  private fromGame(data: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    const { counters, gameHost, gamePort } = this.settings;
    // The socket is connected, so the kernel already filters; this guards a platform that would not.
    if (port !== gamePort || address !== gameHost) {
      counters.drops.foreign_source++;
      return;
    }
    this.lastActivity = this.settings.now();
    if (this.peer.sendBinary(data) === 0) {
      counters.drops.client_backpressure++;
      return;
    }
    counters.toClient.frames++;
    counters.toClient.bytes += data.length;
  }

  private sendToGame(socket: GameSocket, frame: Uint8Array): void {
    const counters = this.settings.counters;
    let sent: boolean;
    try {
      sent = socket.send(frame);
    } catch {
      // Bun throws a pending socket error (ECONNREFUSED after an ICMP "port unreachable") on send.
      this.close('udp_error');
      return;
    }
    if (!sent) {
      counters.drops.udp_send_failed++;
      return;
    }
    counters.toGame.frames++;
    counters.toGame.bytes += frame.length;
  }

  private queue(frame: Uint8Array): void {
    const pending = this.pending;
    if (pending === undefined || pending.length >= this.settings.limits.pendingFrames) {
      this.settings.counters.drops.pending_overflow++;
      return;
    }
    // The frame's buffer belongs to the WebSocket layer; keep a copy for the wait.
    pending.push(frame.slice());
  }

  /** Token bucket: `framesPerSecond` sustained, `burstFrames` at once; a full bucket ends the current flood. */
  private takeToken(now: number): boolean {
    const { framesPerSecond, burstFrames } = this.settings.limits;
    this.tokens = Math.min(burstFrames, this.tokens + ((now - this.lastRefill) * framesPerSecond) / 1000);
    this.lastRefill = now;
    if (this.tokens >= burstFrames) this.floodDrops = 0;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
