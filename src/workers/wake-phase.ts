/**
 * Where in each period a game's periodic wakes fall, from its UDP port: the fractional part of port × φ⁻¹ (the
 * golden ratio's inverse). The games of one machine have different ports, and for any number of consecutive ports
 * these fractions stay spread over [0, 1) — the largest gap is never more than about 2.6 times the smallest (the
 * three-gap theorem) — so the games' wakes take turns instead of meeting at random, where the later of two waits
 * for the other's work (BENCHMARKS.md, "Load", lever 9). It needs no coordination: a port is one game's at a time on
 * a node, and games on other nodes do not share its cores.
 */
const INVERSE_GOLDEN_RATIO = (Math.sqrt(5) - 1) / 2;

/** The phase of a game on UDP `port` (an integer 0..65535; anything else is a RangeError). */
export function wakePhase(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`a UDP port is an integer 0..65535, got ${port}`);
  return (port * INVERSE_GOLDEN_RATIO) % 1;
}
