/**
 * Rocks drift in straight lines on the integer grid and only change by being destroyed: that is what lets a
 * client extrapolate them from a single sighting.
 */
import type { DifficultySettings } from './difficulty.ts';
import type { Random } from './random.ts';
import { SUBUNITS } from './space.ts';
import { ANGLE_STEPS, polar } from './trig.ts';

export const RockSize = { large: 0, medium: 1, small: 2 } as const;
export type RockSize = (typeof RockSize)[keyof typeof RockSize];

interface RockKind {
  readonly radius: number;
  /** In small rocks: splitting conserves it. */
  readonly mass: number;
  readonly score: number;
  /** Speed multiplier over a large rock's, in eighths. */
  readonly speedEighths: number;
}

export const ROCK_KINDS: readonly [RockKind, RockKind, RockKind] = [
  { radius: 40 * SUBUNITS, mass: 4, score: 20, speedEighths: 8 },
  { radius: 24 * SUBUNITS, mass: 2, score: 50, speedEighths: 11 },
  { radius: 14 * SUBUNITS, mass: 1, score: 100, speedEighths: 14 },
];

/** The wire's 8-bit signed velocity; the fastest difficulty's smallest rock stays under it. */
export const MAX_ROCK_SPEED = 127;
export const ROCK_ID_SPACE = 1024;

export interface Rock {
  readonly id: number;
  readonly size: RockSize;
  x: number;
  y: number;
  readonly vx: number;
  readonly vy: number;
}

export function rockKind(size: RockSize): RockKind {
  return ROCK_KINDS[size];
}

/** A velocity in a random direction at a speed the difficulty allows for this size. */
export function rockVelocity(size: RockSize, settings: DifficultySettings, random: Random): { vx: number; vy: number } {
  const base = random.between(settings.rockSpeedMin, settings.rockSpeedMax);
  const speed = Math.min(MAX_ROCK_SPEED, (base * rockKind(size).speedEighths) >> 3);
  const v = polar(random.below(ANGLE_STEPS), speed);
  return { vx: v.x, vy: v.y };
}

export function smallerThan(size: RockSize): RockSize | undefined {
  return size === RockSize.large ? RockSize.medium : size === RockSize.medium ? RockSize.small : undefined;
}
