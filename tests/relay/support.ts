import { Elysia } from 'elysia';
import type { udp } from 'bun';
import { createRelay, type Relay } from '../../src/matchmaker/relay/relay.ts';
import { relayRoutes } from '../../src/matchmaker/relay/relay-routes.ts';
import type { RelayLimits, RelayOptions, RelayTarget } from '../../src/matchmaker/relay/relay-model.ts';

export const GAME = 'game-1';

export { waitFor } from '../matchmaker/support/env.ts';

export interface Datagram {
  data: Uint8Array;
  port: number;
  address: string;
}

/** A UDP socket on loopback that records what it receives and, if asked, echoes it back. */
export async function udpEndpoint(echo: boolean): Promise<{ socket: udp.Socket<'uint8array'>; received: Datagram[] }> {
  const received: Datagram[] = [];
  const socket = await Bun.udpSocket({
    hostname: '127.0.0.1',
    port: 0,
    binaryType: 'uint8array',
    socket: {
      data(s, data, port, address) {
        received.push({ data: data.slice(), port, address });
        // A tunnel that closed leaves an ICMP "port unreachable" behind, and the next send throws it.
        if (echo) {
          try {
            s.send(data, port, address);
          } catch {}
        }
      },
      // The same ICMP error also surfaces on receive; without a handler it is an unhandled error.
      error() {},
    },
  });
  return { socket, received };
}

export interface TestClient {
  ws: WebSocket;
  messages: Uint8Array[];
  texts: string[];
  closed: Promise<{ code: number; reason: string }>;
  isClosed: () => boolean;
}

/** A Bun WebSocket client that records every frame and its close. Resolves once open; rejects if refused. */
export function openClient(url: string): Promise<TestClient> {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const messages: Uint8Array[] = [];
  const texts: string[] = [];
  let isClosed = false;
  ws.addEventListener('message', (event: MessageEvent) => {
    if (event.data instanceof ArrayBuffer) messages.push(new Uint8Array(event.data));
    else texts.push(String(event.data));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (event: CloseEvent) => {
      isClosed = true;
      resolve({ code: event.code, reason: event.reason });
    }),
  );
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve({ ws, messages, texts, closed, isClosed: () => isClosed }));
    void closed.then(({ code }) => reject(new Error(`refused: close ${code}`)));
  });
}

/** Resolves with the close, or fails after `timeoutMs`. */
export async function closeOf(client: TestClient, timeoutMs = 2000): Promise<{ code: number; reason: string }> {
  const timeout = Bun.sleep(timeoutMs).then(() => {
    throw new Error(`the relay did not close the socket within ${timeoutMs} ms`);
  });
  return Promise.race([client.closed, timeout]);
}

export const UPGRADE_HEADERS = {
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version': '13',
};

export interface Harness {
  relay: Relay;
  /** The live games the fake registry knows; delete one to make it "ended". */
  games: Map<string, RelayTarget>;
  echo: udp.Socket<'uint8array'>;
  /** What the echo "game" received, with the source the relay used. */
  echoed: Datagram[];
  base: string;
  url(game?: string): string;
  connect(game?: string): Promise<TestClient>;
  stop(): Promise<void>;
}

/** A relay on a test Elysia app whose only live game is a UDP echo socket. */
export async function startHarness(limits: Partial<RelayLimits> = {}, options: Partial<RelayOptions> = {}): Promise<Harness> {
  const { socket: echo, received: echoed } = await udpEndpoint(true);
  const games = new Map<string, RelayTarget>([[GAME, { port: echo.port }]]);
  const relay = createRelay({ resolveGame: (id) => games.get(id), limits, ...options });
  const app = new Elysia().use(relayRoutes(relay)).listen({ hostname: '127.0.0.1', port: 0 });
  const base = `127.0.0.1:${app.server?.port}`;
  const clients: TestClient[] = [];
  const url = (game = GAME) => `ws://${base}/relay?game=${encodeURIComponent(game)}`;
  return {
    relay,
    games,
    echo,
    echoed,
    base,
    url,
    async connect(game = GAME) {
      const client = await openClient(url(game));
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.ws.close();
      relay.closeAll();
      await app.stop(true);
      echo.close();
    },
  };
}

export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(length, i + 65536)));
  return bytes;
}
