import { beforeEach, describe, expect, test } from 'bun:test';
import { ClientState, NetcodeClient } from '../../src/protocol/netcode/client.ts';
import { CONNECTION_REQUEST_BYTES, PacketType } from '../../src/protocol/netcode/constants.ts';
import { clock, makeClient, makeServer, makeToken, MemoryNetwork, PROTOCOL_ID, SERVER_PORT } from '../support/memory-link.ts';

const T0 = 1_700_000_000;
const typeOf = (data: Uint8Array) => (data[0] as number) & 0x0f;

describe('netcode client state machine', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    clock.now = T0;
    network = new MemoryNetwork();
  });

  test('walks request → response → connected, answering each step at once', () => {
    const server = makeServer(network);
    const states: ClientState[] = [];
    const client = makeClient(network, 50000, { onStateChange: (s) => states.push(s) });
    client.connect(makeToken({ now: T0 }), T0);
    expect(client.state).toBe(ClientState.SendingConnectionRequest);
    expect(network.queue).toHaveLength(1);
    expect(network.queue[0]?.data.length).toBe(CONNECTION_REQUEST_BYTES);
    network.flush(1); // request → server, challenge queued
    network.flush(1); // challenge → client, response sent without waiting for the tick
    expect(client.state).toBe(ClientState.SendingConnectionResponse);
    expect(typeOf(network.queue[0]!.data)).toBe(PacketType.ConnectionResponse);
    network.flush();
    expect(states).toEqual([ClientState.SendingConnectionRequest, ClientState.SendingConnectionResponse, ClientState.Connected]);
    expect(client.clientIndex).toBe(0);
    expect(client.maxClients).toBe(server.maxClients);
  });

  test('resends its request at 10 Hz while unanswered', () => {
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0 }), T0);
    expect(network.queue).toHaveLength(1);
    client.update(T0 + 0.05);
    expect(network.queue).toHaveLength(1);
    client.update(T0 + 0.1);
    client.update(T0 + 0.15);
    client.update(T0 + 0.2);
    expect(network.queue).toHaveLength(3);
  });

  test('times out a request nobody answers', () => {
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0, timeoutSeconds: 2 }), T0);
    client.update(T0 + 2);
    expect(client.state).toBe(ClientState.SendingConnectionRequest);
    client.update(T0 + 2.01);
    expect(client.state).toBe(ClientState.ConnectionRequestTimedOut);
  });

  test('times out a response the server never confirms', () => {
    makeServer(network);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0, timeoutSeconds: 2 }), T0);
    network.flush(2);
    expect(client.state).toBe(ClientState.SendingConnectionResponse);
    network.queue.length = 0;
    network.filter = () => false;
    client.update(T0 + 2.5);
    expect(client.state).toBe(ClientState.ConnectionResponseTimedOut);
  });

  test('times out a connection that goes silent', () => {
    makeServer(network);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0, timeoutSeconds: 3 }), T0);
    network.flush();
    expect(client.connected).toBe(true);
    network.filter = () => false;
    client.update(T0 + 2.9);
    expect(client.connected).toBe(true);
    client.update(T0 + 3.1);
    expect(client.state).toBe(ClientState.ConnectionTimedOut);
  });

  test('a full server denies', () => {
    makeServer(network, {}, 1);
    const first = makeClient(network, 50000);
    first.connect(makeToken({ now: T0, clientId: 1n }), T0);
    network.flush();
    const second = makeClient(network, 50001);
    second.connect(makeToken({ now: T0, clientId: 2n }), T0);
    network.flush();
    expect(first.connected).toBe(true);
    expect(second.state).toBe(ClientState.ConnectionDenied);
  });

  test('falls back to the next server address in the token', () => {
    const second = SERVER_PORT + 1;
    makeServer(network, {}, 4, second);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0, timeoutSeconds: 1, servers: [`127.0.0.1:${SERVER_PORT}`, `127.0.0.1:${second}`] }), T0);
    network.flush();
    expect(client.state).toBe(ClientState.SendingConnectionRequest);
    expect(client.serverAddress?.port).toBe(SERVER_PORT);
    clock.now = T0 + 1.5;
    client.update(clock.now);
    expect(client.serverAddress?.port).toBe(second);
    network.flush();
    expect(client.connected).toBe(true);
  });

  test('a denied attempt also moves on to the next server', () => {
    const second = SERVER_PORT + 1;
    makeServer(network, { admit: () => false });
    makeServer(network, {}, 4, second);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0, servers: [`127.0.0.1:${SERVER_PORT}`, `127.0.0.1:${second}`] }), T0);
    network.flush();
    expect(client.connected).toBe(true);
    expect(client.serverAddress?.port).toBe(second);
  });

  test('gives up when the connect token expires, whatever servers remain', () => {
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0, expireSeconds: 3, timeoutSeconds: 10 }), T0);
    client.update(T0 + 2.9);
    expect(client.state).toBe(ClientState.SendingConnectionRequest);
    client.update(T0 + 3);
    expect(client.state).toBe(ClientState.ConnectTokenExpired);
  });

  test('refuses an unreadable token or one for another protocol', () => {
    const client = makeClient(network, 50000);
    client.connect(new Uint8Array(2048), T0);
    expect(client.state).toBe(ClientState.InvalidConnectToken);
    client.connect(makeToken({ now: T0, protocolId: PROTOCOL_ID + 1n }), T0);
    expect(client.state).toBe(ClientState.InvalidConnectToken);
    expect(network.queue).toHaveLength(0);
  });

  test('disconnects cleanly with redundant disconnect packets, and the server frees the slot', () => {
    const server = makeServer(network);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0 }), T0);
    network.flush();
    client.disconnect(T0 + 1);
    expect(network.queue.filter((d) => typeOf(d.data) === PacketType.ConnectionDisconnect)).toHaveLength(10);
    expect(client.state).toBe(ClientState.Disconnected);
    network.flush();
    expect(server.numConnectedClients).toBe(0);
  });

  test('goes to disconnected when the server disconnects it', () => {
    const server = makeServer(network);
    const client = makeClient(network, 50000);
    client.connect(makeToken({ now: T0 }), T0);
    network.flush();
    server.disconnectClient(client.clientIndex, T0 + 1);
    network.flush();
    expect(client.state).toBe(ClientState.Disconnected);
  });

  test('discards payloads before it is connected and datagrams from anyone but the server', () => {
    const received: Uint8Array[] = [];
    const server = makeServer(network);
    const client = makeClient(network, 50000, { onPayload: (p) => received.push(p.slice()) });
    client.connect(makeToken({ now: T0 }), T0);
    network.flush(2);
    expect(client.state).toBe(ClientState.SendingConnectionResponse);
    network.flush(1); // response → server: it connects the client and queues a keep-alive
    const keepAlive = network.queue.splice(0);
    server.sendPayload(0, new Uint8Array([1]), T0);
    // An unconfirmed slot sends a keep-alive in front of each payload; deliver only the payload.
    const sent = network.queue.splice(0);
    expect(sent.map((d) => typeOf(d.data))).toEqual([PacketType.ConnectionKeepAlive, PacketType.ConnectionPayload]);
    client.receive(sent[1]!.data, sent[1]!.fromHost, sent[1]!.fromPort, T0);
    expect(received).toHaveLength(0);
    expect(client.rejected.get('wrong-state')).toBe(1);
    for (const d of keepAlive) client.receive(d.data, '127.0.0.2', d.fromPort, T0);
    expect(client.state).toBe(ClientState.SendingConnectionResponse);
    expect(client.rejected.get('wrong-sender')).toBe(1);
    for (const d of keepAlive) client.receive(d.data, d.fromHost, d.fromPort, T0);
    expect(client.connected).toBe(true);
  });

  test('payloads flow both ways once connected and keep-alives keep an idle link up', () => {
    const toServer: string[] = [];
    const toClient: string[] = [];
    const receivedAt: number[] = [];
    const server = makeServer(network, {
      onPayload: (_i, p, at) => {
        toServer.push(new TextDecoder().decode(p));
        receivedAt.push(at);
      },
    });
    const client: NetcodeClient = makeClient(network, 50000, { onPayload: (p) => toClient.push(new TextDecoder().decode(p)) });
    client.connect(makeToken({ now: T0, timeoutSeconds: 2 }), T0);
    network.flush();
    client.sendPayload(new TextEncoder().encode('ping'), T0);
    server.sendPayload(0, new TextEncoder().encode('pong'), T0);
    // The payload's time is the one its datagram was received with (a game reading at wakes gives its arrival).
    clock.now = T0 + 0.25;
    network.flush();
    expect(toServer).toEqual(['ping']);
    expect(receivedAt).toEqual([T0 + 0.25]);
    expect(toClient).toEqual(['pong']);
    for (let t = T0; t < T0 + 10; t += 0.1) {
      clock.now = t;
      client.update(t);
      server.update(t);
      network.flush();
    }
    expect(client.connected).toBe(true);
    expect(server.numConnectedClients).toBe(1);
    expect(() => client.sendPayload(new Uint8Array(1201), clock.now)).toThrow(RangeError);
  });
});
