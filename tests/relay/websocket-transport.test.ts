import { afterEach, describe, expect, test } from 'bun:test';
import { ClientState, NetcodeClient } from '../../src/protocol/netcode/client.ts';
import { NetcodeServer, type DisconnectReason } from '../../src/protocol/netcode/server.ts';
import { generateConnectToken } from '../../src/protocol/netcode/connect-token.ts';
import { parseAddress } from '../../src/protocol/netcode/address.ts';
import { openUdpTransport } from '../../src/protocol/transport/udp.ts';
import type { DatagramTransport } from '../../src/protocol/transport/transport.ts';
import { openWebSocketTransport, RelayClosedError, RelayCloseCode, type RelayCloseInfo } from '../../src/protocol/transport/websocket.ts';
import { GAME, type Harness, startHarness, waitFor } from './support.ts';

const PROTOCOL_ID = 0x4855_4444_4c45_0001n;
const PRIVATE_KEY = crypto.getRandomValues(new Uint8Array(32));

let harness: Harness | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await harness?.stop();
  harness = undefined;
});

describe('browser WebSocket transport', () => {
  test('sends each datagram as one binary frame and delivers replies as from the server address', async () => {
    const h = (harness = await startHarness());
    const received: { data: Uint8Array; host: string; port: number }[] = [];
    const transport = await openWebSocketTransport({
      url: h.url(),
      serverHost: '10.1.2.3',
      serverPort: 40007,
      onDatagram: (data, host, port) => received.push({ data: data.slice(), host, port }),
    });
    cleanups.push(() => transport.close());
    // The caller's buffer is reused at once, as the netcode client does with its packet buffer.
    const buffer = new Uint8Array(8);
    for (let i = 0; i < 3; i++) {
      buffer.fill(i);
      transport.send(buffer.subarray(0, 4 + i), 'ignored.example', 1);
    }
    await waitFor(() => received.length === 3, 2000, 'echoes');
    expect(received).toEqual([0, 1, 2].map((i) => ({ data: new Uint8Array(4 + i).fill(i), host: '10.1.2.3', port: 40007 })));
    expect(h.echoed.map((d) => d.data.length)).toEqual([4, 5, 6]);
    expect(transport.isOpen).toBe(true);
  });

  test('reports why the relay closed it, and that a local close was local', async () => {
    const h = (harness = await startHarness());
    const closes: RelayCloseInfo[] = [];
    const options = { url: h.url(), serverHost: '127.0.0.1', serverPort: 1, onDatagram: () => {}, onClose: (info: RelayCloseInfo) => closes.push(info) };
    const a = await openWebSocketTransport(options);
    const b = await openWebSocketTransport(options);
    h.relay.closeGame(GAME);
    await waitFor(() => closes.length === 2, 2000, 'closes');
    for (const info of closes) expect(info).toEqual({ code: RelayCloseCode.GameEnded, reason: 'game ended', message: 'the game has ended', local: false });
    a.send(new Uint8Array([1]), '', 0);
    expect(a.dropped).toBe(1);
    b.close();
    const c = await openWebSocketTransport(options);
    c.close();
    await waitFor(() => closes.length === 3, 2000, 'local close');
    expect(closes[2]).toMatchObject({ code: 1000, local: true });
  });

  test('a tunnel the relay refuses rejects with a RelayClosedError', async () => {
    const h = (harness = await startHarness());
    const opening = openWebSocketTransport({ url: h.url('no-such-game'), serverHost: '127.0.0.1', serverPort: 1, onDatagram: () => {} });
    const error = await opening.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayClosedError);
    expect((error as RelayClosedError).info.local).toBe(false);
  });
});

describe('end to end: NetcodeClient → WebSocket transport → relay → UDP → NetcodeServer', () => {
  test('connects, exchanges payloads both ways byte for byte, and disconnects cleanly', async () => {
    let server: NetcodeServer | undefined;
    /** Every datagram the relay delivered to the game, as it crossed the wire. */
    const wire: Buffer[] = [];
    const now = () => Date.now() / 1000;
    const serverUdp: DatagramTransport = await openUdpTransport({
      hostname: '127.0.0.1',
      port: 0,
      onDatagram: (data, host, port) => {
        wire.push(Buffer.from(data));
        server?.receive(data, host, port, now());
      },
    });
    cleanups.push(() => serverUdp.close());
    const gamePort = serverUdp.localPort;
    const atServer: Uint8Array[] = [];
    const disconnects: DisconnectReason[] = [];
    const gameServer = new NetcodeServer(
      { protocolId: PROTOCOL_ID, privateKey: PRIVATE_KEY, maxClients: 4, publicAddress: parseAddress(`127.0.0.1:${gamePort}`) },
      {
        send: (data, host, port) => serverUdp.send(data, host, port),
        onPayload: (clientIndex, payload) => {
          atServer.push(payload.slice());
          // Echo reversed, so a reply is distinguishable from the request.
          gameServer.sendPayload(clientIndex, payload.slice().reverse(), now());
        },
        onDisconnect: (_client, reason) => disconnects.push(reason),
      },
    );
    server = gameServer;
    gameServer.start();

    const h = (harness = await startHarness());
    h.games.set('netcode-game', { port: gamePort });

    const token = generateConnectToken({
      protocolId: PROTOCOL_ID,
      privateKey: PRIVATE_KEY,
      clientId: 77n,
      serverAddresses: [parseAddress(`127.0.0.1:${gamePort}`)],
      userData: new TextEncoder().encode('tester'),
      expireSeconds: 30,
      timeoutSeconds: 5,
      nowSeconds: Math.floor(now()),
    }).bytes;

    let client: NetcodeClient | undefined;
    const atClient: Uint8Array[] = [];
    const transport = await openWebSocketTransport({
      url: h.url('netcode-game'),
      serverHost: '127.0.0.1',
      serverPort: gamePort,
      onDatagram: (data, host, port) => client?.receive(data, host, port, now()),
    });
    const netcodeClient = new NetcodeClient(
      { protocolId: PROTOCOL_ID },
      { send: (data, host, port) => transport.send(data, host, port), onPayload: (payload) => atClient.push(payload.slice()) },
    );
    client = netcodeClient;
    const ticker = setInterval(() => {
      netcodeClient.update(now());
      gameServer.update(now());
    }, 10);
    cleanups.push(() => clearInterval(ticker));

    netcodeClient.connect(token, now());
    await waitFor(() => netcodeClient.connected, 3000, 'netcode connection');
    expect(gameServer.numConnectedClients).toBe(1);
    expect(gameServer.clients()[0]?.clientId).toBe(77n);
    // The server sees the relay's loopback socket, never the browser.
    expect(gameServer.clients()[0]?.host).toBe('127.0.0.1');
    expect(gameServer.clients()[0]?.port).toBe(h.relay.tunnels('netcode-game')[0]?.localPort as number);

    const payloads = [1, 64, 500, 1200].map((n) => crypto.getRandomValues(new Uint8Array(n)));
    for (const payload of payloads) netcodeClient.sendPayload(payload, now());
    await waitFor(() => atClient.length === payloads.length, 3000, 'echoed payloads');
    expect(atServer).toEqual(payloads);
    expect(atClient).toEqual(payloads.map((p) => p.slice().reverse()));
    // The relay carried sealed packets only: no payload crossed it in the clear.
    for (const payload of payloads.slice(1)) {
      const probe = Buffer.from(payload.subarray(0, 32));
      expect(wire.some((datagram) => datagram.includes(probe))).toBe(false);
    }

    netcodeClient.disconnect(now());
    expect(netcodeClient.state).toBe(ClientState.Disconnected);
    await waitFor(() => disconnects.length === 1, 3000, 'server sees the disconnect');
    expect(disconnects).toEqual(['client-disconnected']);
    transport.close();
    await waitFor(() => h.relay.openSockets === 0, 2000, 'tunnel closed');
    expect(h.relay.counters.boundUdpSockets).toBe(0);
    gameServer.stop(now());
  });
});
