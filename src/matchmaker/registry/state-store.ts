/**
 * The state a game's registry must share with other nodes once there are several (issue #10): the games and their
 * states, passcode → game, key hash → seat or group, and the count of games holding a slot. The in-memory store
 * (memory-store.ts) is the embedded default and the one every registry uses today; a Redis store implements the
 * same interface later. Nothing here is a secret in clear: keys are kept as hashes (seats.ts), and a record's
 * secrets sit in its `local` part, which a shared store never writes out.
 *
 * Synchronous on purpose: join, rejoin, watch, status and the report route answer synchronously (the facade's
 * public methods and the tests pin that), and the in-memory store must not cost them a microtask per lookup. A
 * Redis store will sit behind a node-local cache of this shape, or the facade's methods become async then, in
 * one step, with the routes; either way the callers of this interface are the registry's modules only.
 *
 * Records are handed out by reference, and the registry changes a game's fields in place at a few points (the
 * state machine's transition and release, a report, a supervision event); a store that copies must write those
 * back there.
 */
import type { Chain, IssuedKeys, SeatKey } from '../seats.ts';
import type { GameRecord } from './game-record.ts';

export interface GameStateStore {
  /** A game the registry knows (live, or dead and not yet forgotten). */
  game(gameId: string): GameRecord | undefined;
  /** Every game known, oldest first. */
  games(): Iterable<GameRecord>;
  /** Games holding a slot (their worker has not exited), oldest first. */
  liveGames(): GameRecord[];
  /** Adds a new game, which holds a slot from now on. */
  addGame(record: GameRecord): void;
  /** The game gave its slot back (called once per game, by the state machine's release). */
  releaseSlot(record: GameRecord): void;
  /** Games holding a slot. */
  readonly live: number;
  /** Forgets the oldest dead games beyond `limit`, with the keys that still lead only to them. */
  pruneHistory(limit: number): void;

  /** A fresh passcode for a game, unique among live ones. Throws PasscodeExhaustedError. */
  issuePasscode(gameId: string): string;
  /** The game a typed passcode admits to, if any. */
  gameForPasscode(input: string): string | undefined;
  revokePasscode(code: string): void;

  /** Fresh rejoin, watch and invite keys for a player's seat in a group; only their hashes are kept. */
  issueKeys(chain: Chain, clientId: bigint): IssuedKeys;
  /** Where a rejoin key leads. */
  seatKey(rejoinKey: string): SeatKey | undefined;
  /** The group a watch key leads to. */
  watchChain(watchKey: string): Chain | undefined;
  /** The group an invite key leads to. */
  inviteChain(inviteKey: string): Chain | undefined;
  /** Play again: the seat a rejoin key (by hash) opens is now `clientId` in `gameId`. False if the hash is unknown. */
  moveSeat(rejoinHash: string, gameId: string, clientId: bigint): boolean;
  /** Play again: every watch and invite key of the group leads to `gameId` from now on. */
  moveChain(chain: Chain, gameId: string): void;

  /** Where a rejoin key's hash leads: what an adoption record keeps of a seat's keys (registry/adopt.ts). */
  seatKeyByHash(rejoinHash: string): SeatKey | undefined;
  /**
   * A live game adopted after a restart (registry/adopt.ts): the record holds a slot again, its passcode and its
   * keys resolve again. False (and nothing changed) if its passcode now belongs to another game.
   */
  restoreGame(record: GameRecord, seatKeys: readonly { rejoinHash: string; entry: SeatKey }[]): boolean;
}
