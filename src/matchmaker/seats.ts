/**
 * Seats and the keys that open them (docs/SEATS.md "Keys"). A seat (client id, name, kind) belongs to a player
 * for the whole game; the worker decides who is connected, the matchmaker only remembers which seats exist and
 * which the worker has given up for good (`seat_released`).
 *
 * Keys are 18 random bytes, base64url (24 characters). Only their SHA-256 is kept: a dump of this process's
 * memory (or, later, of Redis) gives nobody a working key. The watch key a player was given is kept sealed with
 * their rejoin key, so a rejoin can answer it again without the matchmaker ever holding it in clear.
 */
import { createHash } from 'node:crypto';
import type { SeatKind } from '../game/seat-data.ts';
import { MAX_NAME_CHARS } from '../game/message-limits.ts';
import { randomBytes } from './secrets.ts';

export const KEY_BYTES = 18;
/** What a key looks like on the wire (schemas use it; anything else cannot be one). */
export const KEY_PATTERN = '^[A-Za-z0-9_-]{24}$';

export function newKey(): string {
  return Buffer.from(randomBytes(KEY_BYTES)).toString('base64url');
}

/** The index's name for a key: SHA-256 of a domain tag and the key's text, hex. */
export function keyHash(key: string): string {
  return createHash('sha256').update(`huddle key\0${key}`).digest('hex');
}

/** The pad that seals a watch key under a rejoin key; a different domain from keyHash, so the hash does not open it. */
function watchPad(rejoinKey: string): Buffer {
  return createHash('sha256').update(`huddle watch pad\0${rejoinKey}`).digest();
}

function xorPad(bytes: Uint8Array, rejoinKey: string): Uint8Array {
  const pad = watchPad(rejoinKey);
  return bytes.map((b, i) => b ^ (pad[i] ?? 0));
}

export interface Seat {
  readonly clientId: bigint;
  /** Unique (case-insensitively) among the game's unreleased player seats. */
  readonly name: string;
  readonly kind: SeatKind;
  /** The worker said the seat is gone for good (left on purpose, or the rejoin grace ran out). */
  released: boolean;
  /** Hash of the rejoin key that opens it; players only. */
  readonly keyHash: string | undefined;
}

/**
 * `base`, or `base (2)`, `base (3)`, … : the first that `taken` does not know, cut so it stays within the name
 * limit (the suffix is kept whole; the base is shortened).
 */
export function uniqueName(base: string, taken: (lowercased: string) => boolean): string {
  if (!taken(base.toLowerCase())) return base;
  for (let n = 2; ; n++) {
    const suffix = ` (${n})`;
    const room = MAX_NAME_CHARS - suffix.length;
    const candidate = `${[...base].slice(0, room).join('').trimEnd()}${suffix}`;
    if (!taken(candidate.toLowerCase())) return candidate;
  }
}

/** The seats of one game. */
export class SeatBook {
  private readonly seats = new Map<bigint, Seat>();

  add(seat: Omit<Seat, 'released'>): Seat {
    const entry: Seat = { ...seat, released: false };
    this.seats.set(seat.clientId, entry);
    return entry;
  }

  get(clientId: bigint): Seat | undefined {
    return this.seats.get(clientId);
  }

  /** Marks a seat gone for good; false if it was unknown or already released. */
  release(clientId: bigint): boolean {
    const seat = this.seats.get(clientId);
    if (!seat || seat.released) return false;
    seat.released = true;
    return true;
  }

  /** `name` made unique among the unreleased player seats (case-insensitive). */
  uniqueName(name: string): string {
    const taken = new Set<string>();
    for (const seat of this.players()) taken.add(seat.name.toLowerCase());
    return uniqueName(name, (lower) => taken.has(lower));
  }

  /** Unreleased player seats, in the order they were given. */
  players(): Seat[] {
    return [...this.seats.values()].filter((s) => s.kind === 'player' && !s.released);
  }

  /** Every seat ever given in this game, released or not. */
  all(): IterableIterator<Seat> {
    return this.seats.values();
  }
}

/**
 * A game and its play-again successors. Every watch key handed out in any of them leads to the newest
 * (`gameId`); moving the chain on moves them all at once.
 */
export interface Chain {
  gameId: string;
  /** Hashes of the watch keys that lead here, so they go when the chain's last game is forgotten. */
  readonly watchHashes: Set<string>;
}

/** Where a rejoin key leads: its seat in the newest game of its chain. */
export interface SeatKey {
  gameId: string;
  clientId: bigint;
  /** The watch key handed out with this rejoin key, sealed with it. */
  readonly sealedWatchKey: Uint8Array;
}

export interface IssuedKeys {
  rejoinKey: string;
  watchKey: string;
  rejoinHash: string;
}

/** Key hash → seat or chain, across every game in memory. */
export class KeyIndex {
  private readonly seats = new Map<string, SeatKey>();
  private readonly watches = new Map<string, Chain>();

  /**
   * A rejoin key for a player's seat and a watch key for their friends. Each player gets their own watch key (all
   * lead to the same chain): with only hashes kept there is no shared one to hand out again. Returned once; the
   * texts are not kept.
   */
  issue(chain: Chain, clientId: bigint): IssuedKeys {
    const rejoinKey = newKey();
    const watchKey = newKey();
    const rejoinHash = keyHash(rejoinKey);
    const watchHash = keyHash(watchKey);
    this.seats.set(rejoinHash, { gameId: chain.gameId, clientId, sealedWatchKey: xorPad(Buffer.from(watchKey, 'base64url'), rejoinKey) });
    this.watches.set(watchHash, chain);
    chain.watchHashes.add(watchHash);
    return { rejoinKey, watchKey, rejoinHash };
  }

  seat(rejoinKey: string): SeatKey | undefined {
    return this.seats.get(keyHash(rejoinKey));
  }

  seatByHash(hash: string): SeatKey | undefined {
    return this.seats.get(hash);
  }

  watch(watchKey: string): Chain | undefined {
    return this.watches.get(keyHash(watchKey));
  }

  /** The watch key that was handed out with a rejoin key (only the rejoin key's holder can open it). */
  watchKeyOf(entry: SeatKey, rejoinKey: string): string {
    return Buffer.from(xorPad(entry.sealedWatchKey, rejoinKey)).toString('base64url');
  }

  /**
   * Drops the keys that still lead to a game being forgotten: its seats' rejoin keys, and its chain's watch keys
   * if it is the chain's newest game. Keys that moved on to a newer game stay.
   */
  forgetGame(gameId: string, rejoinHashes: Iterable<string>, chain: Chain): void {
    for (const hash of rejoinHashes) if (this.seats.get(hash)?.gameId === gameId) this.seats.delete(hash);
    if (chain.gameId !== gameId) return;
    for (const hash of chain.watchHashes) this.watches.delete(hash);
    chain.watchHashes.clear();
  }

  get size(): { seats: number; watches: number } {
    return { seats: this.seats.size, watches: this.watches.size };
  }
}
