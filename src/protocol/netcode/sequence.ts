/**
 * Packet sequence numbers: the prefix byte, the shortest little-endian wire encoding, and the 12-byte
 * ChaCha20-Poly1305-IETF nonce `[0,0,0,0] ++ u64le(sequence)` (four zero bytes FIRST).
 */
import { PACKET_NONCE_BYTES } from './constants.ts';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Bytes needed for the value: 1..8, zero included (it still takes one byte). */
export function sequenceByteCount(sequence: bigint): number {
  checkU64(sequence);
  let count = 1;
  for (let rest = sequence >> 8n; rest > 0n; rest >>= 8n) count++;
  return count;
}

/** `(sequenceBytes << 4) | type`. */
export function prefixByte(type: number, sequenceBytes: number): number {
  return ((sequenceBytes << 4) | type) & 0xff;
}

export function prefixType(prefix: number): number {
  return prefix & 0x0f;
}

export function prefixSequenceBytes(prefix: number): number {
  return prefix >> 4;
}

/** Writes the shortest encoding at `offset`, low byte first; returns the byte count. */
export function writeSequence(out: Uint8Array, offset: number, sequence: bigint): number {
  const count = sequenceByteCount(sequence);
  let rest = sequence;
  for (let i = 0; i < count; i++) {
    out[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return count;
}

export function readSequence(bytes: Uint8Array, offset: number, count: number): bigint {
  let value = 0n;
  for (let i = count - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i] ?? 0);
  return value;
}

/** Writes the 12-byte packet nonce for `sequence` into `nonce`. */
export function writePacketNonce(nonce: Uint8Array, sequence: bigint): void {
  checkU64(sequence);
  if (nonce.length !== PACKET_NONCE_BYTES) throw new RangeError(`nonce must be ${PACKET_NONCE_BYTES} bytes`);
  nonce.fill(0, 0, 4);
  new DataView(nonce.buffer, nonce.byteOffset, PACKET_NONCE_BYTES).setBigUint64(4, sequence, true);
}

/**
 * A reusable nonce buffer for the packet hot path. The nonce's last 8 bytes ARE the little-endian sequence,
 * so it doubles as the scratch for encoding and decoding the wire sequence, with no per-packet allocation
 * when writing and one bigint per packet when reading.
 */
export class PacketNonce {
  readonly bytes = new Uint8Array(PACKET_NONCE_BYTES);
  private readonly view = new DataView(this.bytes.buffer);

  /** Sets the sequence and returns its shortest byte count. */
  set(sequence: bigint): number {
    checkU64(sequence);
    this.view.setBigUint64(4, sequence, true);
    const hi = this.view.getUint32(8, true);
    return hi !== 0 ? 4 + byteCount32(hi) : byteCount32(this.view.getUint32(4, true));
  }

  /** Copies the encoded sequence (count bytes, from `set`) to `out`. */
  copySequenceTo(out: Uint8Array, offset: number, count: number): void {
    for (let i = 0; i < count; i++) out[offset + i] = this.bytes[4 + i] as number;
  }

  /** Loads `count` wire bytes (1..8, low first). */
  load(bytes: Uint8Array, offset: number, count: number): void {
    const n = this.bytes;
    for (let i = 0; i < 8; i++) n[4 + i] = i < count ? (bytes[offset + i] as number) : 0;
  }

  get hi(): number {
    return this.view.getUint32(8, true);
  }

  get lo(): number {
    return this.view.getUint32(4, true);
  }

  get sequence(): bigint {
    return this.view.getBigUint64(4, true);
  }
}

function byteCount32(value: number): number {
  return value > 0xffffff ? 4 : value > 0xffff ? 3 : value > 0xff ? 2 : 1;
}

function checkU64(value: bigint): void {
  if (value < 0n || value > U64_MAX) throw new RangeError(`sequence out of u64 range: ${value}`);
}
