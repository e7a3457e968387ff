import { openUdpTransport } from '../../src/protocol/transport/udp.ts';
import type { DatagramTransport } from '../../src/protocol/transport/transport.ts';
import { seededRandom } from './prng.ts';

export interface LossyProxy {
  /** The port clients send to; the server is configured with this as its public address. */
  readonly port: number;
  readonly stats: { forwarded: number; dropped: number };
  close(): void;
}

/**
 * A UDP middlebox on 127.0.0.1 that forwards between one client and a server, dropping a fraction of the
 * datagrams in each direction. It stands in for a bad network in tests over real sockets.
 */
export async function startLossyProxy(options: { serverPort: number; lossRatio: number; seed: number }): Promise<LossyProxy> {
  const random = seededRandom(options.seed);
  const stats = { forwarded: 0, dropped: 0 };
  let client: { host: string; port: number } | undefined;
  let upstream: DatagramTransport | undefined;

  const pass = (): boolean => {
    if (random() < options.lossRatio) {
      stats.dropped++;
      return false;
    }
    stats.forwarded++;
    return true;
  };

  // One socket faces the client, another faces the server, as a NAT would.
  const front = await openUdpTransport({
    hostname: '127.0.0.1',
    port: 0,
    onDatagram(data, host, port) {
      client = { host, port };
      if (pass()) upstream?.send(data, '127.0.0.1', options.serverPort);
    },
  });
  upstream = await openUdpTransport({
    hostname: '127.0.0.1',
    port: 0,
    onDatagram(data, _host, port) {
      if (port !== options.serverPort || !client) return;
      if (pass()) front.send(data, client.host, client.port);
    },
  });
  return {
    port: front.localPort,
    stats,
    close() {
      front.close();
      upstream?.close();
    },
  };
}
