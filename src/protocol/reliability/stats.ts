/**
 * Link statistics. The public `LinkStats` is a plain object the link updates in place, so reading it (every
 * frame, for a ping display) allocates nothing.
 */

export interface LinkStats {
  /** Smoothed round-trip time; `initialRttSeconds` until the first sample. */
  rttSeconds: number;
  /** Whether `rttSeconds` comes from at least one measurement. */
  rttMeasured: boolean;
  /** Share of message-carrying packets never acked, over the last settled packets (0..1). */
  packetLoss: number;
  sentBytesPerSecond: number;
  receivedBytesPerSecond: number;
  /** Bytes of our packets the peer acknowledged: what really got through. */
  ackedBytesPerSecond: number;

  packetsSent: number;
  packetsReceived: number;
  packetsAcked: number;
  /** Message-carrying packets whose ack never came within the loss timeout. */
  packetsLost: number;
  bytesSent: number;
  bytesReceived: number;
  bytesAcked: number;

  /** Reliable messages or slices sent again after their resend timer ran out. */
  resends: number;
  /** Packets dropped because we had already processed the same sequence. */
  duplicatePackets: number;
  /** Packets too old to tell whether they are duplicates. */
  stalePackets: number;
  /** Malformed or hostile packets, rejected whole. A peer that keeps raising this deserves a disconnect. */
  invalidPackets: number;
  /** Unreliable messages we could not send within a flush's byte budget. */
  unreliableDropped: number;
  /** Received unreliable messages dropped: stale (sequenced channels) or the receive queue was full. */
  receivedDropped: number;
  /** Reliable messages we refused (not acked; the peer resends) because the receive buffer was full. */
  reliableRefused: number;
}

export function emptyStats(initialRttSeconds: number): LinkStats {
  return {
    rttSeconds: initialRttSeconds,
    rttMeasured: false,
    packetLoss: 0,
    sentBytesPerSecond: 0,
    receivedBytesPerSecond: 0,
    ackedBytesPerSecond: 0,
    packetsSent: 0,
    packetsReceived: 0,
    packetsAcked: 0,
    packetsLost: 0,
    bytesSent: 0,
    bytesReceived: 0,
    bytesAcked: 0,
    resends: 0,
    duplicatePackets: 0,
    stalePackets: 0,
    invalidPackets: 0,
    unreliableDropped: 0,
    receivedDropped: 0,
    reliableRefused: 0,
  };
}

/** Exponentially smoothed RTT: light enough for per-ack use, steady enough for a resend timer. */
export const RTT_SMOOTHING = 0.1;

export function smoothRtt(stats: LinkStats, sample: number): void {
  if (stats.rttMeasured) stats.rttSeconds += (sample - stats.rttSeconds) * RTT_SMOOTHING;
  else stats.rttSeconds = sample;
  stats.rttMeasured = true;
}

/**
 * Loss over the last `size` settled packets. A plain window, not an average of averages: with 256 packets the
 * estimate of a 20% loss is within a few points, where an EMA that reacts as fast is far noisier.
 */
export class LossWindow {
  private readonly outcomes: Uint8Array;
  private next = 0;
  private filled = 0;
  private lost = 0;

  constructor(size = 256) {
    this.outcomes = new Uint8Array(size);
  }

  add(lost: boolean): number {
    const value = lost ? 1 : 0;
    if (this.filled === this.outcomes.length) this.lost -= this.outcomes[this.next]!;
    else this.filled++;
    this.outcomes[this.next] = value;
    this.lost += value;
    this.next = (this.next + 1) % this.outcomes.length;
    return this.lost / this.filled;
  }
}

/**
 * Bytes per second over fixed windows: the rate shown is that of the last complete window (before the first
 * one completes, that of the window so far, so a short session does not read zero).
 */
export class RateMeter {
  private windowStart = Number.NaN;
  private bytes = 0;
  private completed = false;
  rate = 0;

  add(bytes: number, now: number): void {
    this.roll(now);
    this.bytes += bytes;
  }

  /** Closes the window if `windowSeconds` have passed; returns the current rate. */
  tick(now: number, windowSeconds: number): number {
    this.roll(now);
    const elapsed = now - this.windowStart;
    if (elapsed >= windowSeconds) {
      this.rate = this.bytes / elapsed;
      this.bytes = 0;
      this.windowStart = now;
      this.completed = true;
    } else if (!this.completed && elapsed > 0) {
      this.rate = this.bytes / elapsed;
    }
    return this.rate;
  }

  private roll(now: number): void {
    if (Number.isNaN(this.windowStart)) this.windowStart = now;
  }
}
