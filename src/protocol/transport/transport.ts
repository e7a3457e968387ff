/**
 * What the protocol needs from a network: send a datagram to a host and port, and be told of datagrams that
 * arrive. The netcode client and server never touch sockets; a transport adapter (Bun UDP socket, or the
 * browser's WebSocket tunnel through the relay) feeds them bytes and carries their bytes away.
 */
export type DatagramHandler = (data: Uint8Array, host: string, port: number) => void;

export interface DatagramSender {
  send(data: Uint8Array, host: string, port: number): void;
}

export interface DatagramTransport extends DatagramSender {
  /** The local port bound, for logs and for tests that need to aim at it. */
  readonly localPort: number;
  close(): void;
}
