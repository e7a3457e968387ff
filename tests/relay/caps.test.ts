/**
 * The relay's caps at every --max-games and its idle rule (issue 9): an outside tester found that with
 * `--max-games 2` one address could hold every tunnel (the global cap was below the per-address one), and that a
 * frame every 5 s kept a tunnel open past its idle limit although the game never answered.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { defaultConfig } from '../../src/config.ts';
import { createRelay, type Relay } from '../../src/matchmaker/relay/relay.ts';
import { relayCaps, type RelayLimits, type RelayPeer } from '../../src/matchmaker/relay/relay-model.ts';
import { RelayCloseCode } from '../../src/protocol/transport/websocket.ts';
import { udpEndpoint, waitFor } from './support.ts';

class FakePeer implements RelayPeer {
  readonly closes: { code: number; reason: string }[] = [];
  sendBinary(): number {
    return 1;
  }
  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A relay over `games` UDP endpoints (ids game-0, game-1, …), echoing or silent, on a hand clock. */
async function setup(games: number, echo: boolean, limits: Partial<RelayLimits>) {
  const endpoints = await Promise.all(Array.from({ length: games }, () => udpEndpoint(echo)));
  const clock = { now: 1000 };
  const relay: Relay = createRelay({
    resolveGame: (id) => {
      const endpoint = endpoints[Number(/^game-(\d+)$/.exec(id)?.[1] ?? -1)];
      return endpoint ? { port: endpoint.socket.port } : undefined;
    },
    limits,
    now: () => clock.now,
  });
  cleanups.push(() => {
    relay.closeAll();
    for (const endpoint of endpoints) endpoint.socket.close();
  });
  return { relay, clock, endpoints };
}

describe('relay caps from the settings', () => {
  const defaults = defaultConfig();

  test('at every --max-games: per address at most half of the global cap, per game its seats + spectators + slack', () => {
    for (const maxGames of [1, 2, 3, 8, 32, 100, 10_000]) {
      const caps = relayCaps({ ...defaults, maxGames });
      const perGame = defaults.maxPlayers + defaults.maxSpectators + defaults.maxPlayers;
      expect(caps.maxSocketsPerGame).toBe(perGame);
      expect(caps.maxSockets).toBe(maxGames * perGame);
      expect(caps.maxSocketsPerAddress).toBeLessThanOrEqual(Math.max(1, caps.maxSockets / 2));
      expect(caps.maxSocketsPerAddress).toBeLessThanOrEqual(defaults.relayMaxPerAddress);
      // Whoever holds a game's id, the rest of that game's tunnels still cover every player seat.
      expect(caps.maxSocketsPerGame - caps.maxSocketsPerAddressPerGame).toBeGreaterThanOrEqual(defaults.maxPlayers);
    }
    // The tester's case: --max-games 2 used to give a global cap of 32 against 64 per address.
    expect(relayCaps({ ...defaults, maxGames: 2 })).toEqual({ maxSockets: 64, maxSocketsPerGame: 32, maxSocketsPerAddress: 32, maxSocketsPerAddressPerGame: 16 });
  });

  test('--max-games 2: one address cannot hold every tunnel, nor all of one game; others still get in', async () => {
    const caps = relayCaps({ ...defaults, maxGames: 2 });
    const { relay } = await setup(2, true, caps);
    const attacker = '192.0.2.66';
    const opened = (game: string, address: string, tries: number) => {
      let n = 0;
      for (let i = 0; i < tries; i++) if (relay.open(game, new FakePeer(), address)) n++;
      return n;
    };
    // One game: half its tunnels, then 4503.
    expect(opened('game-0', attacker, 100)).toBe(caps.maxSocketsPerAddressPerGame);
    expect(relay.counters.refused.game_capacity).toBe(100 - caps.maxSocketsPerAddressPerGame);
    // The other game too: now the address is at its overall share (half the global cap), which it cannot pass.
    expect(opened('game-1', attacker, 100)).toBe(caps.maxSocketsPerAddress - caps.maxSocketsPerAddressPerGame);
    expect(relay.openSockets).toBe(caps.maxSocketsPerAddress);
    expect(relay.openSockets).toBeLessThanOrEqual(caps.maxSockets / 2);
    // Eight players of game-0 from eight other addresses all get their tunnel.
    for (let player = 1; player <= defaults.maxPlayers; player++) expect(opened('game-0', `198.51.100.${player}`, 1)).toBe(1);
    // And a refused peer hears 4503 (here for the address's overall share, counted apart from the game's).
    const refusedPeer = new FakePeer();
    expect(relay.open('game-0', refusedPeer, attacker)).toBeUndefined();
    expect(refusedPeer.closes).toEqual([{ code: RelayCloseCode.AtCapacity, reason: 'too many tunnels from this address' }]);
    expect(relay.counters.refused.address_capacity).toBeGreaterThan(0);
  });

  test('a game never holds more than its own cap, whatever the addresses', async () => {
    const caps = relayCaps({ ...defaults, maxGames: 2 });
    const { relay } = await setup(2, true, caps);
    let opened = 0;
    for (let i = 0; i < 200; i++) if (relay.open('game-0', new FakePeer(), `203.0.113.${i}`)) opened++;
    expect(opened).toBe(caps.maxSocketsPerGame);
    // The other game's players are untouched by the first game's crowd.
    expect(relay.open('game-1', new FakePeer(), '198.51.100.1')).toBeDefined();
  });
});

describe('relay idle rule: only what the game answers counts', () => {
  test('a frame every 5 s to a game that never answers does not keep the tunnel past the idle limit', async () => {
    const { relay, clock, endpoints } = await setup(1, false, { idleTimeoutMs: 20_000 });
    const peer = new FakePeer();
    const tunnel = relay.open('game-0', peer, '192.0.2.1');
    if (!tunnel) throw new Error('refused');
    await waitFor(() => tunnel.localPort !== undefined, 2000, 'bound');
    const opened = clock.now;
    let closedAt: number | undefined;
    // 60 s of simulated time, a netcode-sized frame every 5 s, the sweep run every simulated second.
    for (let t = 0; t < 60 && closedAt === undefined; t++) {
      clock.now = opened + t * 1000;
      if (t % 5 === 0) tunnel.fromClient(new Uint8Array(200).fill(t));
      (relay as unknown as { sweep(): void }).sweep();
      if (tunnel.isClosed) closedAt = clock.now - opened;
    }
    expect(closedAt).toBe(20_000);
    expect(peer.closes).toEqual([{ code: RelayCloseCode.Idle, reason: 'idle timeout' }]);
    // The frames were forwarded (valid size): they were simply never answered.
    await waitFor(() => endpoints[0]!.received.length >= 4, 2000, 'the frames to reach the game');
  });

  test('a game that answers keeps its tunnel open', async () => {
    const { relay, clock } = await setup(1, true, { idleTimeoutMs: 20_000 });
    const peer = new FakePeer();
    const tunnel = relay.open('game-0', peer, '192.0.2.1');
    if (!tunnel) throw new Error('refused');
    await waitFor(() => tunnel.localPort !== undefined, 2000, 'bound');
    const opened = clock.now;
    for (let t = 0; t < 60; t++) {
      clock.now = opened + t * 1000;
      if (t % 5 === 0) {
        const before = relay.counters.toClient.frames;
        tunnel.fromClient(new Uint8Array(200).fill(t));
        await waitFor(() => relay.counters.toClient.frames > before, 2000, 'the echo');
      }
      (relay as unknown as { sweep(): void }).sweep();
    }
    expect(tunnel.isClosed).toBe(false);
    expect(peer.closes).toEqual([]);
  });
});
