/**
 * The state of the games this node hosts: the games and their states, passcode → game, key hash → seat or group,
 * and the count of games holding a slot. The in-memory store (memory-store.ts) is the one every registry uses; it
 * is authoritative for this node's games, on one node as in a cluster. Nothing here is a secret in clear: keys are
 * kept as hashes (seats.ts), and a record's secrets sit in its `local` part.
 *
 * What several nodes share is not this store but the cluster directory in front of it
 * (src/matchmaker/cluster/directory.ts: passcode and key-hash routes to the hosting node, game summaries, node
 * heartbeats, a copy of results), which the registry feeds through its observer. That split is deliberate: a game
 * lives on one node, whose private key alone can mint its tokens, so every request for it ends on that node anyway
 * (forwarded there when another node is asked); keeping its state here keeps join, rejoin, watch, status and the
 * report route synchronous and free of network round trips, and lets a node serve its own games while Redis is down.
 *
 * Synchronous on purpose: join, rejoin, watch, status and the report route answer synchronously (the facade's
 * public methods and the tests pin that), and the in-memory store must not cost them a microtask per lookup.
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
