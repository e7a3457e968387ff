/** A game's wake phase from its port (src/workers/wake-phase.ts): the games of a machine spread over the period. */
import { expect, test } from 'bun:test';
import { wakePhase } from '../../src/workers/wake-phase.ts';

/** The smallest distance between two of the phases, going round the period. */
function smallestGap(phases: number[]): number {
  const sorted = [...phases].sort((a, b) => a - b);
  let smallest = 1 - sorted.at(-1)! + sorted[0]!;
  for (let i = 1; i < sorted.length; i++) smallest = Math.min(smallest, sorted[i]! - sorted[i - 1]!);
  return smallest;
}

test('K games on consecutive ports (any K up to 200, anywhere in the port range) get phases spread over the period', () => {
  for (const base of [1024, 40000, 40037, 65335]) {
    for (let k = 2; k <= 200; k++) {
      const phases = Array.from({ length: k }, (_, i) => wakePhase(base + i));
      for (const phase of phases) {
        expect(phase).toBeGreaterThanOrEqual(0);
        expect(phase).toBeLessThan(1);
      }
      // Evenly spread would be 1/k apart; golden-ratio points keep at least ~0.38/k (random ones: ~1/k² apart).
      expect(smallestGap(phases)).toBeGreaterThan(0.3 / k);
    }
  }
});

test('ports a few apart (a range with gaps, as games come and go) are spread too', () => {
  const ports = [40000, 40002, 40003, 40007, 40011, 40012, 40019, 40020];
  expect(smallestGap(ports.map(wakePhase))).toBeGreaterThan(0.02);
  // The fractional part of 40000 × 0.6180339887… = 24721.3595…
  expect(wakePhase(40000)).toBeCloseTo(0.35955, 4);
});

test('a port that is not an integer 0..65535 is refused, not turned into phase 0', () => {
  for (const port of [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => wakePhase(port)).toThrow(RangeError);
  expect(wakePhase(0)).toBe(0);
});
