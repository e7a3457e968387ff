import { CONNECTION_REQUEST_BYTES, MAX_PACKET_BYTES } from '../../protocol/netcode/constants.ts';

/** The largest datagram netcode ever sends either way: anything bigger is not netcode, so never forwarded. */
export const MAX_RELAY_FRAME_BYTES = Math.max(MAX_PACKET_BYTES, CONNECTION_REQUEST_BYTES);

/** A live game as the relay needs to know it: the UDP port of its worker on loopback. */
export interface RelayTarget {
  port: number;
}

/** Answers "is this game live, and where is it" from the game registry; undefined for unknown or ended games. */
export type ResolveGame = (gameId: string) => RelayTarget | undefined;

export interface RelayLimits {
  /** Tunnels open at once across all games; more are closed with 4503. */
  maxSockets: number;
  /**
   * Tunnels open at once from one client address (the WebSocket's peer address); more are closed with 4503. Without
   * it, one client knowing any live game id could hold every tunnel of `maxSockets` and lock all web players out.
   */
  maxSocketsPerAddress: number;
  /**
   * Tunnels open at once to one game: its seats, its spectators and slack for rejoins that overlap their old tunnel.
   * One game (an attacker's own, say) can never take the tunnels another game's players need.
   */
  maxSocketsPerGame: number;
  /**
   * Tunnels one client address may hold to one game: half of `maxSocketsPerGame`, so the other half still covers
   * every player seat of that game whoever holds its id.
   */
  maxSocketsPerAddressPerGame: number;
  /** Sustained client→game frames per second per tunnel (netcode sends ~10–60/s in play). */
  framesPerSecond: number;
  /** Frames a tunnel may send in a burst above the rate. */
  burstFrames: number;
  /**
   * Frames dropped for rate in one flood (without the bucket refilling to full in between) before the tunnel
   * is closed with 4429: a short burst costs a few frames, a sustained flood costs the tunnel.
   */
  floodCloseAfterDrops: number;
  /**
   * Nothing from the game for this long closes the tunnel. Only the game's datagrams count: netcode keeps a live
   * connection busy at 10 Hz both ways, and a client whose frames the game never answers is not playing.
   */
  idleTimeoutMs: number;
  /** Frames queued while the tunnel's UDP socket is still binding; more are dropped. */
  pendingFrames: number;
}

export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = {
  maxSockets: 1024,
  maxSocketsPerAddress: 64,
  // Unless set, the per-game caps are the global and per-address ones (see Relay); relayCaps sets them.
  maxSocketsPerGame: 1024,
  maxSocketsPerAddressPerGame: 64,
  framesPerSecond: 200,
  burstFrames: 400,
  floodCloseAfterDrops: 400,
  idleTimeoutMs: 20_000,
  pendingFrames: 16,
};

/**
 * The relay's caps from the server's settings, sensible at every `--max-games`: per game its seats, spectators and
 * one rejoin overlap per player; globally the sum over every game slot; per address at most the configured figure
 * and never more than half of the global cap; per address and game half of the game's cap.
 */
export function relayCaps(settings: { maxGames: number; maxPlayers: number; maxSpectators: number; relayMaxPerAddress: number }): Pick<
  RelayLimits,
  'maxSockets' | 'maxSocketsPerAddress' | 'maxSocketsPerGame' | 'maxSocketsPerAddressPerGame'
> {
  const perGame = settings.maxPlayers * 2 + settings.maxSpectators;
  const global = settings.maxGames * perGame;
  return {
    maxSockets: global,
    maxSocketsPerGame: perGame,
    maxSocketsPerAddress: Math.max(1, Math.min(settings.relayMaxPerAddress, Math.floor(global / 2))),
    maxSocketsPerAddressPerGame: Math.max(1, Math.floor(perGame / 2)),
  };
}

export interface RelayOptions {
  resolveGame: ResolveGame;
  limits?: Partial<RelayLimits>;
  /** Where game workers listen. Loopback by default; nothing a client sends can change it. */
  gameHost?: string;
  /** Milliseconds, monotonic; injected so tests can drive the rate limiter. */
  now?: () => number;
}

export const DROP_REASONS = [
  /** A frame larger than MAX_RELAY_FRAME_BYTES. */
  'oversize',
  /** Over the tunnel's frame rate. */
  'rate_limited',
  /** An empty frame: no netcode packet is empty. */
  'empty',
  /** Queued while the UDP socket was binding, beyond `pendingFrames`. */
  'pending_overflow',
  /** A datagram to the relay's UDP socket from anyone but its game. */
  'foreign_source',
  /** The kernel refused the UDP send (buffer full). */
  'udp_send_failed',
  /** The WebSocket refused the frame (client too slow, send buffer over its limit). */
  'client_backpressure',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Why an open tunnel ended. */
export const CLOSE_REASONS = ['client_closed', 'game_ended', 'idle', 'rate_limited', 'text_frame', 'udp_error', 'shutdown'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Why a tunnel was never opened: at the HTTP upgrade, or at open when things changed in between. */
export const REFUSAL_REASONS = ['bad_request', 'unknown_game', 'capacity', 'address_capacity', 'game_capacity'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface DirectionCounters {
  frames: number;
  bytes: number;
}

/** What `/metrics` shows about the relay. Counters only grow; `openSockets` is the gauge. */
export interface RelayCounters {
  openSockets: number;
  /** UDP sockets bound and not yet closed (equals openSockets once every bind has settled). */
  boundUdpSockets: number;
  opened: number;
  toGame: DirectionCounters;
  toClient: DirectionCounters;
  drops: Record<DropReason, number>;
  closes: Record<CloseReason, number>;
  refused: Record<RefusalReason, number>;
}

export function emptyCounters(): RelayCounters {
  return {
    openSockets: 0,
    boundUdpSockets: 0,
    opened: 0,
    toGame: { frames: 0, bytes: 0 },
    toClient: { frames: 0, bytes: 0 },
    drops: zeroes(DROP_REASONS),
    closes: zeroes(CLOSE_REASONS),
    refused: zeroes(REFUSAL_REASONS),
  };
}

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/** The WebSocket end of a tunnel, as the relay uses it (Bun's ServerWebSocket fits). */
export interface RelayPeer {
  /** Returns Bun's send status: > 0 sent, -1 queued under backpressure, 0 dropped. */
  sendBinary(data: Uint8Array): number;
  close(code: number, reason: string): void;
}
