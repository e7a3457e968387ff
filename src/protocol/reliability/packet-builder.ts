/**
 * Fills one outgoing packet in a buffer owned by the link and reused for every packet. Channels write their
 * blocks through it; reliable channels also note which (message, slice) each block carried, so that the ack of
 * this packet can free them.
 */
import type { SentPacketLog } from './sent-packets.ts';
import { HEADER_BYTES, SLICE_FLAG, writeU16 } from './wire.ts';

export class PacketBuilder {
  readonly buffer: Uint8Array;
  offset = HEADER_BYTES;
  private limit = HEADER_BYTES;
  private sequence = 0;
  /** Reliable (re)sends written into the current packet that had been sent before. */
  resends = 0;

  constructor(
    maxPacketBytes: number,
    private readonly sent: SentPacketLog,
  ) {
    this.buffer = new Uint8Array(maxPacketBytes);
  }

  begin(sequence: number, capacity: number): void {
    this.sequence = sequence;
    this.offset = HEADER_BYTES;
    this.limit = Math.min(capacity, this.buffer.length);
    this.resends = 0;
    this.sent.prepare(sequence);
  }

  get remaining(): number {
    return this.limit - this.offset;
  }

  get isEmpty(): boolean {
    return this.offset === HEADER_BYTES;
  }

  /** Whether another reliable block can be remembered for this packet (the record per packet is bounded). */
  get canRecord(): boolean {
    return this.sent.canRecord(this.sequence);
  }

  record(channel: number, id: number, slice: number): void {
    this.sent.record(this.sequence, channel, id, slice);
  }

  /** Writes a block; the caller has checked that it fits. `id` is skipped for plain unreliable blocks. */
  writeBlock(channel: number, id: number | null, message: Uint8Array, start: number, end: number): void {
    const b = this.buffer;
    let o = this.offset;
    b[o++] = channel;
    if (id !== null) {
      writeU16(b, o, id);
      o += 2;
    }
    this.writePayload(o, message, start, end);
  }

  writeSlice(channel: number, id: number, index: number, count: number, message: Uint8Array, start: number, end: number): void {
    const b = this.buffer;
    let o = this.offset;
    b[o++] = channel | SLICE_FLAG;
    writeU16(b, o, id);
    writeU16(b, o + 2, index);
    writeU16(b, o + 4, count);
    this.writePayload(o + 6, message, start, end);
  }

  private writePayload(offset: number, message: Uint8Array, start: number, end: number): void {
    writeU16(this.buffer, offset, end - start);
    // A whole message needs no view; only slices pay for one.
    this.buffer.set(start === 0 && end === message.length ? message : message.subarray(start, end), offset + 2);
    this.offset = offset + 2 + end - start;
  }
}
