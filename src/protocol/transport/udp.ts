import type { DatagramHandler, DatagramTransport } from './transport.ts';

export interface UdpTransportOptions {
  /** Address to bind, e.g. "0.0.0.0" for a game server, "127.0.0.1" for a local client. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  onDatagram: DatagramHandler;
  /** Socket errors; by default ignored (see below). */
  onError?: (error: Error) => void;
}

/**
 * The Bun UDP socket adapter. Kept out of the pure protocol code: it is the only place the native client and
 * the game worker touch the network. A failed send (kernel buffer full) is a lost datagram, which the
 * protocol already tolerates, so it is not an error.
 */
export async function openUdpTransport(options: UdpTransportOptions): Promise<DatagramTransport> {
  const { onDatagram } = options;
  const socket = await Bun.udpSocket({
    hostname: options.hostname,
    port: options.port,
    binaryType: 'uint8array',
    socket: {
      data(_socket, data, port, address) {
        onDatagram(data, address, port);
      },
      // A peer that closed its socket makes the kernel report ECONNREFUSED (ICMP port unreachable) on a later
      // receive. For a datagram protocol that is a lost packet, not a failure: it must never end a game.
      error(_socket, error) {
        options.onError?.(error);
      },
    },
  });
  return {
    localPort: socket.port,
    send(data, host, port) {
      if (socket.closed) return;
      try {
        socket.send(data, port, host);
      } catch (error) {
        // A pending ICMP error (the peer's port closed) surfaces on the next send: the datagram is lost, as
        // UDP allows, and the protocol's timeouts deal with a peer that is gone.
        options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
    },
    close() {
      if (!socket.closed) socket.close();
    },
  };
}
