/**
 * The byte layout of one reliability packet (see docs/RELIABILITY.md). Little-endian like netcode itself.
 *
 * Readers take raw indices rather than a DataView so that parsing a received packet allocates nothing.
 */
import { MAX_PAYLOAD_BYTES } from '../netcode/constants.ts';

/** 2: the header carries the ack delay (1 had none). */
export const WIRE_VERSION = 2;
/** Low nibble of the flags byte: the format version. Bit 7: the ack fields are meaningful. Others must be 0. */
export const FLAG_VERSION_MASK = 0x0f;
export const FLAG_HAS_ACK = 0x80;
const FLAG_KNOWN = FLAG_VERSION_MASK | FLAG_HAS_ACK;

/** flags u8, sequence u16, ack u16, ack bits u32, ack delay u16. */
export const HEADER_BYTES = 11;
/** The ack delay's unit: 100 µs, so a u16 holds up to 6.5535 s (longer waits are written as that). */
export const ACK_DELAY_UNIT_SECONDS = 0.0001;
export const MAX_ACK_DELAY_UNITS = 0xffff;
/** A reliability packet is one netcode payload. */
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES;
/** How many earlier packets the ack bitfield covers. */
export const ACK_BITS = 32;

/** Channel byte: low 6 bits the channel, bit 6 "this is a slice", bit 7 reserved (must be 0). */
export const MAX_CHANNELS = 64;
export const CHANNEL_MASK = 0x3f;
export const SLICE_FLAG = 0x40;
const RESERVED_CHANNEL_BIT = 0x80;

/** What the receiver must know about each channel to walk a packet: its kind fixes the block layout. */
export type BlockLayout = 'reliable' | 'unreliable' | 'sequenced';

/** Bytes before the message bytes of a block. */
export function blockOverhead(layout: BlockLayout, sliced: boolean): number {
  if (layout === 'unreliable') return 3; // channel, length
  if (sliced) return 9; // channel, id, slice index, slice count, length
  return 5; // channel, id or sequence, length
}

export function readU16(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

export function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  writeU16(bytes, offset, value & 0xffff);
  writeU16(bytes, offset + 2, value >>> 16);
}

/** A decoded header, reused across packets. */
export class PacketHeader {
  hasAck = false;
  sequence = 0;
  ack = 0;
  ackBits = 0;
  /**
   * How long the sender held the packet named by `ack` before this packet left, in ACK_DELAY_UNIT_SECONDS: the
   * receiver takes it off the round trip it measures (QUIC's ack_delay), so acks that wait for a packet already
   * going out do not inflate the RTT.
   */
  ackDelay = 0;

  /** False when the bytes cannot be a header of this version. */
  read(bytes: Uint8Array): boolean {
    if (bytes.length < HEADER_BYTES) return false;
    const flags = bytes[0]!;
    if ((flags & ~FLAG_KNOWN) !== 0 || (flags & FLAG_VERSION_MASK) !== WIRE_VERSION) return false;
    this.hasAck = (flags & FLAG_HAS_ACK) !== 0;
    this.sequence = readU16(bytes, 1);
    this.ack = readU16(bytes, 3);
    this.ackBits = readU32(bytes, 5);
    this.ackDelay = readU16(bytes, 9);
    // Without an ack there is nothing for these fields to mean; a sender that fills them is not ours.
    return this.hasAck || (this.ack === 0 && this.ackBits === 0 && this.ackDelay === 0);
  }

  write(bytes: Uint8Array): void {
    bytes[0] = WIRE_VERSION | (this.hasAck ? FLAG_HAS_ACK : 0);
    writeU16(bytes, 1, this.sequence);
    writeU16(bytes, 3, this.hasAck ? this.ack : 0);
    writeU32(bytes, 5, this.hasAck ? this.ackBits : 0);
    writeU16(bytes, 9, this.hasAck ? this.ackDelay : 0);
  }
}

/**
 * One message block, decoded in place: `start`/`length` point into the packet, nothing is copied. Reused for
 * every block of every packet.
 */
export class MessageBlock {
  channel = 0;
  sliced = false;
  /** Reliable: message id. Sequenced: message sequence. Unreliable: unused. */
  id = 0;
  sliceIndex = 0;
  sliceCount = 0;
  start = 0;
  length = 0;

  /**
   * Decodes the block at `offset`; returns the offset after it, or -1 when the block is structurally
   * malformed (unknown channel, reserved bit, slice flag on a non-reliable channel, truncated).
   */
  read(bytes: Uint8Array, offset: number, layouts: readonly BlockLayout[]): number {
    const end = bytes.length;
    if (offset + 1 > end) return -1;
    const channelByte = bytes[offset]!;
    if ((channelByte & RESERVED_CHANNEL_BIT) !== 0) return -1;
    const channel = channelByte & CHANNEL_MASK;
    const layout = layouts[channel];
    if (layout === undefined) return -1;
    const sliced = (channelByte & SLICE_FLAG) !== 0;
    if (sliced && layout !== 'reliable') return -1;
    const overhead = blockOverhead(layout, sliced);
    if (offset + overhead > end) return -1;

    let cursor = offset + 1;
    this.channel = channel;
    this.sliced = sliced;
    this.id = 0;
    this.sliceIndex = 0;
    this.sliceCount = 0;
    if (layout !== 'unreliable') {
      this.id = readU16(bytes, cursor);
      cursor += 2;
    }
    if (sliced) {
      this.sliceIndex = readU16(bytes, cursor);
      this.sliceCount = readU16(bytes, cursor + 2);
      cursor += 4;
    }
    this.length = readU16(bytes, cursor);
    this.start = cursor + 2;
    const next = this.start + this.length;
    return next > end ? -1 : next;
  }
}
