import { beforeEach, describe, expect, test } from 'bun:test';
import { ClientState } from '../../src/protocol/netcode/client.ts';
import { CONNECTION_REQUEST_BYTES, PacketType } from '../../src/protocol/netcode/constants.ts';
import type { ConnectedClient, DisconnectReason } from '../../src/protocol/netcode/server.ts';
import { clock, makeClient, makeServer, makeToken, MemoryNetwork, SERVER_HOST, SERVER_PORT } from '../support/memory-link.ts';

const T0 = 1_700_000_000;
const typeOf = (data: Uint8Array) => (data[0] as number) & 0x0f;

describe('netcode server', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    clock.now = T0;
    network = new MemoryNetwork();
  });

  function connect(port: number, clientId: bigint, tokenOptions: Parameters<typeof makeToken>[0] = {}) {
    const client = makeClient(network, port);
    client.connect(makeToken({ now: T0, clientId, ...tokenOptions }), clock.now);
    network.flush();
    return client;
  }

  test('fills slots in order, denies when full, and reuses a freed slot', () => {
    const connects: ConnectedClient[] = [];
    const server = makeServer(network, { onConnect: (c) => connects.push(c) }, 2);
    const a = connect(50000, 1n);
    const b = connect(50001, 2n);
    const c = connect(50002, 3n);
    expect([a.clientIndex, b.clientIndex]).toEqual([0, 1]);
    expect(c.state).toBe(ClientState.ConnectionDenied);
    expect(server.numConnectedClients).toBe(2);
    a.disconnect(clock.now);
    network.flush();
    const d = connect(50003, 4n);
    expect(d.clientIndex).toBe(0);
    expect(connects.map((x) => x.clientId)).toEqual([1n, 2n, 4n]);
  });

  test('the admit hook (game rules) turns a valid token into a denied packet', () => {
    let open = true;
    const server = makeServer(network, { admit: () => open });
    expect(connect(50000, 1n).connected).toBe(true);
    open = false;
    expect(connect(50001, 2n).state).toBe(ClientState.ConnectionDenied);
    expect(server.numConnectedClients).toBe(1);
  });

  test('a connection request replayed from another address is refused; the owner still gets in', () => {
    const server = makeServer(network);
    const owner = makeClient(network, 50000);
    owner.connect(makeToken({ now: T0 }), T0);
    const request = network.queue[0]!.data.slice();
    server.receive(request, SERVER_HOST, 50000, T0); // first use from the owner's address
    network.queue.length = 0;
    server.receive(request.slice(), '10.0.0.9', 6000, T0);
    expect(server.dropped.get('token-reused')).toBe(1);
    expect(network.queue).toHaveLength(0);
    owner.update(T0 + 0.1);
    network.flush();
    expect(owner.connected).toBe(true);
  });

  test('ignores a second connection with a connected client id, and a second request from a connected address', () => {
    const server = makeServer(network);
    const first = connect(50000, 7n);
    const twin = connect(50001, 7n);
    expect(first.connected).toBe(true);
    expect(twin.state).toBe(ClientState.SendingConnectionRequest);
    expect(server.dropped.get('already-connected')).toBeGreaterThan(0);
    const again = makeClient(network, 50000);
    again.connect(makeToken({ now: T0, clientId: 8n }), T0);
    const before = server.dropped.get('already-connected') ?? 0;
    network.flush(1);
    expect(server.dropped.get('already-connected')).toBe(before + 1);
  });

  test('ignores tokens for another server, expired tokens and tokens sealed with another key', () => {
    const server = makeServer(network);
    const stray = makeClient(network, 50000);
    stray.connect(makeToken({ now: T0, servers: ['127.0.0.1:40999'] }), T0);
    server.receive(network.queue.splice(0)[0]!.data, SERVER_HOST, 50000, T0);
    expect(server.dropped.get('not-for-this-server')).toBe(1);
    expect(network.queue).toHaveLength(0);
    const late = makeClient(network, 50001);
    late.connect(makeToken({ now: T0 - 100, expireSeconds: 30 }), T0);
    network.flush();
    expect(server.dropped.get('expired')).toBe(1);
    expect(connect(50002, 3n, { privateKey: new Uint8Array(32).fill(9) }).connected).toBe(false);
    expect(server.dropped.get('auth-failed')).toBe(1);
    expect(server.numPendingMappings).toBe(0);
  });

  test('answers are never larger than the packet they answer, and use the global sequence from 1<<63', () => {
    const server = makeServer(network, {}, 1);
    connect(50000, 1n);
    const client = makeClient(network, 50001);
    client.connect(makeToken({ now: T0, clientId: 2n }), T0);
    const request = network.queue.splice(0)[0]!;
    expect(request.data.length).toBe(CONNECTION_REQUEST_BYTES);
    server.receive(request.data, SERVER_HOST, 50001, T0);
    const denied = network.queue.splice(0)[0]!.data;
    expect(typeOf(denied)).toBe(PacketType.ConnectionDenied);
    expect(denied.length).toBeLessThan(CONNECTION_REQUEST_BYTES);
    // Eight sequence bytes, the top one 0x80: the server-wide sequence, not a client's.
    expect(denied[0]! >> 4).toBe(8);
    expect(denied[8]).toBe(0x80);

    const fresh = new MemoryNetwork();
    const roomy = makeServer(fresh, {}, 2);
    const c = makeClient(fresh, 50002);
    c.connect(makeToken({ now: T0, clientId: 3n }), T0);
    const req = fresh.queue.splice(0)[0]!;
    roomy.receive(req.data, SERVER_HOST, 50002, T0);
    const challenge = fresh.queue.splice(0)[0]!.data;
    expect(typeOf(challenge)).toBe(PacketType.ConnectionChallenge);
    expect(challenge.length).toBeLessThan(req.data.length);
    expect(challenge[0]! >> 4).toBe(8);
    expect(challenge[8]).toBe(0x80);
  });

  test('a pending mapping expires with the token timeout; a late response is then ignored', () => {
    const server = makeServer(network);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0, timeoutSeconds: 2 }), T0);
    network.flush(2); // request → challenge → response queued
    expect(server.numPendingMappings).toBe(1);
    const response = network.queue.splice(0)[0]!;
    server.update(T0 + 2.5);
    expect(server.numPendingMappings).toBe(0);
    server.receive(response.data, SERVER_HOST, 50000, T0 + 2.5);
    expect(server.numConnectedClients).toBe(0);
    expect(server.dropped.get('no-key')).toBe(1);
  });

  test('pending mappings are bounded at 4 per slot', () => {
    const server = makeServer(network, {}, 1);
    for (let i = 0; i < 6; i++) {
      const client = makeClient(network, 51000 + i);
      client.connect(makeToken({ now: T0, clientId: BigInt(100 + i) }), T0);
    }
    network.flush(1);
    expect(server.numPendingMappings).toBe(4);
    expect(server.dropped.get('no-mapping-room')).toBe(2);
  });

  test('sends keep-alives at 10 Hz and times out a silent client with disconnect packets', () => {
    const disconnects: DisconnectReason[] = [];
    const server = makeServer(network, { onDisconnect: (_c, reason) => disconnects.push(reason) });
    connect(50000, 1n, { timeoutSeconds: 2 });
    network.queue.length = 0;
    server.update(T0 + 0.05);
    expect(network.queue).toHaveLength(0);
    server.update(T0 + 0.1);
    server.update(T0 + 0.2);
    expect(network.queue.map((d) => typeOf(d.data))).toEqual([PacketType.ConnectionKeepAlive, PacketType.ConnectionKeepAlive]);
    network.queue.length = 0;
    server.update(T0 + 2.01);
    expect(disconnects).toEqual(['timed-out']);
    expect(network.queue.filter((d) => typeOf(d.data) === PacketType.ConnectionDisconnect)).toHaveLength(10);
    expect(server.numConnectedClients).toBe(0);
  });

  test('a restarted server has a new challenge key: responses to the old challenges fail', () => {
    const server = makeServer(network);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0 }), T0);
    const request = network.queue[0]!.data.slice();
    network.flush(2);
    const response = network.queue.splice(0)[0]!;
    server.stop(T0);
    server.start();
    server.receive(request, SERVER_HOST, 50000, T0); // the mapping is made again…
    expect(server.numPendingMappings).toBe(1);
    server.receive(response.data, SERVER_HOST, 50000, T0); // …but the old challenge no longer opens
    expect(server.numConnectedClients).toBe(0);
    expect(server.dropped.get('bad-challenge')).toBe(1);
  });

  test('stop disconnects every client and then ignores traffic', () => {
    const disconnects: DisconnectReason[] = [];
    const server = makeServer(network, { onDisconnect: (_c, r) => disconnects.push(r) });
    const a = connect(50000, 1n);
    const b = connect(50001, 2n);
    server.stop(T0 + 1);
    network.flush();
    expect(disconnects).toEqual(['server-stopped', 'server-stopped']);
    expect(a.state).toBe(ClientState.Disconnected);
    expect(b.state).toBe(ClientState.Disconnected);
    const c = connect(50002, 3n);
    expect(c.connected).toBe(false);
    expect(server.isRunning).toBe(false);
  });

  test('drops keep-alives and payloads from addresses that are not connected', () => {
    const server = makeServer(network);
    connect(50000, 1n);
    const kept: Uint8Array[] = [];
    network.filter = (d) => (kept.push(d.slice()), false);
    server.sendPayload(0, new Uint8Array([1, 2, 3]), T0);
    // Replay a server→client packet back at the server from a stranger: no key for that address.
    for (const d of kept) server.receive(d, '127.0.0.9', 1234, T0);
    expect(server.dropped.get('no-key')).toBe(kept.length);
    expect(server.numConnectedClients).toBe(1);
  });
});
