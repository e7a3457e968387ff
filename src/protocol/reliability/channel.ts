/** What the link needs from a channel, whatever its kind. */
import type { ResolvedChannel } from './config.ts';
import type { PacketBuilder } from './packet-builder.ts';
import type { MessageBlock } from './wire.ts';

export interface Channel {
  readonly config: ResolvedChannel;
  /** Queues a message; throws a ReliabilityError when it is too large or the queue is full. */
  send(message: Uint8Array): void;
  /** Writes what is due now into the packet, as much as fits. */
  pack(builder: PacketBuilder, now: number, resendDelay: number): void;
  /** The flush is over: drops what may not wait (unreliable) and returns how many messages that was. */
  endFlush(): number;
  /** The peer acked a packet that carried this message slice. */
  onAck(id: number, slice: number): void;
  /** Read-only: could this block be accepted in the channel's current state? False means hostile. */
  validate(block: MessageBlock): boolean;
  /** Takes in a validated block. False when it was refused for lack of buffer (the packet must not be acked). */
  accept(block: MessageBlock, packet: Uint8Array): boolean;
  /** Reliable messages sent and not fully acked yet; 0 for unreliable kinds. */
  unacked(): number;
  /** The next delivered message, or undefined. */
  receive(): Uint8Array | undefined;
}
