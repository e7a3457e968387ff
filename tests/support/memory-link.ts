import { NetcodeClient, type NetcodeClientEvents } from '../../src/protocol/netcode/client.ts';
import { NetcodeServer, type NetcodeServerEvents } from '../../src/protocol/netcode/server.ts';
import { generateConnectToken } from '../../src/protocol/netcode/connect-token.ts';
import { parseAddress } from '../../src/protocol/netcode/address.ts';

export const PROTOCOL_ID = 0x1122334455667788n;
export const SERVER_HOST = '127.0.0.1';
export const SERVER_PORT = 40000;

/**
 * An in-memory network for the pure client and server: datagrams are queued and delivered when the test says,
 * so every state transition can be stepped through deterministically with a fake clock.
 */
export class MemoryNetwork {
  readonly queue: { data: Uint8Array; fromHost: string; fromPort: number; toHost: string; toPort: number }[] = [];
  readonly endpoints = new Map<string, (data: Uint8Array, host: string, port: number) => void>();
  /** Return false to drop a datagram in flight. */
  filter: (data: Uint8Array, toPort: number) => boolean = () => true;

  attach(host: string, port: number, deliver: (data: Uint8Array, host: string, port: number) => void) {
    this.endpoints.set(`${host}:${port}`, deliver);
    return (data: Uint8Array, toHost: string, toPort: number) => {
      if (this.filter(data, toPort)) this.queue.push({ data: data.slice(), fromHost: host, fromPort: port, toHost, toPort });
    };
  }

  /** Delivers everything queued, including what the deliveries themselves send, up to a bound. */
  flush(maxRounds = 100): number {
    let delivered = 0;
    for (let round = 0; round < maxRounds && this.queue.length > 0; round++) {
      const batch = this.queue.splice(0);
      for (const d of batch) {
        this.endpoints.get(`${d.toHost}:${d.toPort}`)?.(d.data, d.fromHost, d.fromPort);
        delivered++;
      }
    }
    return delivered;
  }
}

export const PRIVATE_KEY = new Uint8Array(32).map((_, i) => i);

export function makeToken(options: { clientId?: bigint; expireSeconds?: number; timeoutSeconds?: number; now?: number; servers?: string[]; privateKey?: Uint8Array; protocolId?: bigint } = {}) {
  return generateConnectToken({
    protocolId: options.protocolId ?? PROTOCOL_ID,
    privateKey: options.privateKey ?? PRIVATE_KEY,
    clientId: options.clientId ?? 1n,
    serverAddresses: (options.servers ?? [`${SERVER_HOST}:${SERVER_PORT}`]).map(parseAddress),
    expireSeconds: options.expireSeconds ?? 30,
    timeoutSeconds: options.timeoutSeconds ?? 5,
    nowSeconds: options.now ?? 1_700_000_000,
  }).bytes;
}

export function makeServer(network: MemoryNetwork, events: Partial<NetcodeServerEvents> = {}, maxClients = 4, port = SERVER_PORT) {
  const server = new NetcodeServer(
    { protocolId: PROTOCOL_ID, privateKey: PRIVATE_KEY, maxClients, publicAddress: parseAddress(`${SERVER_HOST}:${port}`) },
    { ...events, send: network.attach(SERVER_HOST, port, (d, h, p) => server.receive(d, h, p, clock.now)) },
  );
  server.start();
  return server;
}

export function makeClient(network: MemoryNetwork, port: number, events: Partial<NetcodeClientEvents> = {}) {
  const client = new NetcodeClient(
    { protocolId: PROTOCOL_ID },
    { ...events, send: network.attach('127.0.0.1', port, (d, h, p) => client.receive(d, h, p, clock.now)) },
  );
  return client;
}

/** One fake clock shared by the endpoints of a test (unix seconds). */
export const clock = { now: 1_700_000_000 };
