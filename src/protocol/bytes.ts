/**
 * Little-endian cursors over a caller's Uint8Array. netcode writes every multi-byte integer little-endian,
 * including nonces and associated data, so these are the only byte-order primitives the wire layer uses.
 *
 * Out-of-range access throws a RangeError: callers size their buffers (and check hostile lengths) before
 * reading, so reaching the end means a bug in this code, not bad input.
 */

const U64_MAX = 0xffff_ffff_ffff_ffffn;

export class ByteWriter {
  private readonly view: DataView;
  offset: number;

  constructor(readonly buffer: Uint8Array, offset = 0) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.offset = offset;
  }

  u8(value: number): this {
    this.view.setUint8(this.offset, value);
    this.offset += 1;
    return this;
  }

  u16(value: number): this {
    this.view.setUint16(this.offset, value, true);
    this.offset += 2;
    return this;
  }

  u32(value: number): this {
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
    return this;
  }

  i32(value: number): this {
    this.view.setInt32(this.offset, value, true);
    this.offset += 4;
    return this;
  }

  u64(value: bigint): this {
    if (value < 0n || value > U64_MAX) throw new RangeError(`u64 out of range: ${value}`);
    this.view.setBigUint64(this.offset, value, true);
    this.offset += 8;
    return this;
  }

  bytes(source: Uint8Array): this {
    if (this.offset + source.length > this.buffer.length) throw new RangeError('write past the end of the buffer');
    this.buffer.set(source, this.offset);
    this.offset += source.length;
    return this;
  }

  /** Zero-fills up to `end` (exclusive): the fixed-size netcode buffers are zero padded. */
  zeroTo(end: number): this {
    if (end > this.buffer.length) throw new RangeError('write past the end of the buffer');
    this.buffer.fill(0, this.offset, end);
    this.offset = Math.max(this.offset, end);
    return this;
  }
}

export class ByteReader {
  private readonly view: DataView;
  offset: number;

  constructor(readonly buffer: Uint8Array, offset = 0) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.offset = offset;
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  u8(): number {
    const value = this.view.getUint8(this.offset);
    this.offset += 1;
    return value;
  }

  u16(): number {
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(): number {
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  i32(): number {
    const value = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(): bigint {
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** A copy, so the result outlives the (often reused) source buffer. */
  bytes(length: number): Uint8Array {
    const end = this.offset + length;
    if (end > this.buffer.length) throw new RangeError('read past the end of the buffer');
    const out = this.buffer.slice(this.offset, end);
    this.offset = end;
    return out;
  }

  /** A view without copying: valid only while the source buffer is. */
  viewBytes(length: number): Uint8Array {
    const end = this.offset + length;
    if (end > this.buffer.length) throw new RangeError('read past the end of the buffer');
    const out = this.buffer.subarray(this.offset, end);
    this.offset = end;
    return out;
  }
}

/**
 * Compares secrets (keys, MACs, tokens) in time that depends only on the lengths, which are not secret.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** True if every byte in [start, end) is zero. */
export function isZero(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
