/**
 * The field and its units. Rocks and bullets live on an integer grid of 1/16 world unit with integer velocities
 * per tick, so a client that knows one rock's state extrapolates it to any later tick exactly. The field wraps.
 */
export const SUBUNITS = 16;
export const FIELD_UNITS_WIDE = 1600;
export const FIELD_UNITS_HIGH = 1000;
export const FIELD_WIDTH = FIELD_UNITS_WIDE * SUBUNITS;
export const FIELD_HEIGHT = FIELD_UNITS_HIGH * SUBUNITS;

export function wrap(value: number, size: number): number {
  return ((value % size) + size) % size;
}

/** The shortest signed offset from `from` to `to` on a wrapping axis of `size`: in [-size/2, size/2). */
export function wrapDelta(from: number, to: number, size: number): number {
  return wrap(to - from + size / 2, size) - size / 2;
}

export function wrapX(x: number): number {
  return wrap(x, FIELD_WIDTH);
}

export function wrapY(y: number): number {
  return wrap(y, FIELD_HEIGHT);
}

/** Squared distance between two points the short way round the field. */
export function wrappedDistanceSquared(ax: number, ay: number, bx: number, by: number): number {
  const dx = wrapDelta(ax, bx, FIELD_WIDTH);
  const dy = wrapDelta(ay, by, FIELD_HEIGHT);
  return dx * dx + dy * dy;
}

/** floor(√n) for a non-negative integer, corrected so it never depends on how an engine rounds Math.sqrt. */
export function integerSqrt(n: number): number {
  let s = Math.floor(Math.sqrt(n));
  while (s * s > n) s--;
  while ((s + 1) * (s + 1) <= n) s++;
  return s;
}

/**
 * Integer division rounding toward zero, never -0 (which would make equal states compare unequal). Exact for
 * the magnitudes here: a quotient of integers below 2^26 is never within an ulp of the wrong integer.
 */
export function divToZero(a: number, b: number): number {
  return (a / b) | 0;
}
