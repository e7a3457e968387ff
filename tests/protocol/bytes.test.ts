import { describe, expect, test } from 'bun:test';
import { ByteReader, ByteWriter, constantTimeEqual, isZero } from '../../src/protocol/bytes.ts';
import { toHex } from './vectors.ts';

describe('ByteWriter / ByteReader', () => {
  test('little-endian integers round-trip', () => {
    const out = new Uint8Array(32);
    const writer = new ByteWriter(out).u8(0xab).u16(0x1234).u32(0xdeadbeef).i32(-1).u64(0x0102030405060708n).bytes(Uint8Array.of(9, 9));
    expect(writer.offset).toBe(1 + 2 + 4 + 4 + 8 + 2);
    expect(toHex(out.subarray(0, 7))).toBe('ab3412efbeadde');
    const reader = new ByteReader(out);
    expect([reader.u8(), reader.u16(), reader.u32(), reader.i32()]).toEqual([0xab, 0x1234, 0xdeadbeef, -1]);
    expect(reader.u64()).toBe(0x0102030405060708n);
    expect(Array.from(reader.bytes(2))).toEqual([9, 9]);
    expect(reader.remaining).toBe(32 - 21);
  });

  test('works on a view with an offset into a larger buffer', () => {
    const backing = new Uint8Array(16).fill(0xee);
    const view = backing.subarray(4, 12);
    new ByteWriter(view).u32(1).zeroTo(8);
    expect(toHex(backing)).toBe('eeeeeeee' + '0100000000000000' + 'eeeeeeee');
    expect(new ByteReader(view).u32()).toBe(1);
  });

  test('bytes() copies, viewBytes() does not', () => {
    const source = Uint8Array.of(1, 2, 3);
    const copied = new ByteReader(source).bytes(2);
    const viewed = new ByteReader(source).viewBytes(2);
    source[0] = 7;
    expect(copied[0]).toBe(1);
    expect(viewed[0]).toBe(7);
  });

  test('out-of-range access throws RangeError', () => {
    expect(() => new ByteReader(new Uint8Array(3)).u32()).toThrow(RangeError);
    expect(() => new ByteReader(new Uint8Array(3)).bytes(4)).toThrow(RangeError);
    expect(() => new ByteWriter(new Uint8Array(3)).bytes(new Uint8Array(4))).toThrow(RangeError);
    expect(() => new ByteWriter(new Uint8Array(8)).u64(-1n)).toThrow(RangeError);
  });

  // Every width at the very end of its buffer and one byte short of room, and offsets a DataView refused: the
  // cursors convert through a scratch word, so each bound is their own check.
  const WIDTHS = [
    ['u8', 1],
    ['u16', 2],
    ['u32', 4],
    ['i32', 4],
    ['u64', 8],
  ] as const;
  const write = (writer: ByteWriter, width: (typeof WIDTHS)[number][0]): ByteWriter => (width === 'u64' ? writer.u64(1n) : writer[width](1));

  test('each width fits exactly at the end, and one byte more throws without writing', () => {
    for (const [width, bytes] of WIDTHS) {
      const fits = new Uint8Array(bytes + 3).fill(0xee);
      write(new ByteWriter(fits, 3), width);
      expect(fits[3]).toBe(1);
      expect(new ByteReader(fits, 3)[width]()).toBe(width === 'u64' ? 1n : 1);
      const short = new Uint8Array(bytes + 2).fill(0xee);
      expect(() => write(new ByteWriter(short, 3), width)).toThrow(RangeError);
      expect(short.every((b) => b === 0xee)).toBe(true);
      expect(() => new ByteReader(short, 3)[width]()).toThrow(RangeError);
    }
  });

  test('negative, fractional and NaN offsets throw, as a DataView did', () => {
    for (const [width] of WIDTHS) {
      for (const offset of [-1, -8, 0.5, Number.NaN]) {
        const buffer = new Uint8Array(16).fill(0xee);
        expect(() => write(new ByteWriter(buffer, offset), width)).toThrow(RangeError);
        expect(buffer.every((b) => b === 0xee)).toBe(true);
        expect(() => new ByteReader(buffer, offset)[width]()).toThrow(RangeError);
      }
    }
  });

  test('values wrap as a DataView wrote them', () => {
    const out = new Uint8Array(11);
    new ByteWriter(out).u8(0x1ff).u16(0x12345).u32(-1).i32(0x80000000);
    expect(toHex(out)).toBe('ff' + '4523' + 'ffffffff' + '00000080');
  });
});

describe('constantTimeEqual / isZero', () => {
  test('compares contents and lengths', () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(isZero(Uint8Array.of(0, 0, 1), 0, 2)).toBe(true);
    expect(isZero(Uint8Array.of(0, 0, 1))).toBe(false);
  });
});
