import { RelayCloseCode } from '../../protocol/transport/websocket.ts';
import { renderRelayMetrics } from './relay-metrics.ts';
import {
  DEFAULT_RELAY_LIMITS,
  emptyCounters,
  type RefusalReason,
  type RelayCounters,
  type RelayLimits,
  type RelayOptions,
  type RelayPeer,
  type RelayTarget,
  type ResolveGame,
} from './relay-model.ts';
import { RelayTunnel } from './tunnel.ts';

/** Game ids are opaque to the relay but short and URL-safe; anything else is refused before a lookup. */
const GAME_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type RelayAdmission = { ok: true; target: RelayTarget } | { ok: false; reason: 'bad_request' | 'unknown_game'; message: string };

/**
 * The WebSocket-to-UDP relay: browsers reach a live game's UDP port through it, and nothing else. A tunnel is
 * named by game id only; the port comes from `resolveGame`, so no client input ever becomes a destination.
 * Transport-agnostic (the WebSocket side is a RelayPeer); relay-routes.ts mounts it on Elysia.
 */
export class Relay {
  readonly counters: RelayCounters = emptyCounters();
  readonly limits: Readonly<RelayLimits>;
  private readonly resolveGame: ResolveGame;
  private readonly gameHost: string;
  private readonly now: () => number;
  private readonly byGame = new Map<string, Set<RelayTunnel>>();
  /** Open tunnels per client address, and each tunnel's address, for `maxSocketsPerAddress`. */
  private readonly perAddress = new Map<string, number>();
  private readonly addressOf = new Map<RelayTunnel, string>();
  /** Open tunnels per (address, game), for `maxSocketsPerAddressPerGame`. */
  private readonly perAddressGame = new Map<string, number>();
  private readonly sweepMs: number;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly forget = (tunnel: RelayTunnel) => this.forgetTunnel(tunnel);

  constructor(options: RelayOptions) {
    const given = options.limits ?? {};
    // Per-game caps apply where they are set (the server sets them from relayCaps); otherwise they add nothing.
    const base = { ...DEFAULT_RELAY_LIMITS, ...given };
    const limits = {
      ...base,
      maxSocketsPerGame: given.maxSocketsPerGame ?? base.maxSockets,
      maxSocketsPerAddressPerGame: given.maxSocketsPerAddressPerGame ?? base.maxSocketsPerAddress,
    };
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`relay limit ${name} must be a positive number, got ${value}`);
    }
    if (limits.burstFrames < 1) throw new RangeError('relay limit burstFrames must be at least 1');
    this.limits = limits;
    this.resolveGame = options.resolveGame;
    this.gameHost = options.gameHost ?? '127.0.0.1';
    this.now = options.now ?? (() => performance.now());
    // Idle tunnels close within a quarter of the idle time; a game that vanished is noticed within a second.
    this.sweepMs = Math.min(1000, Math.max(10, limits.idleTimeoutMs / 4));
  }

  get openSockets(): number {
    return this.counters.openSockets;
  }

  /** Whether a tunnel to `gameId` would be accepted now; the routes answer the upgrade with it. */
  admit(gameId: unknown): RelayAdmission {
    if (typeof gameId !== 'string' || !GAME_ID.test(gameId)) {
      return { ok: false, reason: 'bad_request', message: 'name the game to reach: /relay?game=<gameId>' };
    }
    const target = this.lookup(gameId);
    if (target === undefined) return { ok: false, reason: 'unknown_game', message: 'no live game has this id' };
    return { ok: true, target };
  }

  /** Counts a refusal answered before the upgrade (HTTP status, no WebSocket). */
  refused(reason: RefusalReason): void {
    this.counters.refused[reason]++;
  }

  /**
   * Opens a tunnel for a WebSocket that has just been accepted. Re-checks the game (it may have ended since the
   * upgrade), the global cap and the cap of the client's `address`; a refusal closes the peer with a code and
   * returns undefined.
   */
  open(gameId: string, peer: RelayPeer, address?: string): RelayTunnel | undefined {
    if (this.counters.openSockets >= this.limits.maxSockets) {
      this.refused('capacity');
      peer.close(RelayCloseCode.AtCapacity, 'relay at capacity');
      return undefined;
    }
    if (address !== undefined && (this.perAddress.get(address) ?? 0) >= this.limits.maxSocketsPerAddress) {
      this.refused('address_capacity');
      peer.close(RelayCloseCode.AtCapacity, 'too many tunnels from this address');
      return undefined;
    }
    const ofGame = this.byGame.get(gameId)?.size ?? 0;
    const pair = address === undefined ? undefined : `${address} ${gameId}`;
    if (ofGame >= this.limits.maxSocketsPerGame || (pair !== undefined && (this.perAddressGame.get(pair) ?? 0) >= this.limits.maxSocketsPerAddressPerGame)) {
      this.refused('game_capacity');
      peer.close(RelayCloseCode.AtCapacity, 'too many tunnels to this game');
      return undefined;
    }
    const target = this.lookup(gameId);
    if (target === undefined) {
      this.refused('unknown_game');
      peer.close(RelayCloseCode.UnknownGame, 'unknown game');
      return undefined;
    }
    const tunnel = new RelayTunnel(peer, {
      gameId,
      gameHost: this.gameHost,
      gamePort: target.port,
      limits: this.limits,
      counters: this.counters,
      now: this.now,
      onClosed: this.forget,
    });
    let tunnels = this.byGame.get(gameId);
    if (tunnels === undefined) this.byGame.set(gameId, (tunnels = new Set()));
    tunnels.add(tunnel);
    if (address !== undefined && !tunnel.isClosed) {
      this.addressOf.set(tunnel, address);
      this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
      const pairKey = `${address} ${gameId}`;
      this.perAddressGame.set(pairKey, (this.perAddressGame.get(pairKey) ?? 0) + 1);
    }
    this.sweepTimer ??= setInterval(() => this.sweep(), this.sweepMs);
    return tunnel;
  }

  /**
   * The registry says a game is no longer live: close its tunnels (4410). Call it before the game's port is
   * released, so a tunnel can never outlive its game and reach the next game bound to that port.
   */
  closeGame(gameId: string): number {
    const tunnels = this.byGame.get(gameId);
    if (tunnels === undefined) return 0;
    const count = tunnels.size;
    for (const tunnel of [...tunnels]) tunnel.close('game_ended');
    return count;
  }

  /** Server shutdown: every tunnel is closed with 1001. */
  closeAll(): void {
    for (const tunnels of [...this.byGame.values()]) for (const tunnel of [...tunnels]) tunnel.close('shutdown');
  }

  /** Open tunnels, of one game or all: for diagnostics and tests. */
  tunnels(gameId?: string): RelayTunnel[] {
    if (gameId !== undefined) return [...(this.byGame.get(gameId) ?? [])];
    return [...this.byGame.values()].flatMap((tunnels) => [...tunnels]);
  }

  /** The relay's lines for `/metrics` (Prometheus text format). */
  metrics(): string {
    return renderRelayMetrics(this.counters);
  }

  /** A resolver that throws or answers nonsense must not take the relay down: treat it as "not live". */
  private lookup(gameId: string): RelayTarget | undefined {
    let target: RelayTarget | undefined;
    try {
      target = this.resolveGame(gameId);
    } catch {
      return undefined;
    }
    if (target === undefined || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535) return undefined;
    return target;
  }

  /** Idle tunnels close; so do tunnels whose game is no longer live, in case `closeGame` was never called. */
  private sweep(): void {
    const now = this.now();
    for (const [gameId, tunnels] of [...this.byGame]) {
      const port = this.lookup(gameId)?.port;
      for (const tunnel of [...tunnels]) {
        if (tunnel.gamePort !== port) tunnel.close('game_ended');
        else tunnel.sweep(now);
      }
    }
  }

  private forgetTunnel(tunnel: RelayTunnel): void {
    const address = this.addressOf.get(tunnel);
    if (address !== undefined) {
      this.addressOf.delete(tunnel);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      const pairKey = `${address} ${tunnel.gameId}`;
      const leftInGame = (this.perAddressGame.get(pairKey) ?? 1) - 1;
      if (leftInGame > 0) this.perAddressGame.set(pairKey, leftInGame);
      else this.perAddressGame.delete(pairKey);
    }
    const tunnels = this.byGame.get(tunnel.gameId);
    if (tunnels === undefined) return;
    tunnels.delete(tunnel);
    if (tunnels.size > 0) return;
    this.byGame.delete(tunnel.gameId);
    if (this.byGame.size === 0 && this.sweepTimer !== undefined) {
      // No tunnels, no timer: an idle relay keeps nothing scheduled (and tests exit cleanly).
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}

export function createRelay(options: RelayOptions): Relay {
  return new Relay(options);
}
