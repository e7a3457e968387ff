/**
 * Unreliable channels: a message goes out in the next flush or never. The sequenced kind also drops anything
 * older than the newest message delivered, which is what snapshots want.
 */
import type { Channel } from './channel.ts';
import type { ResolvedChannel } from './config.ts';
import { DeliveryQueue } from './delivery-queue.ts';
import { MessageTooLargeError, SendQueueFullError } from './errors.ts';
import { Fifo } from './fifo.ts';
import type { PacketBuilder } from './packet-builder.ts';
import { nextSequence, sequenceGreaterThan } from './sequence.ts';
import type { LinkStats } from './stats.ts';
import { type MessageBlock, blockOverhead } from './wire.ts';

export class UnreliableChannel implements Channel {
  private readonly outgoing = new Fifo<Uint8Array>();
  /** Sequenced kind: the sequence of each queued message, in step with `outgoing`. */
  private readonly outgoingSequences = new Fifo<number>();
  private outgoingBytes = 0;
  private nextOutgoingSequence = 0;
  private readonly sequenced: boolean;
  private readonly overhead: number;
  private hasNewest = false;
  private newest = 0;
  private readonly delivered = new DeliveryQueue();

  constructor(
    readonly config: ResolvedChannel,
    private readonly stats: LinkStats,
  ) {
    this.sequenced = config.layout === 'sequenced';
    this.overhead = blockOverhead(config.layout, false);
  }

  send(message: Uint8Array): void {
    const { id: channel, maxMessageBytes, maxBufferedBytes } = this.config;
    if (message.length > maxMessageBytes) throw new MessageTooLargeError(channel, message.length, maxMessageBytes);
    if (this.outgoingBytes + message.length > maxBufferedBytes) throw new SendQueueFullError(channel, 'bytes', maxBufferedBytes);
    this.outgoing.push(message.slice());
    this.outgoingBytes += message.length;
    if (this.sequenced) {
      this.outgoingSequences.push(this.nextOutgoingSequence);
      this.nextOutgoingSequence = nextSequence(this.nextOutgoingSequence);
    }
  }

  pack(builder: PacketBuilder): void {
    for (let message = this.outgoing.peek(); message !== undefined; message = this.outgoing.peek()) {
      // Keep send order; whatever does not fit here opens the next packet of this flush.
      if (this.overhead + message.length > builder.remaining) return;
      const sequence = this.sequenced ? (this.outgoingSequences.shift() ?? 0) : null;
      builder.writeBlock(this.config.id, sequence, message, 0, message.length);
      this.outgoing.shift();
      this.outgoingBytes -= message.length;
    }
  }

  endFlush(): number {
    let dropped = 0;
    while (this.outgoing.shift() !== undefined) dropped++;
    while (this.outgoingSequences.shift() !== undefined);
    this.outgoingBytes = 0;
    return dropped;
  }

  onAck(): void {
    // Nothing to free: unreliable messages are forgotten once sent.
  }

  validate(block: MessageBlock): boolean {
    return block.length <= this.config.maxMessageBytes;
  }

  accept(block: MessageBlock, packet: Uint8Array): boolean {
    if (this.sequenced) {
      if (this.hasNewest && !sequenceGreaterThan(block.id, this.newest)) return this.drop();
      this.hasNewest = true;
      this.newest = block.id;
    }
    if (this.delivered.bytes + block.length > this.config.maxBufferedBytes) return this.drop();
    this.delivered.push(packet.slice(block.start, block.start + block.length));
    return true;
  }

  unacked(): number {
    return 0;
  }

  receive(): Uint8Array | undefined {
    return this.delivered.shift();
  }

  /** Unreliable drops never make the packet unackable: nobody will resend them anyway. */
  private drop(): true {
    this.stats.receivedDropped++;
    return true;
  }
}
