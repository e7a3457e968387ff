/** Overlap tests on the wrapping field, all in integers (squared distances stay far below 2^53). */
import { divToZero, wrappedDistanceSquared } from './space.ts';

export function circlesOverlap(ax: number, ay: number, ar: number, bx: number, by: number, br: number): boolean {
  const reach = ar + br;
  return wrappedDistanceSquared(ax, ay, bx, by) < reach * reach;
}

/**
 * A point that moved by (vx, vy) this tick, tested at the half step and at its end: a bullet outruns a small
 * rock's diameter in one tick, and testing only the end would let it pass through.
 */
export function sweptPointHits(x: number, y: number, vx: number, vy: number, cx: number, cy: number, radius: number): boolean {
  return (
    circlesOverlap(x, y, 0, cx, cy, radius) ||
    circlesOverlap(x - divToZero(vx, 2), y - divToZero(vy, 2), 0, cx, cy, radius)
  );
}
