/**
 * What the registry tells whoever keeps a shared index of its games (the cluster directory, issue #10): a game
 * appeared or changed state, it issued keys, it gave its slot back, a round's results were stored. The registry
 * stays authoritative and synchronous; every hook but the passcode claim is fire-and-forget, and an observer must
 * never throw into a game's own path (it queues and retries on its own).
 *
 * The passcode claim is the one awaited step: a passcode must be unique across the cluster before create answers
 * with it, so the create path waits for it (in parallel with the worker's start).
 */
import type { IssuedKeys } from '../seats.ts';
import type { GameRecord } from './game-record.ts';

/** The public part of a game an observer may read: never its secrets (`local`) or its seat book. */
export type ObservedGame = Readonly<
  Pick<GameRecord, 'id' | 'passcode' | 'state' | 'endReason' | 'createdAt' | 'maxPlayers' | 'difficulty' | 'chain' | 'slotHeld'>
>;

export interface RegistryObserver {
  /**
   * Takes `game.passcode` for the game cluster-wide. When another game holds it, calls `redraw()` (which gives the
   * game a fresh local passcode and answers it) and tries again, a bounded number of times. Rejects with a
   * GameError (`cluster_unavailable`, `start_failed`) when it cannot; the create path then ends the game.
   */
  claimPasscode(game: ObservedGame, redraw: () => string): Promise<void>;
  /** The game was added, or its state changed (including its end). */
  gameChanged(game: ObservedGame): void;
  /** The game handed out a seat's keys (their routes are published as hashes, never the keys). */
  keysIssued(game: ObservedGame, keys: Pick<IssuedKeys, 'rejoinKey' | 'watchKey' | 'inviteKey'>): void;
  /** The game gave its slot back: its passcode is free again. */
  gameReleased(game: ObservedGame): void;
  /** A round's results were stored durably (acknowledged to the game already). */
  resultsStored(gameId: string): void;
}

/** The observer of a registry nobody watches (one node, or tests). */
export const NO_OBSERVER: RegistryObserver = {
  claimPasscode: () => Promise.resolve(),
  gameChanged: () => {},
  keysIssued: () => {},
  gameReleased: () => {},
  resultsStored: () => {},
};
