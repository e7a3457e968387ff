import { afterEach, describe, expect, test } from 'bun:test';
import { MAX_RELAY_FRAME_BYTES } from '../../src/matchmaker/relay/relay-model.ts';
import { RelayCloseCode } from '../../src/protocol/transport/websocket.ts';
import { portIsFree } from '../matchmaker/support/env.ts';
import { closeOf, GAME, type Harness, openClient, randomBytes, startHarness, udpEndpoint, UPGRADE_HEADERS, waitFor } from './support.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function start(...args: Parameters<typeof startHarness>): Promise<Harness> {
  harness = await startHarness(...args);
  return harness;
}

describe('relay: forwarding', () => {
  test('WS → UDP → WS round trip is byte-exact for every valid size, from one loopback socket per tunnel', async () => {
    const h = await start();
    const client = await h.connect();
    const sizes = [1, 16, 100, 1078, 1200, MAX_RELAY_FRAME_BYTES];
    const sent = sizes.map(randomBytes);
    for (const frame of sent) client.ws.send(frame);
    await waitFor(() => client.messages.length === sent.length, 2000, 'all echoes');
    expect(client.messages).toEqual(sent);
    const [tunnel] = h.relay.tunnels(GAME);
    expect(h.echoed.map((d) => d.address)).toEqual(sizes.map(() => '127.0.0.1'));
    expect([...new Set(h.echoed.map((d) => d.port))]).toEqual([tunnel?.localPort as number]);
    expect(h.relay.counters.toGame).toEqual({ frames: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0) });
    expect(h.relay.counters.toClient.frames).toBe(sizes.length);
  });

  test('two tunnels to one game use two UDP sockets and never see each other’s datagrams', async () => {
    const h = await start();
    const a = await h.connect();
    const b = await h.connect();
    a.ws.send(new Uint8Array([0xaa]));
    b.ws.send(new Uint8Array([0xbb]));
    await waitFor(() => a.messages.length === 1 && b.messages.length === 1, 2000, 'echoes');
    expect(a.messages).toEqual([new Uint8Array([0xaa])]);
    expect(b.messages).toEqual([new Uint8Array([0xbb])]);
    expect(new Set(h.echoed.map((d) => d.port)).size).toBe(2);
  });

  test('a datagram from a foreign UDP source is not forwarded to the client', async () => {
    const h = await start();
    const client = await h.connect();
    client.ws.send(new Uint8Array([1]));
    await waitFor(() => client.messages.length === 1, 2000, 'first echo');
    const localPort = h.relay.tunnels(GAME)[0]?.localPort;
    expect(localPort).toBeNumber();
    const { socket: intruder } = await udpEndpoint(false);
    for (let i = 0; i < 20; i++) {
      try {
        intruder.send(new Uint8Array([0x66, i]), localPort as number, '127.0.0.1');
      } catch {
        // ECONNREFUSED: the tunnel's socket is connected to the game, so the kernel answers strangers with ICMP.
      }
      await Bun.sleep(1);
    }
    client.ws.send(new Uint8Array([2]));
    await waitFor(() => client.messages.length >= 2, 2000, 'second echo');
    await Bun.sleep(50);
    intruder.close();
    expect(client.messages).toEqual([new Uint8Array([1]), new Uint8Array([2])]);
  });
});

describe('relay: refusals', () => {
  test('no game, a malformed game id, or an address instead of an id: 400 JSON before the upgrade', async () => {
    const h = await start();
    for (const query of ['', '?game=', '?game=127.0.0.1:9', '?game=..%2Fetc', `?game=${'x'.repeat(65)}`, '?port=9&host=127.0.0.1']) {
      const response = await fetch(`http://${h.base}/relay${query}`, { headers: UPGRADE_HEADERS });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { code: 'bad_request', message: expect.stringContaining('game') } });
    }
    expect(h.relay.counters.refused.bad_request).toBe(6);
    expect(h.relay.counters.opened).toBe(0);
  });

  test('an unknown game: 404 JSON before the upgrade, and a WebSocket never opens', async () => {
    const h = await start();
    const response = await fetch(`http://${h.base}/relay?game=nope`, { headers: UPGRADE_HEADERS });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no live game has this id' } });
    expect(openClient(h.url('nope'))).rejects.toThrow('refused');
    await waitFor(() => h.relay.counters.refused.unknown_game === 2, 2000, 'refusal');
    expect(h.relay.counters.opened).toBe(0);
    expect(h.relay.counters.boundUdpSockets).toBe(0);
  });

  test('no parameter can name a port: extra host/port parameters are ignored and only the game is reached', async () => {
    const h = await start();
    const { socket: victim, received } = await udpEndpoint(false);
    const client = await openClient(`ws://${h.base}/relay?game=${GAME}&port=${victim.port}&host=127.0.0.1`);
    client.ws.send(new Uint8Array([7, 7]));
    await waitFor(() => client.messages.length === 1, 2000, 'echo');
    await Bun.sleep(30);
    victim.close();
    client.ws.close();
    expect(received).toHaveLength(0);
    expect(h.echoed).toHaveLength(1);
  });

  test('a resolver that throws or returns a bad port is treated as "not live", never a crash', async () => {
    const h = await start();
    h.games.set('bad-port', { port: 70000 });
    const throwing = await startHarness({}, { resolveGame: () => { throw new Error('registry down'); } });
    try {
      for (const [base, game] of [[h.base, 'bad-port'], [throwing.base, GAME]] as const) {
        const response = await fetch(`http://${base}/relay?game=${game}`, { headers: UPGRADE_HEADERS });
        expect(response.status).toBe(404);
        expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no live game has this id' } });
      }
    } finally {
      await throwing.stop();
    }
  });

  test('over the global cap, a new WebSocket is closed with 4503', async () => {
    const h = await start({ maxSockets: 2 });
    await h.connect();
    await h.connect();
    const third = await h.connect();
    expect(await closeOf(third)).toEqual({ code: RelayCloseCode.AtCapacity, reason: 'relay at capacity' });
    expect(h.relay.counters.refused.capacity).toBe(1);
    expect(h.relay.openSockets).toBe(2);
  });
});

describe('relay: game end', () => {
  test('closeGame closes the game’s open tunnels with 4410, frees their ports, and the game is refused after', async () => {
    const h = await start();
    const a = await h.connect();
    const b = await h.connect();
    a.ws.send(new Uint8Array([1]));
    b.ws.send(new Uint8Array([1]));
    await waitFor(() => h.relay.counters.boundUdpSockets === 2, 2000, 'bound sockets');
    const ports = h.relay.tunnels(GAME).map((t) => t.localPort as number);
    h.games.delete(GAME);
    expect(h.relay.closeGame(GAME)).toBe(2);
    expect(await closeOf(a)).toEqual({ code: RelayCloseCode.GameEnded, reason: 'game ended' });
    expect(await closeOf(b)).toEqual({ code: RelayCloseCode.GameEnded, reason: 'game ended' });
    expect(h.relay.counters.openSockets).toBe(0);
    expect(h.relay.counters.boundUdpSockets).toBe(0);
    for (const port of ports) expect(await portIsFree(port)).toBe(true);
    const response = await fetch(`http://${h.base}/relay?game=${GAME}`, { headers: UPGRADE_HEADERS });
    expect(response.status).toBe(404);
    expect(h.relay.closeGame(GAME)).toBe(0);
  });

  test('a game that leaves the registry without closeGame is still closed, by the sweep', async () => {
    const h = await start({ idleTimeoutMs: 400 });
    const client = await h.connect();
    h.games.delete(GAME);
    const started = performance.now();
    expect((await closeOf(client)).code).toBe(RelayCloseCode.GameEnded);
    expect(performance.now() - started).toBeLessThan(400);
  });

  test('a game whose UDP port stops answering closes its tunnel with 4502', async () => {
    const h = await start();
    const client = await h.connect();
    client.ws.send(new Uint8Array([1]));
    await waitFor(() => client.messages.length === 1, 2000, 'echo');
    h.echo.close();
    client.ws.send(new Uint8Array([2]));
    expect(await closeOf(client)).toEqual({ code: RelayCloseCode.GameUnreachable, reason: 'game unreachable' });
    expect(h.relay.counters.boundUdpSockets).toBe(0);
  });

  test('closeAll (server shutdown) closes every tunnel with 1001', async () => {
    const h = await start();
    const client = await h.connect();
    h.relay.closeAll();
    expect((await closeOf(client)).code).toBe(RelayCloseCode.GoingAway);
    expect(h.relay.openSockets).toBe(0);
  });
});

describe('relay: abuse', () => {
  test('oversized and empty frames are dropped and counted; the tunnel stays up', async () => {
    const h = await start();
    const client = await h.connect();
    client.ws.send(randomBytes(MAX_RELAY_FRAME_BYTES + 1));
    client.ws.send(randomBytes(64 * 1024));
    client.ws.send(new Uint8Array(0));
    client.ws.send(new Uint8Array([9]));
    await waitFor(() => client.messages.length === 1, 2000, 'echo of the valid frame');
    expect(client.messages).toEqual([new Uint8Array([9])]);
    expect(h.echoed.map((d) => d.data.length)).toEqual([1]);
    expect(h.relay.counters.drops.oversize).toBe(2);
    expect(h.relay.counters.drops.empty).toBe(1);
    expect(client.isClosed()).toBe(false);
  });

  test('a text frame closes the tunnel with 4400 and frees its UDP socket', async () => {
    const h = await start();
    const client = await h.connect();
    client.ws.send(new Uint8Array([1]));
    await waitFor(() => client.messages.length === 1, 2000, 'echo');
    const port = h.relay.tunnels(GAME)[0]?.localPort as number;
    client.ws.send('{"port": 22}');
    expect(await closeOf(client)).toEqual({ code: RelayCloseCode.TextFrame, reason: 'binary frames only' });
    expect(h.relay.counters.closes.text_frame).toBe(1);
    expect(h.relay.counters.boundUdpSockets).toBe(0);
    expect(await portIsFree(port)).toBe(true);
  });

  test('a burst over the rate is cut to the bucket; a sustained flood closes the tunnel with 4429', async () => {
    const h = await start({ framesPerSecond: 20, burstFrames: 30, floodCloseAfterDrops: 200 });
    const client = await h.connect();
    client.ws.send(new Uint8Array([0]));
    await waitFor(() => client.messages.length === 1, 2000, 'bound');
    for (let i = 0; i < 100; i++) client.ws.send(new Uint8Array([1, i]));
    await waitFor(() => h.relay.counters.drops.rate_limited >= 60, 2000, 'rate drops');
    await Bun.sleep(50);
    // 30 in the bucket at most, plus what refilled at 20/s while the frames were in flight.
    expect(h.echoed.length).toBeGreaterThanOrEqual(30);
    expect(h.echoed.length).toBeLessThanOrEqual(34);
    expect(client.isClosed()).toBe(false);
    for (let i = 0; i < 300; i++) client.ws.send(new Uint8Array([2, i]));
    expect(await closeOf(client)).toEqual({ code: RelayCloseCode.RateLimited, reason: 'frame rate limit exceeded' });
    expect(h.relay.counters.closes.rate_limited).toBe(1);
    expect(h.relay.counters.boundUdpSockets).toBe(0);
  });

  test('an idle tunnel is closed with 4408; one with traffic is not', async () => {
    const h = await start({ idleTimeoutMs: 300 });
    const idle = await h.connect();
    const busy = await h.connect();
    const started = performance.now();
    const ticker = setInterval(() => busy.ws.send(new Uint8Array([1])), 50);
    try {
      expect(await closeOf(idle)).toEqual({ code: RelayCloseCode.Idle, reason: 'idle timeout' });
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1000);
      await Bun.sleep(200);
      expect(busy.isClosed()).toBe(false);
    } finally {
      clearInterval(ticker);
    }
  });
});

describe('relay: cleanup', () => {
  test('closing the WebSocket closes its UDP socket: the count drops and the port can be bound again', async () => {
    const h = await start();
    const client = await h.connect();
    client.ws.send(new Uint8Array([1]));
    await waitFor(() => client.messages.length === 1, 2000, 'echo');
    const port = h.relay.tunnels(GAME)[0]?.localPort as number;
    expect(await portIsFree(port)).toBe(false);
    client.ws.close();
    await waitFor(() => h.relay.openSockets === 0, 2000, 'tunnel closed');
    expect(h.relay.counters.boundUdpSockets).toBe(0);
    expect(h.relay.counters.closes.client_closed).toBe(1);
    expect(await portIsFree(port)).toBe(true);
  });

  test('200 sockets opened and dropped, some mid-handshake, leave nothing open', async () => {
    // All 200 come from 127.0.0.1: room for them under the per-address share (pinned in tests/hardening/relay-abuse).
    const h = await start({ maxSocketsPerAddress: 256 });
    const clients = await Promise.all(Array.from({ length: 200 }, () => h.connect()));
    await waitFor(() => h.relay.counters.boundUdpSockets === 200, 5000, '200 bound sockets');
    const ports = h.relay.tunnels().map((t) => t.localPort as number);
    expect(new Set(ports).size).toBe(200);
    clients.forEach((client, i) => {
      if (i % 2 === 0) client.ws.send(new Uint8Array([i & 0xff]));
      client.ws.close();
    });
    // And 50 more that go away before they ever open.
    for (let i = 0; i < 50; i++) new WebSocket(h.url()).close();
    await waitFor(() => h.relay.openSockets === 0 && h.relay.counters.boundUdpSockets === 0, 5000, 'all closed');
    await Bun.sleep(100);
    expect(h.relay.openSockets).toBe(0);
    expect(h.relay.counters.boundUdpSockets).toBe(0);
    expect(h.relay.tunnels()).toHaveLength(0);
    const stillBound = (await Promise.all(ports.map(portIsFree))).filter((free) => !free);
    expect(stillBound).toHaveLength(0);
  });

  test('metrics render every family with the counters', async () => {
    const h = await start();
    const client = await h.connect();
    client.ws.send(new Uint8Array([1, 2, 3]));
    await waitFor(() => client.messages.length === 1, 2000, 'echo');
    const text = h.relay.metrics();
    expect(text).toContain('huddle_relay_sockets 1\n');
    expect(text).toContain('huddle_relay_frames_total{direction="to_game"} 1\n');
    expect(text).toContain('huddle_relay_bytes_total{direction="to_client"} 3\n');
    expect(text).toContain('huddle_relay_dropped_total{reason="oversize"} 0\n');
    expect(text).toContain('huddle_relay_closed_total{reason="idle"} 0\n');
    expect(text).toContain('huddle_relay_refused_total{reason="capacity"} 0\n');
  });
});
