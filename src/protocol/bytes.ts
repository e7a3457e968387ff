/**
 * Little-endian cursors over a caller's Uint8Array. netcode writes every multi-byte integer little-endian,
 * including nonces and associated data, so these are the only byte-order primitives the wire layer uses.
 *
 * Out-of-range access throws a RangeError: callers size their buffers (and check hostile lengths) before
 * reading, so reaching the end means a bug in this code, not bad input.
 */

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * One 8-byte word every cursor converts numbers through, so a cursor needs no DataView over the caller's array.
 * A view would cost each fresh array its ArrayBuffer, which JSC builds only at the first `.buffer`: three of them
 * cost more than writing the rest of a connect token (bench/protocol.ts, tokens).
 */
const word = new DataView(new ArrayBuffer(8));
const wordBytes = new Uint8Array(word.buffer);

/** Where a DataView threw, so do these: a negative or fractional offset, or one running past the end. */
function inBounds(buffer: Uint8Array, offset: number, length: number): boolean {
  return Number.isInteger(offset) && offset >= 0 && offset + length <= buffer.length;
}

function put(buffer: Uint8Array, offset: number, length: number): void {
  if (!inBounds(buffer, offset, length)) throw new RangeError('write past the end of the buffer');
  for (let i = 0; i < length; i++) buffer[offset + i] = wordBytes[i]!;
}

function take(buffer: Uint8Array, offset: number, length: number): void {
  if (!inBounds(buffer, offset, length)) throw new RangeError('read past the end of the buffer');
  for (let i = 0; i < length; i++) wordBytes[i] = buffer[offset + i]!;
}

export class ByteWriter {
  offset: number;

  constructor(readonly buffer: Uint8Array, offset = 0) {
    this.offset = offset;
  }

  u8(value: number): this {
    if (!inBounds(this.buffer, this.offset, 1)) throw new RangeError('write past the end of the buffer');
    this.buffer[this.offset] = value;
    this.offset += 1;
    return this;
  }

  u16(value: number): this {
    word.setUint16(0, value, true);
    put(this.buffer, this.offset, 2);
    this.offset += 2;
    return this;
  }

  u32(value: number): this {
    word.setUint32(0, value, true);
    put(this.buffer, this.offset, 4);
    this.offset += 4;
    return this;
  }

  i32(value: number): this {
    word.setInt32(0, value, true);
    put(this.buffer, this.offset, 4);
    this.offset += 4;
    return this;
  }

  u64(value: bigint): this {
    if (value < 0n || value > U64_MAX) throw new RangeError(`u64 out of range: ${value}`);
    word.setBigUint64(0, value, true);
    put(this.buffer, this.offset, 8);
    this.offset += 8;
    return this;
  }

  /**
   * Copies `source` in. It must not overlap the bytes it is written to (a short copy runs forward; asking
   * `source.buffer` to tell would cost a fresh array its ArrayBuffer, the price this cursor avoids).
   */
  bytes(source: Uint8Array): this {
    const length = source.length;
    if (!inBounds(this.buffer, this.offset, length)) throw new RangeError('write past the end of the buffer');
    // Keys and nonces (24–32 bytes) copy faster in a loop than through TypedArray.set's call (wasm-heap.ts).
    if (length <= 64) {
      for (let i = 0; i < length; i++) this.buffer[this.offset + i] = source[i]!;
    } else {
      this.buffer.set(source, this.offset);
    }
    this.offset += length;
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
  offset: number;

  constructor(readonly buffer: Uint8Array, offset = 0) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  u8(): number {
    take(this.buffer, this.offset, 1);
    this.offset += 1;
    return wordBytes[0]!;
  }

  u16(): number {
    take(this.buffer, this.offset, 2);
    this.offset += 2;
    return word.getUint16(0, true);
  }

  u32(): number {
    take(this.buffer, this.offset, 4);
    this.offset += 4;
    return word.getUint32(0, true);
  }

  i32(): number {
    take(this.buffer, this.offset, 4);
    this.offset += 4;
    return word.getInt32(0, true);
  }

  u64(): bigint {
    take(this.buffer, this.offset, 8);
    this.offset += 8;
    return word.getBigUint64(0, true);
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
