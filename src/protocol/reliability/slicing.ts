/**
 * Cutting a large reliable message into fixed-size slices and putting it back together. Every slice but the
 * last is exactly `sliceBytes` long, so a receiver can check each slice on its own and place it without
 * bookkeeping, and the buffer it allocates is bounded by the announced slice count, itself capped.
 */
import type { MessageBlock } from './wire.ts';

export function sliceCountOf(length: number, sliceBytes: number): number {
  return Math.ceil(length / sliceBytes);
}

/** Read-only check of a slice block against the channel's caps. */
export function isValidSlice(block: MessageBlock, sliceBytes: number, maxMessageBytes: number): boolean {
  const { sliceIndex: index, sliceCount: count, length } = block;
  if (count < 2 || count > sliceCountOf(maxMessageBytes, sliceBytes) || index >= count) return false;
  if (index < count - 1) return length === sliceBytes;
  return length >= 1 && length <= sliceBytes && (count - 1) * sliceBytes + length <= maxMessageBytes;
}

/** A sliced message being received. */
export class Assembly {
  private readonly buffer: Uint8Array;
  private readonly received: Uint8Array;
  private receivedCount = 0;
  private totalLength = 0;

  constructor(
    readonly sliceCount: number,
    private readonly sliceBytes: number,
  ) {
    this.buffer = new Uint8Array(sliceCount * sliceBytes);
    this.received = new Uint8Array(sliceCount);
  }

  /** Stores a validated slice; duplicates are ignored. */
  add(block: MessageBlock, packet: Uint8Array): void {
    const index = block.sliceIndex;
    if (this.received[index] === 1) return;
    this.received[index] = 1;
    this.receivedCount++;
    this.buffer.set(packet.subarray(block.start, block.start + block.length), index * this.sliceBytes);
    if (index === this.sliceCount - 1) this.totalLength = index * this.sliceBytes + block.length;
  }

  get complete(): boolean {
    return this.receivedCount === this.sliceCount;
  }

  /** The whole message; only once complete. */
  message(): Uint8Array {
    return this.buffer.subarray(0, this.totalLength);
  }
}
