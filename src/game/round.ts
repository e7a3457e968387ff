/**
 * A round of play, as the session drives it. The session owns the flow (lobby, start, countdown, results) and
 * the seats; a round owns only the game itself. Players are named by their seat index (the ship's slot, stable
 * across reconnections); whoever receives the round's messages is named by the netcode client index of their
 * current connection (`RoundSend`), so a rejoin or a spectator is just another receiver.
 */
import type { Difficulty } from './lobby.ts';
import type { ClientMessage } from './messages.ts';

export interface RoundPlayer {
  /** The seat index. */
  readonly index: number;
  readonly name: string;
}

export interface ScoreLine {
  /** The seat index. */
  index: number;
  name: string;
  score: number;
  /** The seat was given up (left on purpose or did not come back in time): still listed. */
  left?: boolean;
  /** False while the player is dropped and the seat is held. */
  connected?: boolean;
}

export interface RoundSetup {
  difficulty: Difficulty;
  roundSeconds: number;
  /** The countdown before play, in which the round already runs (and shows) but nothing moves. */
  countdownSeconds?: number;
  players: RoundPlayer[];
}

export type RoundFactory = (setup: RoundSetup) => Round;
/** Sends to one connection, by netcode client index. */
export type RoundSend = (clientIndex: number, channel: number, message: Uint8Array) => void;

export interface Round {
  /** Channels besides the reliable one that this round reads (binary game messages). */
  channels(): readonly number[];
  /** The countdown starts: the round runs from now (`countdownSeconds` of waiting, then `roundSeconds`). */
  begin(now: number): void;
  /** A game command on the reliable channel from a seat; false if it is not valid for this round. */
  onCommand(seat: number, command: ClientMessage, now: number): boolean;
  /** A binary message on one of `channels()` from a seat; false if it does not decode. */
  onMessage(seat: number, channel: number, bytes: Uint8Array, now: number): boolean;
  /** Steps the game up to `now` and sends what is due (the session calls it at least when `nextDueAt` says). */
  update(now: number, send: RoundSend): void;
  /**
   * When the round next has something to do (a step, a snapshot), on the session's clock; Infinity when nothing
   * will be due until something else happens (not begun, over). The game loop wakes for it, and no more often.
   */
  nextDueAt(): number;
  /** A connection now carries this seat (at the start or on a rejoin): it starts a fresh stream. */
  connect(seat: number, clientIndex: number): void;
  /** The seat's connection is gone but the seat is held: the player waits in place with neutral controls. */
  disconnect(seat: number): void;
  /** The seat is given up for good: it leaves play, its score stays (marked left). */
  removePlayer(seat: number): void;
  /** Spectators: they receive what players see and send nothing. */
  addViewer(clientIndex: number): void;
  removeViewer(clientIndex: number): void;
  isOver(now: number): boolean;
  /** Seconds of play left (the whole round while the countdown runs). */
  secondsLeft(now: number): number;
  /** Best first; every player who played, including those who left. */
  scores(): ScoreLine[];
}

/** Highest score first; ties by name so the order is stable. */
export function rankScores(lines: ScoreLine[]): ScoreLine[] {
  return lines.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name) || a.index - b.index);
}
