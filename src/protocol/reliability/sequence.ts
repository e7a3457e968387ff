/**
 * u16 sequence arithmetic shared by packet sequences and message ids. Both wrap at 65536, so "newer" means
 * "ahead by less than half the space": the usual `sequence_greater_than` rule.
 */

export const SEQUENCE_MASK = 0xffff;
const HALF = 0x8000;

export function sequenceGreaterThan(a: number, b: number): boolean {
  return (a > b && a - b <= HALF) || (a < b && b - a > HALF);
}

export function sequenceLessThan(a: number, b: number): boolean {
  return sequenceGreaterThan(b, a);
}

/** Steps forward from `from` to reach `to` (0..65535). A value ≥ 32768 means `to` is really behind `from`. */
export function sequenceDistance(from: number, to: number): number {
  return (to - from) & SEQUENCE_MASK;
}

/** True when `distance` (a `sequenceDistance` result) points backwards. */
export function isBehind(distance: number): boolean {
  return distance >= HALF;
}

export function nextSequence(sequence: number): number {
  return (sequence + 1) & SEQUENCE_MASK;
}
