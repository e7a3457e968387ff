/**
 * Seats and the keys that open them (docs/SEATS.md "Keys"). A seat (client id, name, kind) belongs to a player
 * for the whole game; the worker decides who is connected, the matchmaker only remembers which seats exist and
 * which the worker has given up for good (`seat_released`).
 *
 * Keys are 18 random bytes, base64url (24 characters). Only their SHA-256 is kept: a dump of this process's
 * memory (or, later, of Redis) gives nobody a working key. The watch and invite keys a player was given are kept
 * sealed with their rejoin key, so a rejoin can answer them again without the matchmaker ever holding them in clear.
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

/**
 * The pad that seals a watch (or invite) key under a rejoin key; a different domain from keyHash, so the hash does
 * not open it, and a different domain per kind, so the two sealed keys do not share a pad.
 */
function sealPad(rejoinKey: string, kind: 'watch' | 'invite'): Buffer {
  return createHash('sha256').update(`huddle ${kind} pad\0${rejoinKey}`).digest();
}

function xorPad(bytes: Uint8Array, rejoinKey: string, kind: 'watch' | 'invite' = 'watch'): Uint8Array {
  const pad = sealPad(rejoinKey, kind);
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

  /** A seat as an adoption record kept it (released or not), in the order given. */
  restore(seat: Seat): void {
    this.seats.set(seat.clientId, { ...seat });
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
 * A game and its play-again successors. Every watch and invite key handed out in any of them leads to the newest
 * (`gameId`); moving the chain on moves them all at once.
 */
export interface Chain {
  gameId: string;
  /** Hashes of the watch keys that lead here, so they go when the chain's last game is forgotten. */
  readonly watchHashes: Set<string>;
  /** Hashes of the invite keys that lead here (docs/SEATS.md "Keys"), forgotten with the watch keys. */
  readonly inviteHashes: Set<string>;
}

/** A new group: one game, no keys yet. */
export function newChain(gameId: string): Chain {
  return { gameId, watchHashes: new Set(), inviteHashes: new Set() };
}

/** Where a rejoin key leads: its seat in the newest game of its chain. */
export interface SeatKey {
  gameId: string;
  clientId: bigint;
  /** The watch key handed out with this rejoin key, sealed with it. */
  readonly sealedWatchKey: Uint8Array;
  /** The invite key handed out with this rejoin key, sealed with it. */
  readonly sealedInviteKey: Uint8Array;
}

export interface IssuedKeys {
  rejoinKey: string;
  watchKey: string;
  inviteKey: string;
  rejoinHash: string;
}

/** The watch key that was handed out with a rejoin key; only the rejoin key's holder can open it (no store needed). */
export function openWatchKey(entry: Pick<SeatKey, 'sealedWatchKey'>, rejoinKey: string): string {
  return Buffer.from(xorPad(entry.sealedWatchKey, rejoinKey)).toString('base64url');
}

/** The invite key that was handed out with a rejoin key; only the rejoin key's holder can open it. */
export function openInviteKey(entry: Pick<SeatKey, 'sealedInviteKey'>, rejoinKey: string): string {
  return Buffer.from(xorPad(entry.sealedInviteKey, rejoinKey, 'invite')).toString('base64url');
}

/** Key hash → seat or chain, across every game in memory. */
export class KeyIndex {
  private readonly seats = new Map<string, SeatKey>();
  private readonly watches = new Map<string, Chain>();
  private readonly invites = new Map<string, Chain>();

  /**
   * A rejoin key for a player's seat, a watch key and an invite key for their friends. Each player gets their own
   * watch and invite keys (all lead to the same chain): with only hashes kept there is no shared one to hand out
   * again. Returned once; the texts are not kept.
   */
  issue(chain: Chain, clientId: bigint): IssuedKeys {
    const rejoinKey = newKey();
    const watchKey = newKey();
    const inviteKey = newKey();
    const rejoinHash = keyHash(rejoinKey);
    const watchHash = keyHash(watchKey);
    const inviteHash = keyHash(inviteKey);
    this.seats.set(rejoinHash, {
      gameId: chain.gameId,
      clientId,
      sealedWatchKey: xorPad(Buffer.from(watchKey, 'base64url'), rejoinKey),
      sealedInviteKey: xorPad(Buffer.from(inviteKey, 'base64url'), rejoinKey, 'invite'),
    });
    this.watches.set(watchHash, chain);
    chain.watchHashes.add(watchHash);
    this.invites.set(inviteHash, chain);
    chain.inviteHashes.add(inviteHash);
    return { rejoinKey, watchKey, inviteKey, rejoinHash };
  }

  seat(rejoinKey: string): SeatKey | undefined {
    return this.seats.get(keyHash(rejoinKey));
  }

  /** Where a rejoin key's hash leads (for an adoption record: hashes and sealed keys only, never a key). */
  seatByHash(rejoinHash: string): SeatKey | undefined {
    return this.seats.get(rejoinHash);
  }

  /** Puts back what an adoption record kept: a seat's key entry, and its group's watch and invite hashes. */
  restore(rejoinHash: string, entry: SeatKey, chain: Chain): void {
    this.seats.set(rejoinHash, entry);
    for (const hash of chain.watchHashes) this.watches.set(hash, chain);
    for (const hash of chain.inviteHashes) this.invites.set(hash, chain);
  }

  /** Puts back a group's watch and invite hashes (a group whose seats hold no key any more). */
  restoreChain(chain: Chain): void {
    for (const hash of chain.watchHashes) this.watches.set(hash, chain);
    for (const hash of chain.inviteHashes) this.invites.set(hash, chain);
  }

  /** Play again: the seat a rejoin key (by hash) opens moves to the group's new game. False if the hash is unknown. */
  moveSeat(rejoinHash: string, gameId: string, clientId: bigint): boolean {
    const entry = this.seats.get(rejoinHash);
    if (!entry) return false;
    entry.gameId = gameId;
    entry.clientId = clientId;
    return true;
  }

  watch(watchKey: string): Chain | undefined {
    return this.watches.get(keyHash(watchKey));
  }

  /** The chain an invite key leads to (its newest game), if any. */
  invite(inviteKey: string): Chain | undefined {
    return this.invites.get(keyHash(inviteKey));
  }

  /** The watch key that was handed out with a rejoin key (only the rejoin key's holder can open it). */
  watchKeyOf(entry: SeatKey, rejoinKey: string): string {
    return openWatchKey(entry, rejoinKey);
  }

  /** The invite key that was handed out with a rejoin key (only the rejoin key's holder can open it). */
  inviteKeyOf(entry: SeatKey, rejoinKey: string): string {
    return openInviteKey(entry, rejoinKey);
  }

  /**
   * Drops the keys that still lead to a game being forgotten: its seats' rejoin keys, and its chain's watch and
   * invite keys if it is the chain's newest game. Keys that moved on to a newer game stay.
   */
  forgetGame(gameId: string, rejoinHashes: Iterable<string>, chain: Chain): void {
    for (const hash of rejoinHashes) if (this.seats.get(hash)?.gameId === gameId) this.seats.delete(hash);
    if (chain.gameId !== gameId) return;
    for (const hash of chain.watchHashes) this.watches.delete(hash);
    chain.watchHashes.clear();
    for (const hash of chain.inviteHashes) this.invites.delete(hash);
    chain.inviteHashes.clear();
  }

  get size(): { seats: number; watches: number; invites: number } {
    return { seats: this.seats.size, watches: this.watches.size, invites: this.invites.size };
  }
}
