/**
 * The opt-in takeover (docs/PROTOCOL.md "Where we differ"): a client id connected from one address may be taken
 * over by a fresh, valid token from another address when the game says so. Everything else stays netcode 1.02.
 */
import { beforeEach, describe, expect, test } from 'bun:test';
import { ClientState } from '../../src/protocol/netcode/client.ts';
import type { ConnectedClient, DisconnectReason, NetcodeServerEvents } from '../../src/protocol/netcode/server.ts';
import { clock, makeClient, makeServer, makeToken, MemoryNetwork } from '../support/memory-link.ts';

const T0 = 1_700_000_000;

describe('netcode server takeover', () => {
  let network: MemoryNetwork;
  let disconnects: { port: number; reason: DisconnectReason }[];
  let connects: ConnectedClient[];
  beforeEach(() => {
    clock.now = T0;
    network = new MemoryNetwork();
    disconnects = [];
    connects = [];
  });

  const server = (takeover: NetcodeServerEvents['takeover'], maxClients = 4, extra: Partial<NetcodeServerEvents> = {}) =>
    makeServer(
      network,
      { ...(takeover ? { takeover } : {}), onConnect: (c) => connects.push(c), onDisconnect: (c, reason) => disconnects.push({ port: c.port, reason }), ...extra },
      maxClients,
    );

  /** A client whose connection request is queued, not yet delivered. */
  function begin(port: number, clientId: bigint, tokenOptions: Parameters<typeof makeToken>[0] = {}, events: Parameters<typeof makeClient>[2] = {}) {
    const client = makeClient(network, port, events);
    client.connect(makeToken({ now: T0, clientId, ...tokenOptions }), clock.now);
    return client;
  }

  function connect(...args: Parameters<typeof begin>) {
    const client = begin(...args);
    network.flush();
    return client;
  }

  test('a fresh token from another address replaces the connected client once the game agrees', () => {
    const asked: ConnectedClient[] = [];
    const s = server((existing) => (asked.push(existing), true));
    const old = connect(50000, 7n);
    const other = connect(50002, 8n);
    expect(old.connected).toBe(true);
    const fresh = connect(50001, 7n);
    expect(fresh.connected).toBe(true);
    expect(old.state).toBe(ClientState.Disconnected);
    expect(other.connected).toBe(true);
    expect(asked.map((c) => [c.clientId, c.port])).toEqual([[7n, 50000]]);
    expect(disconnects).toEqual([{ port: 50000, reason: 'replaced' }]);
    expect(connects.map((c) => [c.clientId, c.port])).toEqual([[7n, 50000], [8n, 50002], [7n, 50001]]);
    expect(s.numConnectedClients).toBe(2);
    expect(s.clients().map((c) => c.port).sort()).toEqual([50001, 50002]);
  });

  test('the hook sees the old connection still connected: a goodbye payload reaches it before the disconnect', () => {
    const received: number[][] = [];
    let s: ReturnType<typeof makeServer>;
    s = server((existing) => {
      s.sendPayload(existing.clientIndex, new Uint8Array([42]), clock.now);
      return true;
    });
    const old = connect(50000, 7n, {}, { onPayload: (p) => received.push([...p]) });
    connect(50001, 7n);
    expect(received).toEqual([[42]]);
    expect(old.state).toBe(ClientState.Disconnected);
  });

  test('a hook that says no leaves the old connection alone and ignores the new one', () => {
    const s = server(() => false);
    const old = connect(50000, 7n);
    const fresh = connect(50001, 7n);
    expect(old.connected).toBe(true);
    expect(fresh.connected).toBe(false);
    expect(s.dropped.get('already-connected')).toBeGreaterThan(0);
    expect(disconnects).toEqual([]);
  });

  test('the same address is still ignored, hook or not', () => {
    let asked = 0;
    const s = server(() => (++asked, true));
    const first = connect(50000, 7n);
    begin(50000, 7n);
    network.flush(1);
    expect(s.dropped.get('already-connected')).toBe(1);
    expect(asked).toBe(0);
    expect(first.connected).toBe(true);
  });

  test('token reuse and expiry still hold: a replayed or expired token cannot take a seat over', () => {
    let asked = 0;
    const s = server(() => (++asked, true));
    const owner = begin(50000, 7n);
    const request = network.queue[0]!.data.slice();
    network.flush();
    expect(owner.connected).toBe(true);
    // The owner's own request, sniffed and sent from elsewhere: refused before any challenge.
    network.queue.length = 0;
    s.receive(request, '10.0.0.9', 6000, T0 + 1);
    expect(s.dropped.get('token-reused')).toBe(1);
    expect(network.queue).toHaveLength(0);
    // A token already past its expiry.
    const late = connect(50001, 7n, { now: T0 - 100, expireSeconds: 30 });
    expect(late.connected).toBe(false);
    expect(s.dropped.get('expired')).toBe(1);
    expect(asked).toBe(0);
    expect(owner.connected).toBe(true);
    expect(disconnects).toEqual([]);
  });

  test('a sniffed handshake replayed from elsewhere cannot take over, even once the token history forgot it', () => {
    let asked = 0;
    const s = server(() => (++asked, true), 1);
    const owner = begin(50000, 7n);
    const request = network.queue[0]!.data.slice();
    network.flush(1); // the request reached the server; its challenge is queued for the owner
    network.flush(1); // the owner got the challenge; its response is queued
    const response = network.queue.find((d) => d.toPort !== 50000)!.data.slice();
    network.flush();
    expect(owner.connected).toBe(true);
    // Fresh tokens from other addresses push the owner's token out of the history (8 entries per slot).
    for (let i = 0; i < 8; i++) begin(51000 + i, 100n + BigInt(i));
    network.flush(1);
    network.queue.length = 0;
    // The owner's own request and response, replayed from another address: no challenge, no takeover.
    s.receive(request, '10.0.0.9', 6000, T0 + 1);
    s.receive(response, '10.0.0.9', 6000, T0 + 1);
    expect(asked).toBe(0);
    expect(owner.connected).toBe(true);
    expect(disconnects).toEqual([]);
    expect(s.dropped.get('token-reused')).toBe(1);
    expect(network.queue.filter((d) => d.toHost === '10.0.0.9')).toHaveLength(0);
  });

  test('the old connection is dropped only after the new address answers the challenge', () => {
    let asked = 0;
    const s = server(() => (++asked, true));
    const old = connect(50000, 7n);
    begin(50001, 7n);
    network.flush(1); // request delivered, the challenge is on its way back but never answered
    network.queue.length = 0;
    expect(asked).toBe(0);
    expect(old.connected).toBe(true);
    expect(s.numPendingMappings).toBe(1);
  });

  test('a full server still lets a connected client id move to a new address; the admit hook is still asked', () => {
    let admitted = 0;
    const s = server(() => true, 1, { admit: () => (++admitted, true) });
    const old = connect(50000, 7n);
    expect(connect(50002, 9n).state).toBe(ClientState.ConnectionDenied);
    const fresh = connect(50001, 7n);
    expect(fresh.connected).toBe(true);
    expect(old.state).toBe(ClientState.Disconnected);
    expect(s.numConnectedClients).toBe(1);
    expect(admitted).toBeGreaterThanOrEqual(3);
  });

  test('a refusing admit hook denies a takeover like any other connection', () => {
    let open = true;
    const s = server(() => true, 4, { admit: () => open });
    const old = connect(50000, 7n);
    open = false;
    expect(connect(50001, 7n).state).toBe(ClientState.ConnectionDenied);
    expect(old.connected).toBe(true);
    expect(s.numConnectedClients).toBe(1);
  });
});
