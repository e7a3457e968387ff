/**
 * One game as the registry keeps it. The fields at the top level are the game's state (what a status, a join or a
 * report on any node needs: a shared store holds them); `local` is what only the node hosting the game may hold
 * (its secrets, its worker handle, the promises its create call awaits), never shared and never serialised.
 */
import type { SeatState, TickStats } from '../../contract/worker-messages.ts';
import type { Difficulty } from '../../game/lobby.ts';
import type { GameHandle } from '../../workers/launcher.ts';
import type { GameState } from '../metrics.ts';
import type { RoundOutcome } from '../results-store.ts';
import type { Chain, SeatBook } from '../seats.ts';
import type { ClientIds } from '../tokens.ts';
import type { NextGameStatus } from './types.ts';

/** What a game ends as, and why (its status's `endReason`). */
export interface EndState {
  state: 'finished' | 'failed';
  reason: string;
}

export interface NextGame extends NextGameStatus {
  /** Settles with the new game once its seats are in place (only while starting). */
  done: Promise<GameRecord> | undefined;
}

/** Held only by the node that hosts the game. */
export interface NodeLocal {
  readonly privateKey: Uint8Array;
  readonly reportToken: Uint8Array;
  handle: GameHandle | undefined;
  /** Why we asked the worker to stop, and what the game then becomes. */
  stopIntent: EndState | undefined;
  readonly started: PromiseWithResolvers<void>;
  readonly exited: PromiseWithResolvers<void>;
}

export interface GameRecord {
  readonly id: string;
  /** The host's display name, which also names the game. */
  readonly name: string;
  /** Drawn again (before create answers) only if another node of the cluster already holds it. */
  passcode: string;
  readonly port: number;
  readonly maxPlayers: number;
  readonly createdAt: number;
  readonly launchedAt: number;
  state: GameState;
  difficulty: Difficulty | undefined;
  /** Seats taken, as the worker last reported (connected players and dropped ones whose seat is held). */
  players: number;
  /** Whether the worker has reported its seats yet; before that the seat book counts them. */
  playersReported: boolean;
  playerNames: string[] | undefined;
  spectators: number;
  readonly seats: SeatBook;
  /** This game and its play-again successors; every watch key of the group leads to the newest. */
  readonly chain: Chain;
  /** Set once a round's results are stored. */
  outcome: RoundOutcome | undefined;
  /** Whose seat was host when the round ended, as the finished report says; the creator when it does not. */
  hostAtEnd: bigint | undefined;
  /** The game this one is the play-again of. */
  readonly previousId: string | undefined;
  /** The play-again game the host asked for. */
  next: NextGame | undefined;
  /** The game loop's tick durations over the last heartbeat interval. */
  tick: TickStats | undefined;
  /** The held player seats (connected, ping) as the last heartbeat said, for the admin view. */
  seatStates: SeatState[] | undefined;
  /** Monotonic ms when the player count last became 0 (or ready, which starts empty). */
  emptySince: number | undefined;
  /** Monotonic ms of the last state change. */
  stateSince: number;
  endReason: string | undefined;
  readonly clientIds: ClientIds;
  /** The creator's seat, reserved before launch so the worker knows its host before anyone connects. */
  readonly hostClientId: bigint;
  /** True from create until the launcher's exit: the slot and port are in use. */
  slotHeld: boolean;
  readonly local: NodeLocal;
}

/** Seats counted against max players: the worker's count once it reports, the seat book's until then. */
export function seatsTaken(record: GameRecord): number {
  return record.playersReported ? record.players : record.seats.players().length;
}

/** A game's secrets as text, in the encodings the worker environment carries them. */
export function secretTexts(local: Pick<NodeLocal, 'reportToken' | 'privateKey'>): string[] {
  return [Buffer.from(local.reportToken).toString('base64url'), Buffer.from(local.privateKey).toString('base64')];
}
