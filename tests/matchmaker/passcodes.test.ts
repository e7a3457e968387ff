import { describe, expect, test } from 'bun:test';
import { hasPasscodeLength, normalizePasscode, PASSCODE_ALPHABET, PasscodeBook, randomPasscode } from '../../src/matchmaker/passcodes.ts';

describe('passcodes', () => {
  test('six Crockford base32 characters, no ambiguous letters', () => {
    expect(PASSCODE_ALPHABET).toHaveLength(32);
    expect(PASSCODE_ALPHABET).not.toMatch(/[ILOU]/);
    for (let i = 0; i < 200; i++) expect(randomPasscode()).toMatch(/^[0-9A-HJKMNP-TV-Z]{6}$/);
  });

  test('every symbol is drawn about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3200; i++) for (const c of randomPasscode()) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(32);
    for (const n of counts.values()) expect(n).toBeGreaterThan(400);
  });

  test('typed codes are read case-insensitively, with I/L → 1 and O → 0, ignoring spaces and dashes', () => {
    expect(normalizePasscode('ab1o0z')).toBe('AB100Z');
    expect(normalizePasscode('abi-loz')).toBe('AB110Z');
    expect(normalizePasscode(' k7m 2qx ')).toBe('K7M2QX');
    expect(normalizePasscode('ABCDEU')).toBeNull();
    expect(normalizePasscode('ABCDE')).toBeNull();
    expect(normalizePasscode('ABCDEFG')).toBeNull();
    expect(normalizePasscode('ABC!EF')).toBeNull();
  });

  test('unique among live games; a revoked code admits no one', () => {
    const scripted = ['AAAAAA', 'AAAAAA', 'AAAAAA', 'BBBBBB'];
    const book = new PasscodeBook(() => scripted.shift() ?? 'CCCCCC');
    expect(book.issue('g1')).toBe('AAAAAA');
    expect(book.issue('g2')).toBe('BBBBBB');
    expect(book.lookup('aaaaaa')).toBe('g1');
    book.revoke('AAAAAA');
    expect(book.lookup('AAAAAA')).toBeUndefined();
    expect(book.size).toBe(1);
  });

  test('a generator that only repeats itself fails instead of looping forever', () => {
    const book = new PasscodeBook(() => 'AAAAAA');
    book.issue('g1');
    expect(() => book.issue('g2')).toThrow('unused passcode');
  });

  test('the length check counts characters once spaces and dashes are gone, whatever they are', () => {
    expect(['ABCDEF', 'abc-def', ' a b c d e f ', 'UUUUUU', 'äöüéèç'].map(hasPasscodeLength)).toEqual([true, true, true, true, true]);
    expect(['', 'ABC', 'ABCDEFG', '---', 'ABCDE-'].map(hasPasscodeLength)).toEqual([false, false, false, false, false]);
    // Six characters but not all passcode characters: the right length, so a wrong guess, not a typo hint.
    expect(normalizePasscode('UUUUUU')).toBeNull();
  });
});
