/**
 * Send half of a reliable channel: a window of messages awaiting acks, indexed by id, each slice with its own
 * ack flag and resend timer.
 */
import type { ResolvedChannel } from './config.ts';
import { MessageTooLargeError, SendQueueFullError } from './errors.ts';
import type { PacketBuilder } from './packet-builder.ts';
import { nextSequence, sequenceDistance } from './sequence.ts';
import { sliceCountOf } from './slicing.ts';
import type { LinkStats } from './stats.ts';
import { blockOverhead } from './wire.ts';

class PendingMessage {
  readonly acked: Uint8Array;
  /** Per slice; -Infinity until first sent, which makes a new slice due at once. */
  readonly lastSent: Float64Array;
  ackedCount = 0;

  constructor(
    readonly id: number,
    readonly data: Uint8Array,
    readonly sliceCount: number,
    readonly sliced: boolean,
  ) {
    this.acked = new Uint8Array(sliceCount);
    this.lastSent = new Float64Array(sliceCount).fill(Number.NEGATIVE_INFINITY);
  }
}

export class ReliableSender {
  private readonly window: (PendingMessage | null)[];
  private oldest: number;
  private nextId: number;
  private pendingBytes = 0;
  /**
   * Where the last `pack` at the same `now` stopped: everything before it was sent at `now` or is not due, so
   * the many packets of one flush do not rescan the whole window each.
   */
  private scanNow = Number.NaN;
  private scanFrom = 0;

  constructor(
    private readonly config: ResolvedChannel,
    private readonly sliceBytes: number,
    private readonly maxWholeBytes: number,
    firstId: number,
    private readonly stats: LinkStats,
  ) {
    this.window = new Array<PendingMessage | null>(config.maxInFlightMessages).fill(null);
    this.oldest = firstId;
    this.nextId = firstId;
  }

  get inFlightMessages(): number {
    return sequenceDistance(this.oldest, this.nextId);
  }

  send(message: Uint8Array): void {
    const { id: channel, maxMessageBytes, maxBufferedBytes, maxInFlightMessages } = this.config;
    if (message.length > maxMessageBytes) throw new MessageTooLargeError(channel, message.length, maxMessageBytes);
    if (this.inFlightMessages >= maxInFlightMessages) throw new SendQueueFullError(channel, 'messages', maxInFlightMessages);
    if (this.pendingBytes + message.length > maxBufferedBytes) throw new SendQueueFullError(channel, 'bytes', maxBufferedBytes);
    const sliced = message.length > this.maxWholeBytes;
    const slices = sliced ? sliceCountOf(message.length, this.sliceBytes) : 1;
    // Our own copy: the caller may reuse its buffer, and we may resend for a while.
    this.window[this.nextId % maxInFlightMessages] = new PendingMessage(this.nextId, message.slice(), slices, sliced);
    this.pendingBytes += message.length;
    this.nextId = nextSequence(this.nextId);
  }

  pack(builder: PacketBuilder, now: number, resendDelay: number): void {
    if (this.oldest === this.nextId) return;
    const span = this.inFlightMessages;
    const resume = this.scanNow === now && sequenceDistance(this.oldest, this.scanFrom) <= span;
    let id = resume ? this.scanFrom : this.oldest;
    let firstUnsent = -1;
    scan: for (; id !== this.nextId; id = nextSequence(id)) {
      const message = this.window[id % this.config.maxInFlightMessages];
      if (message === null || message === undefined) continue;
      for (let slice = 0; slice < message.sliceCount; slice++) {
        if (message.acked[slice] === 1 || now - message.lastSent[slice]! < resendDelay) continue;
        if (!builder.canRecord) {
          if (firstUnsent < 0) firstUnsent = id;
          break scan;
        }
        if (!this.write(builder, message, slice)) {
          if (firstUnsent < 0) firstUnsent = id;
          continue;
        }
        if (message.lastSent[slice] !== Number.NEGATIVE_INFINITY) this.stats.resends++;
        message.lastSent[slice] = now;
      }
    }
    this.scanNow = now;
    this.scanFrom = firstUnsent >= 0 ? firstUnsent : this.nextId;
  }

  /** Writes one slice (or the whole message) if it fits; false if it does not. */
  private write(builder: PacketBuilder, message: PendingMessage, slice: number): boolean {
    const channel = this.config.id;
    const data = message.data;
    if (!message.sliced) {
      if (blockOverhead('reliable', false) + data.length > builder.remaining) return false;
      builder.writeBlock(channel, message.id, data, 0, data.length);
    } else {
      const start = slice * this.sliceBytes;
      const end = Math.min(start + this.sliceBytes, data.length);
      if (blockOverhead('reliable', true) + end - start > builder.remaining) return false;
      builder.writeSlice(channel, message.id, slice, message.sliceCount, data, start, end);
    }
    builder.record(channel, message.id, slice);
    return true;
  }

  onAck(id: number, slice: number): void {
    const size = this.config.maxInFlightMessages;
    const message = this.window[id % size];
    if (message === null || message === undefined || message.id !== id || slice >= message.sliceCount) return;
    if (message.acked[slice] === 1) return;
    message.acked[slice] = 1;
    if (++message.ackedCount < message.sliceCount) return;
    this.window[id % size] = null;
    this.pendingBytes -= message.data.length;
    while (this.oldest !== this.nextId && this.window[this.oldest % size] === null) this.oldest = nextSequence(this.oldest);
  }
}
