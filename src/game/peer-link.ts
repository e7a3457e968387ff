/**
 * What a game needs from the reliability layer for one peer: numbered channels of messages over netcode
 * payloads. The reliability layer's `PeerLink` satisfies it as is; game-rule tests use a lossless fake.
 */
import { PeerLink } from '../protocol/reliability/index.ts';

export interface GameLink {
  /** Queues a message; throws a clear error if the channel's limits are exceeded. */
  send(channel: number, message: Uint8Array): void;
  /** One netcode payload from the peer. Malformed ones are counted in `stats.invalidPackets`, never thrown. */
  receivePacket(payload: Uint8Array, now: number): unknown;
  /** Messages delivered on a channel since the last call, in delivery order. */
  drain(channel: number): Uint8Array[];
  /** Hands every payload due now (acks, new messages, resends) to `sink`; the bytes are reused after the call. */
  flush(now: number, sink: (payload: Uint8Array) => void): number;
  readonly stats: { readonly rttSeconds: number; readonly invalidPackets: number };
}

/** Channel numbers shared by server and clients: both ends configure the same list. */
export const Channel = {
  /** Lobby, chat, start, countdown, results: reliable and ordered, JSON validated by TypeBox. */
  Reliable: 0,
  /** Client inputs, each packet repeating the last few so a loss is covered by the next one. */
  Input: 1,
  /** Server snapshots: only the newest matters. */
  Snapshot: 2,
} as const;

/**
 * How long a game link's owed ack waits for a packet that goes out anyway before it is sent alone: a playing
 * client's acks ride on its 30 Hz inputs and the server's on its 20 Hz snapshots, instead of a header-only packet
 * after every snapshot (20 a second per player) and at every wake between snapshots. The wait is reported in each
 * header and taken off the measured round trip, so pings stay what the network takes (BENCHMARKS.md "Load", lever 7).
 */
export const GAME_ACK_DELAY_SECONDS = 0.04;

export function createGameLink(): GameLink {
  return new PeerLink({
    channels: [{ kind: 'reliable-ordered' }, { kind: 'unreliable' }, { kind: 'unreliable-sequenced' }],
    maxAckDelaySeconds: GAME_ACK_DELAY_SECONDS,
  });
}
