import { describe, expect, test } from 'bun:test';
import {
  PacketNonce,
  prefixByte,
  prefixSequenceBytes,
  prefixType,
  readSequence,
  sequenceByteCount,
  writePacketNonce,
  writeSequence,
} from '../../src/protocol/netcode/sequence.ts';
import { toHex } from './vectors.ts';

const U64_MAX = (1n << 64n) - 1n;

describe('sequenceByteCount', () => {
  test('zero still takes one byte', () => {
    expect(sequenceByteCount(0n)).toBe(1);
  });

  test('every byte-count boundary', () => {
    for (let bytes = 1; bytes <= 8; bytes++) {
      const largest = (1n << BigInt(8 * bytes)) - 1n;
      expect(sequenceByteCount(largest)).toBe(bytes);
      if (bytes < 8) expect(sequenceByteCount(largest + 1n)).toBe(bytes + 1);
    }
    expect(sequenceByteCount(U64_MAX)).toBe(8);
  });

  test('rejects values outside u64', () => {
    expect(() => sequenceByteCount(-1n)).toThrow(RangeError);
    expect(() => sequenceByteCount(U64_MAX + 1n)).toThrow(RangeError);
  });
});

describe('prefix byte', () => {
  test('packs byte count high, type low', () => {
    expect(prefixByte(4, 2)).toBe(0x24);
    expect(prefixByte(1, 8)).toBe(0x81);
    expect(prefixType(0x56)).toBe(6);
    expect(prefixSequenceBytes(0x56)).toBe(5);
  });
});

describe('wire encoding', () => {
  test('1000 is e8 03 (low byte first, shortest)', () => {
    const out = new Uint8Array(8);
    expect(writeSequence(out, 0, 1000n)).toBe(2);
    expect(toHex(out.subarray(0, 2))).toBe('e803');
  });

  test('round-trips at every boundary and at an offset', () => {
    const values = [0n, 1n, U64_MAX, 1n << 63n];
    for (let bytes = 1; bytes < 8; bytes++) values.push((1n << BigInt(8 * bytes)) - 1n, 1n << BigInt(8 * bytes));
    for (const value of values) {
      const out = new Uint8Array(12).fill(0xee);
      const count = writeSequence(out, 3, value);
      expect(out[2]).toBe(0xee);
      expect(out[3 + count]).toBe(0xee);
      expect(readSequence(out, 3, count)).toBe(value);
    }
  });
});

describe('nonce', () => {
  test('four zero bytes, then the sequence as u64 little-endian', () => {
    const nonce = new Uint8Array(12).fill(0xff);
    writePacketNonce(nonce, 0x0102030405060708n);
    expect(toHex(nonce)).toBe('000000000807060504030201');
    expect(() => writePacketNonce(new Uint8Array(8), 1n)).toThrow(RangeError);
  });

  test('PacketNonce agrees with the plain functions', () => {
    const nonce = new PacketNonce();
    for (const value of [0n, 0xffn, 0x100n, 0xffff_ffffn, 0x1_0000_0000n, U64_MAX, 1n << 63n]) {
      const count = nonce.set(value);
      expect(count).toBe(sequenceByteCount(value));
      const expected = new Uint8Array(12);
      writePacketNonce(expected, value);
      expect(toHex(nonce.bytes)).toBe(toHex(expected));
      const wire = new Uint8Array(8);
      nonce.copySequenceTo(wire, 0, count);
      const loaded = new PacketNonce();
      loaded.load(wire, 0, count);
      expect(loaded.sequence).toBe(value);
      expect(BigInt(loaded.hi) * 2n ** 32n + BigInt(loaded.lo)).toBe(value);
    }
  });

  test('loading fewer bytes clears the rest', () => {
    const nonce = new PacketNonce();
    nonce.set(U64_MAX);
    nonce.load(Uint8Array.of(5), 0, 1);
    expect(nonce.sequence).toBe(5n);
  });
});
