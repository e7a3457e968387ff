import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { type Chain, KeyIndex, keyHash, newChain, newKey, SeatBook, uniqueName } from '../../src/matchmaker/seats.ts';

describe('keys', () => {
  test('18 random bytes as 24 base64url characters, never repeated; the hash is not the key in any encoding', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1000; i++) keys.add(newKey());
    expect(keys.size).toBe(1000);
    for (const key of [...keys].slice(0, 20)) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(Buffer.from(key, 'base64url').length).toBe(18);
      const hash = keyHash(key);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(hash).not.toContain(key);
      expect(hash).not.toContain(Buffer.from(key, 'base64url').toString('hex'));
      // Domain-separated: not the plain SHA-256 of the key either.
      expect(hash).not.toBe(createHash('sha256').update(key).digest('hex'));
    }
  });
});

describe('uniqueName', () => {
  const takenBy = (...names: string[]) => {
    const set = new Set(names.map((n) => n.toLowerCase()));
    return (lower: string) => set.has(lower);
  };

  test('free names stay; taken ones get the first free " (n)", case-insensitively', () => {
    expect(uniqueName('alice', takenBy())).toBe('alice');
    expect(uniqueName('Alice', takenBy('alice'))).toBe('Alice (2)');
    expect(uniqueName('alice', takenBy('ALICE', 'alice (2)'))).toBe('alice (3)');
    expect(uniqueName('bob', takenBy('alice'))).toBe('bob');
  });

  test('a long name is cut so the suffix fits in 24 characters (code points, not bytes)', () => {
    const long = 'abcdefghijklmnopqrstuvwx';
    expect(uniqueName(long, takenBy(long))).toBe('abcdefghijklmnopqrst (2)');
    const emoji = '🙂'.repeat(24);
    const renamed = uniqueName(emoji, takenBy(emoji));
    expect([...renamed].length).toBe(24);
    expect(renamed.endsWith(' (2)')).toBe(true);
    // A base ending in a space after the cut does not give a double space.
    const spaced = `${'a'.repeat(19)} bbbb`;
    expect(uniqueName(spaced, takenBy(spaced))).toBe(`${'a'.repeat(19)} (2)`);
  });
});

describe('SeatBook', () => {
  test('names are unique among unreleased player seats only', () => {
    const book = new SeatBook();
    book.add({ clientId: 1n, name: 'alice', kind: 'player', keyHash: 'h1' });
    book.add({ clientId: 2n, name: 'bob', kind: 'spectator', keyHash: undefined });
    expect(book.uniqueName('ALICE')).toBe('ALICE (2)');
    // A spectator does not hold a player's name.
    expect(book.uniqueName('bob')).toBe('bob');
    expect(book.release(1n)).toBe(true);
    expect(book.release(1n)).toBe(false);
    expect(book.release(99n)).toBe(false);
    expect(book.uniqueName('alice')).toBe('alice');
    expect(book.players()).toEqual([]);
    expect(book.get(1n)?.released).toBe(true);
    expect([...book.all()].length).toBe(2);
  });
});

describe('KeyIndex', () => {
  const chain = (gameId: string): Chain => newChain(gameId);

  test('a rejoin key leads to its seat, a watch key to its chain; neither is the other; the watch key comes back only with the rejoin key', () => {
    const index = new KeyIndex();
    const c = chain('g1');
    const keys = index.issue(c, 42n);
    expect(keys.rejoinKey).not.toBe(keys.watchKey);
    const seat = index.seat(keys.rejoinKey);
    expect(seat).toMatchObject({ gameId: 'g1', clientId: 42n });
    expect(index.watch(keys.watchKey)).toBe(c);
    expect(index.seat(keys.watchKey)).toBeUndefined();
    expect(index.watch(keys.rejoinKey)).toBeUndefined();
    if (!seat) throw new Error('no seat');
    expect(index.watchKeyOf(seat, keys.rejoinKey)).toBe(keys.watchKey);
    // The sealed copy is not the key, and another key does not open it.
    expect(Buffer.from(seat.sealedWatchKey).toString('base64url')).not.toBe(keys.watchKey);
    expect(index.watchKeyOf(seat, newKey())).not.toBe(keys.watchKey);
  });

  test('forgetting a game drops the keys that still lead to it, and keeps the ones that moved on', () => {
    const index = new KeyIndex();
    const c = chain('g1');
    const a = index.issue(c, 1n);
    const b = index.issue(c, 2n);
    // Play again: a's seat and the chain moved on to g2; b's seat stayed behind.
    const seatA = index.seat(a.rejoinKey);
    if (!seatA) throw new Error('no seat');
    seatA.gameId = 'g2';
    c.gameId = 'g2';
    index.forgetGame('g1', [a.rejoinHash, b.rejoinHash], c);
    expect(index.seat(a.rejoinKey)?.gameId).toBe('g2');
    expect(index.seat(b.rejoinKey)).toBeUndefined();
    expect(index.watch(b.watchKey)?.gameId).toBe('g2');
    index.forgetGame('g2', [a.rejoinHash], c);
    expect(index.size).toEqual({ seats: 0, watches: 0, invites: 0 });
  });
});
