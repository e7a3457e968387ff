/** A reliable-ordered channel: the two halves, each with its own window, behind the common interface. */
import type { Channel } from './channel.ts';
import type { ResolvedChannel } from './config.ts';
import type { PacketBuilder } from './packet-builder.ts';
import { ReliableReceiver } from './reliable-receiver.ts';
import { ReliableSender } from './reliable-sender.ts';
import type { LinkStats } from './stats.ts';
import type { MessageBlock } from './wire.ts';

export class ReliableOrderedChannel implements Channel {
  readonly sender: ReliableSender;
  readonly receiver: ReliableReceiver;

  constructor(
    readonly config: ResolvedChannel,
    sliceBytes: number,
    maxWholeBytes: number,
    firstMessageId: number,
    stats: LinkStats,
  ) {
    this.sender = new ReliableSender(config, sliceBytes, maxWholeBytes, firstMessageId, stats);
    this.receiver = new ReliableReceiver(config, sliceBytes, firstMessageId, stats);
  }

  send(message: Uint8Array): void {
    this.sender.send(message);
  }

  pack(builder: PacketBuilder, now: number, resendDelay: number): void {
    this.sender.pack(builder, now, resendDelay);
  }

  endFlush(): number {
    return 0;
  }

  onAck(id: number, slice: number): void {
    this.sender.onAck(id, slice);
  }

  validate(block: MessageBlock): boolean {
    return this.receiver.validate(block);
  }

  accept(block: MessageBlock, packet: Uint8Array): boolean {
    return this.receiver.accept(block, packet);
  }

  unacked(): number {
    return this.sender.inFlightMessages;
  }

  receive(): Uint8Array | undefined {
    return this.receiver.receive();
  }
}
