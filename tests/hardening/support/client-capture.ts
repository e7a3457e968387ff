/**
 * Captures what real clients send, by wrapping `Bun.udpSocket` in this thread: every socket opened while the
 * capture is installed (the bots' sockets, via openUdpTransport) records the datagrams it sends, and keeps its
 * own `send`, so a fuzzer can later resend a captured datagram from the very address the game knows the client by.
 *
 * Game workers are separate threads with their own globals: the wrap never touches the server side.
 */
import type { udp } from 'bun';

/** The real `Bun.udpSocket`, for sockets that must not be captured (the fuzzer's own). */
export const originalUdpSocket: typeof Bun.udpSocket = Bun.udpSocket.bind(Bun);

export interface CapturedSocket {
  readonly closed: boolean;
  send(data: Uint8Array, port: number, address: string): boolean;
}

export interface CapturedDatagram {
  /** A copy of the bytes as sent. */
  readonly data: Uint8Array;
  readonly port: number;
  readonly address: string;
  /** The sending socket, with its unwrapped send. */
  readonly source: CapturedSocket;
}

export interface ClientCapture {
  /** Datagrams sent to `port`: the first `keepFirst` of each socket (the handshake) and the most recent ones. */
  toPort(port: number): readonly CapturedDatagram[];
  /** Datagrams captured in all (including those no longer kept). */
  readonly total: number;
  restore(): void;
}

export function captureClientSends(options: { keepFirst?: number; keepRecent?: number } = {}): ClientCapture {
  const keepFirst = options.keepFirst ?? 16;
  const keepRecent = options.keepRecent ?? 2000;
  const first: CapturedDatagram[] = [];
  const firstPerSocket = new Map<CapturedSocket, number>();
  let recent: CapturedDatagram[] = [];
  let total = 0;
  const byPort = new Map<number, { version: number; list: CapturedDatagram[] }>();
  let version = 0;

  const record = (entry: CapturedDatagram): void => {
    total++;
    version++;
    const seen = firstPerSocket.get(entry.source) ?? 0;
    if (seen < keepFirst) {
      firstPerSocket.set(entry.source, seen + 1);
      first.push(entry);
      return;
    }
    recent.push(entry);
    // Bounded memory: drop the older half once full.
    if (recent.length > keepRecent * 2) recent = recent.slice(-keepRecent);
  };

  const wrapped = (async (socketOptions: Parameters<typeof Bun.udpSocket>[0]) => {
    const socket = (await originalUdpSocket(socketOptions as never)) as udp.Socket<'uint8array'>;
    const send = socket.send.bind(socket);
    const source: CapturedSocket = {
      get closed() {
        return socket.closed;
      },
      send: (data, port, address) => send(data, port, address),
    };
    Object.defineProperty(socket, 'send', {
      configurable: true,
      value: (data: Uint8Array, port: number, address: string) => {
        record({ data: new Uint8Array(data), port, address, source });
        return send(data, port, address);
      },
    });
    return socket;
  }) as unknown as typeof Bun.udpSocket;

  Bun.udpSocket = wrapped;
  return {
    toPort(port) {
      const cached = byPort.get(port);
      if (cached && cached.version === version) return cached.list;
      const list = [...first, ...recent].filter((d) => d.port === port);
      byPort.set(port, { version, list });
      return list;
    },
    get total() {
      return total;
    },
    restore() {
      if (Bun.udpSocket === wrapped) Bun.udpSocket = originalUdpSocket;
    },
  };
}
