import type { DatagramHandler, DatagramTransport } from './transport.ts';

/**
 * The browser's datagram transport: netcode datagrams tunnelled through the matchmaker's WebSocket relay
 * (`GET /relay?game=<id>`), one binary frame per datagram, unchanged. Browsers cannot send UDP; with this
 * adapter the browser runs the same netcode client as the native bot.
 *
 * Browser APIs only (the global `WebSocket`), so the same file runs in the page and in Bun's tests.
 */

/**
 * Close codes the relay uses, part of the tunnel's contract with the page. 4xxx mirrors the HTTP status of
 * the same meaning, so a log line reads at a glance.
 */
export const RelayCloseCode = {
  /** The relay shut down (server draining). */
  GoingAway: 1001,
  /** The tunnel carries binary frames only; a text frame ends it. */
  TextFrame: 4400,
  /** The game named in `?game=` is not live (ended between the upgrade and the socket opening). */
  UnknownGame: 4404,
  /** No frame either way for the relay's idle time. */
  Idle: 4408,
  /** The game ended while the tunnel was open. */
  GameEnded: 4410,
  /** The client kept sending faster than the relay's frame rate limit. */
  RateLimited: 4429,
  /** The relay's UDP socket to the game failed (the game is gone or unreachable). */
  GameUnreachable: 4502,
  /** The relay has as many tunnels open as it allows. */
  AtCapacity: 4503,
} as const;
export type RelayCloseCode = (typeof RelayCloseCode)[keyof typeof RelayCloseCode];

const CLOSE_MESSAGES: Readonly<Record<number, string>> = {
  1000: 'the connection was closed',
  1001: 'the server is shutting down',
  1006: 'the connection to the relay was lost',
  4400: 'the relay refused a malformed frame',
  4404: 'the game was not found',
  4408: 'the connection was idle too long',
  4410: 'the game has ended',
  4429: 'too much traffic: the relay closed the connection',
  4502: 'the game server cannot be reached',
  4503: 'the server is full, try again later',
};

/** A sentence for the UI ("relay closed: the game has ended"), for any close code. */
export function describeRelayClose(code: number): string {
  return CLOSE_MESSAGES[code] ?? `the relay closed the connection (code ${code})`;
}

export interface RelayCloseInfo {
  code: number;
  /** The relay's own reason text, when it sent one (empty for network failures). */
  reason: string;
  /** A sentence for people, from the code. */
  message: string;
  /** True when this side called `close()`; false when the relay or the network ended it. */
  local: boolean;
}

export class RelayClosedError extends Error {
  override readonly name = 'RelayClosedError';
  constructor(readonly info: RelayCloseInfo) {
    super(`relay closed: ${info.message}${info.reason ? ` (${info.reason})` : ''}`);
  }
}

export interface WebSocketTransportOptions {
  /** The relay URL the matchmaker handed out, e.g. `ws://host:8080/relay?game=<id>`. */
  url: string;
  /**
   * The game server's address as written in the connect token. The netcode client only accepts datagrams from
   * that address, and every frame from the relay is from the game, so frames are delivered as if from it.
   */
  serverHost: string;
  serverPort: number;
  onDatagram: DatagramHandler;
  /** Called once when the tunnel ends after it opened, whoever ended it. */
  onClose?: (info: RelayCloseInfo) => void;
}

export interface WebSocketTransport extends DatagramTransport {
  /** Frames that could not be sent because the tunnel was already closed, or that arrived as text. */
  readonly dropped: number;
  readonly isOpen: boolean;
}

/**
 * Opens the tunnel. Resolves once the relay accepted it; rejects with a RelayClosedError if it never opens
 * (unknown game, relay unreachable). `send(data, host, port)` ignores host and port: the relay already knows
 * which game this tunnel reaches, and no frame can name any other.
 */
export function openWebSocketTransport(options: WebSocketTransportOptions): Promise<WebSocketTransport> {
  const { serverHost, serverPort, onDatagram } = options;
  const socket = new WebSocket(options.url);
  socket.binaryType = 'arraybuffer';
  let opened = false;
  let closedLocally = false;
  let dropped = 0;

  const transport: WebSocketTransport = {
    localPort: 0,
    get dropped() {
      return dropped;
    },
    get isOpen() {
      return socket.readyState === WebSocket.OPEN;
    },
    send(data) {
      // WebSocket.send copies the view's bytes, so the caller may reuse its buffer at once.
      if (socket.readyState === WebSocket.OPEN) socket.send(data);
      else dropped++;
    },
    close() {
      if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
      closedLocally = true;
      socket.close(1000, 'client closed');
    },
  };

  socket.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    if (data instanceof ArrayBuffer) onDatagram(new Uint8Array(data), serverHost, serverPort);
    else dropped++;
  });

  return new Promise<WebSocketTransport>((resolve, reject) => {
    socket.addEventListener('open', () => {
      opened = true;
      resolve(transport);
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      const info: RelayCloseInfo = { code: event.code, reason: event.reason, message: describeRelayClose(event.code), local: closedLocally };
      if (opened) options.onClose?.(info);
      else reject(new RelayClosedError(info));
    });
  });
}
