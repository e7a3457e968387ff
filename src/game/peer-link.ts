/**
 * What a game session needs from the reliability layer for one peer: numbered channels of messages over
 * netcode payloads. Kept as a small interface so that game rules can be tested without the real layer, and so
 * that the session never depends on how acks or slicing work.
 */
export interface PeerLink {
  /** Queues a message; throws (a clear error) if the channel's limits are exceeded. */
  send(channel: number, message: Uint8Array): void;
  /** One netcode payload from the peer. Malformed ones are counted in `invalidPackets`, never thrown. */
  receivePacket(payload: Uint8Array, now: number): void;
  /** The netcode payloads to send now (acks, new messages, resends), each ≤ 1200 bytes. */
  takePackets(now: number): Uint8Array[];
  /** Messages delivered on a channel since the last call, in delivery order. */
  receive(channel: number): Uint8Array[];
  readonly rttMs: number;
  readonly invalidPackets: number;
}

/** Channel numbers shared by server and clients: both ends must configure the same list. */
export const Channel = {
  /** Lobby, chat, start, countdown, results: reliable and ordered, JSON validated by TypeBox. */
  Reliable: 0,
  /** Client inputs, repeated in each packet so loss is covered by the next one. */
  Input: 1,
  /** Server snapshots; only the newest matters. */
  Snapshot: 2,
} as const;
