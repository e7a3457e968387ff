/**
 * A round of play, as the session drives it. The session owns the flow (lobby, start, countdown, results);
 * a round owns only the game itself, so the tap round of the first milestone and the arena share the flow.
 */
import type { Difficulty } from './lobby.ts';
import type { ClientMessage } from './messages.ts';

export interface RoundPlayer {
  readonly index: number;
  readonly name: string;
}

export interface ScoreLine {
  index: number;
  name: string;
  score: number;
}

export interface RoundSetup {
  difficulty: Difficulty;
  roundSeconds: number;
  players: RoundPlayer[];
}

export type RoundFactory = (setup: RoundSetup) => Round;
export type RoundSend = (clientIndex: number, channel: number, message: Uint8Array) => void;

export interface Round {
  /** Channels besides the reliable one that this round reads (binary game messages). */
  channels(): readonly number[];
  begin(now: number): void;
  /** A game command on the reliable channel; false if it is not valid for this round. */
  onCommand(clientIndex: number, command: ClientMessage, now: number): boolean;
  /** A binary message on one of `channels()`; false if it does not decode. */
  onMessage(clientIndex: number, channel: number, bytes: Uint8Array, now: number): boolean;
  update(now: number, send: RoundSend): void;
  removePlayer(clientIndex: number): void;
  isOver(now: number): boolean;
  /** Best first. */
  scores(): ScoreLine[];
}

/** Highest score first; ties by name so the order is stable. */
export function rankScores(lines: ScoreLine[]): ScoreLine[] {
  return lines.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name) || a.index - b.index);
}
