import { afterEach, describe, expect, test } from 'bun:test';
import { createRelay, type Relay } from '../../src/matchmaker/relay/relay.ts';
import type { RelayLimits, RelayPeer } from '../../src/matchmaker/relay/relay-model.ts';
import { RelayCloseCode } from '../../src/protocol/transport/websocket.ts';
import { GAME, udpEndpoint, waitFor } from './support.ts';

/** The relay's view of a WebSocket, recording what it is asked to do. */
class FakePeer implements RelayPeer {
  readonly sent: Uint8Array[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  status = 1;
  sendBinary(data: Uint8Array): number {
    this.sent.push(data.slice());
    return this.status;
  }
  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function setup(limits: Partial<RelayLimits> = {}) {
  const game = await udpEndpoint(true);
  const clock = { now: 1000 };
  const relay: Relay = createRelay({ resolveGame: (id) => (id === GAME ? { port: game.socket.port } : undefined), limits, now: () => clock.now });
  cleanups.push(() => {
    relay.closeAll();
    game.socket.close();
  });
  /** A tunnel whose UDP socket is bound, so frames go straight out instead of queueing. */
  async function openBound(peer = new FakePeer()) {
    const tunnel = relay.open(GAME, peer);
    if (tunnel === undefined) throw new Error('the relay refused the test game');
    await waitFor(() => tunnel.localPort !== undefined, 2000, 'bound');
    return { peer, tunnel };
  }
  return { relay, clock, game, openBound };
}

describe('relay tunnel (fake peer, fake clock)', () => {
  test('frames sent before the UDP socket is bound are queued, in order, up to the limit', async () => {
    const { relay, game } = await setup({ pendingFrames: 3 });
    const peer = new FakePeer();
    const tunnel = relay.open(GAME, peer);
    if (tunnel === undefined) throw new Error('refused');
    expect(tunnel.localPort).toBeUndefined();
    for (let i = 0; i < 5; i++) tunnel.fromClient(new Uint8Array([i]));
    await waitFor(() => game.received.length === 3 && peer.sent.length === 3, 2000, 'queued frames');
    expect(game.received.map((d) => d.data[0])).toEqual([0, 1, 2]);
    expect(relay.counters.drops.pending_overflow).toBe(2);
  });

  test('a tunnel closed while its socket is binding never keeps the socket', async () => {
    const { relay } = await setup();
    const peer = new FakePeer();
    const tunnel = relay.open(GAME, peer);
    if (tunnel === undefined) throw new Error('refused');
    tunnel.close('client_closed');
    await Bun.sleep(30);
    expect(tunnel.localPort).toBeUndefined();
    expect(relay.counters.boundUdpSockets).toBe(0);
    expect(relay.openSockets).toBe(0);
    expect(peer.closes).toEqual([]);
  });

  test('token bucket: the burst at once, then the rate', async () => {
    const { relay, clock, openBound } = await setup({ framesPerSecond: 10, burstFrames: 5, floodCloseAfterDrops: 100 });
    const { peer, tunnel } = await openBound();
    for (let i = 0; i < 8; i++) tunnel.fromClient(new Uint8Array([i]));
    expect(relay.counters.toGame.frames).toBe(5);
    expect(relay.counters.drops.rate_limited).toBe(3);
    clock.now += 200; // two tokens back
    for (let i = 0; i < 3; i++) tunnel.fromClient(new Uint8Array([i]));
    expect(relay.counters.toGame.frames).toBe(7);
    expect(relay.counters.drops.rate_limited).toBe(4);
    expect(peer.closes).toEqual([]);
  });

  test('a sustained flood closes once after floodCloseAfterDrops drops; a refill to full resets the count', async () => {
    const { relay, clock, openBound } = await setup({ framesPerSecond: 10, burstFrames: 5, floodCloseAfterDrops: 4 });
    const { peer, tunnel } = await openBound();
    for (let i = 0; i < 8; i++) tunnel.fromClient(new Uint8Array([i])); // 5 pass, 3 dropped
    clock.now += 1000; // bucket full again: the flood is forgiven
    for (let i = 0; i < 8; i++) tunnel.fromClient(new Uint8Array([i])); // 5 pass, 3 dropped: 3 < 4
    expect(peer.closes).toEqual([]);
    expect(tunnel.isClosed).toBe(false);
    tunnel.fromClient(new Uint8Array([0])); // 4th drop of this flood
    expect(peer.closes).toEqual([{ code: RelayCloseCode.RateLimited, reason: 'frame rate limit exceeded' }]);
    for (let i = 0; i < 10; i++) tunnel.fromClient(new Uint8Array([i]));
    tunnel.close('client_closed');
    expect(peer.closes).toHaveLength(1);
    expect(relay.counters.closes).toMatchObject({ rate_limited: 1, client_closed: 0 });
    expect(relay.openSockets).toBe(0);
  });

  test('a WebSocket that refuses a frame (backpressure) counts a drop, not a send', async () => {
    const { relay, openBound } = await setup();
    const peer = new FakePeer();
    peer.status = 0;
    const { tunnel } = await openBound(peer);
    tunnel.fromClient(new Uint8Array([1]));
    await waitFor(() => relay.counters.drops.client_backpressure === 1, 2000, 'backpressure drop');
    expect(relay.counters.toClient.frames).toBe(0);
  });

  test('every close path closes exactly once, whatever calls it next', async () => {
    const { relay, openBound } = await setup();
    const { peer, tunnel } = await openBound();
    tunnel.textFrame();
    tunnel.close('idle');
    relay.closeGame(GAME);
    relay.closeAll();
    tunnel.close('client_closed');
    expect(peer.closes).toEqual([{ code: RelayCloseCode.TextFrame, reason: 'binary frames only' }]);
    expect(relay.counters.closes).toMatchObject({ text_frame: 1, idle: 0, game_ended: 0, shutdown: 0, client_closed: 0 });
    expect(relay.counters.openSockets).toBe(0);
    expect(relay.counters.boundUdpSockets).toBe(0);
  });

  test('junk frames do not keep a tunnel alive: only forwarded traffic resets the idle time', async () => {
    const { relay, clock, openBound } = await setup({ idleTimeoutMs: 100 });
    const { peer, tunnel } = await openBound();
    const started = performance.now();
    while (!tunnel.isClosed && performance.now() - started < 2000) {
      clock.now += 20;
      tunnel.fromClient(new Uint8Array(5000));
      tunnel.fromClient(new Uint8Array(0));
      await Bun.sleep(10);
    }
    expect(peer.closes).toEqual([{ code: RelayCloseCode.Idle, reason: 'idle timeout' }]);
    expect(relay.counters.toGame.frames).toBe(0);
  });

  test('limits are validated', () => {
    expect(() => createRelay({ resolveGame: () => undefined, limits: { maxSockets: 0 } })).toThrow(RangeError);
    expect(() => createRelay({ resolveGame: () => undefined, limits: { framesPerSecond: Number.NaN } })).toThrow(RangeError);
    expect(() => createRelay({ resolveGame: () => undefined, limits: { burstFrames: 0.5 } })).toThrow(RangeError);
  });
});
