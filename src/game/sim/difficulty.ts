/**
 * Everything the host's difficulty changes, in one table. Rock "mass" counts small rocks: a large rock is 4
 * (it splits into 2 mediums of 2, each into 2 smalls of 1), so splitting conserves mass and the spawner keeps
 * the total near the target; the field therefore never holds more than `rockMass + 3` rocks.
 */
import type { Difficulty } from '../lobby.ts';

export interface DifficultySettings {
  /** Total rock mass the spawner keeps up (large rocks at the start: rockMass / 4). */
  readonly rockMass: number;
  /** Speed range of a large rock, in subunits per tick; smaller rocks are faster (see ROCK_SIZES). */
  readonly rockSpeedMin: number;
  readonly rockSpeedMax: number;
  /** A new large rock enters at most this often while the field is below its mass. */
  readonly spawnEveryTicks: number;
  /** Ticks a ship that hit a rock stays out. */
  readonly respawnTicks: number;
}

export const DIFFICULTY_SETTINGS: Readonly<Record<Difficulty, DifficultySettings>> = {
  easy: { rockMass: 16, rockSpeedMin: 12, rockSpeedMax: 20, spawnEveryTicks: 240, respawnTicks: 45 },
  normal: { rockMass: 28, rockSpeedMin: 16, rockSpeedMax: 28, spawnEveryTicks: 150, respawnTicks: 75 },
  hard: { rockMass: 44, rockSpeedMin: 24, rockSpeedMax: 40, spawnEveryTicks: 75, respawnTicks: 105 },
};
