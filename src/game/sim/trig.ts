/**
 * Integer sine and cosine over a 1024-step circle. Math.sin is not required to give the same bits in every
 * engine, so the table is built from a Taylor series with +, * and / only (IEEE 754 rounds those identically
 * everywhere) and rounded to integers: a server and a browser get the very same table.
 */
import { divToZero } from './space.ts';

export const ANGLE_STEPS = 1024;
export const TRIG_ONE = 1 << 14;

const QUARTER = ANGLE_STEPS / 4;

function taylorSine(x: number): number {
  // x ≤ π/2: 12 terms are well past double precision.
  let term = x;
  let sum = x;
  for (let n = 1; n < 12; n++) {
    term = (-term * x * x) / ((2 * n) * (2 * n + 1));
    sum += term;
  }
  return sum;
}

const quarterWave = new Int32Array(QUARTER + 1);
for (let i = 0; i <= QUARTER; i++) quarterWave[i] = Math.round(taylorSine((Math.PI / 2) * (i / QUARTER)) * TRIG_ONE);

/** sin(angle) × TRIG_ONE for an angle in steps (any integer; wraps). */
export function sinOf(angle: number): number {
  const a = ((angle % ANGLE_STEPS) + ANGLE_STEPS) % ANGLE_STEPS;
  if (a <= QUARTER) return quarterWave[a]!;
  if (a <= 2 * QUARTER) return quarterWave[2 * QUARTER - a]!;
  if (a <= 3 * QUARTER) return -quarterWave[a - 2 * QUARTER]!;
  return -quarterWave[ANGLE_STEPS - a]!;
}

export function cosOf(angle: number): number {
  return sinOf(angle + QUARTER);
}

export function wrapAngle(angle: number): number {
  return ((angle % ANGLE_STEPS) + ANGLE_STEPS) % ANGLE_STEPS;
}

/** (cos, sin) of `angle` scaled to `length`, truncated toward zero: integer velocity components. */
export function polar(angle: number, length: number): { x: number; y: number } {
  return { x: divToZero(cosOf(angle) * length, TRIG_ONE), y: divToZero(sinOf(angle) * length, TRIG_ONE) };
}
