/**
 * Where in each period a game's periodic wakes fall, from its UDP port: the fractional part of port × φ⁻¹ (the
 * golden ratio's inverse). The games of one machine have different ports, and for any number of consecutive ports
 * these fractions stay spread over [0, 1) — the largest gap is never more than about 2.6 times the smallest (the
 * three-gap theorem) — so the games' wakes take turns instead of meeting at random, where the later of two waits
 * for the other's work (BENCHMARKS.md, "Load", lever 9). It needs no coordination: a port is one game's at a time on
 * a node, and games on other nodes do not share its cores.
 */
const INVERSE_GOLDEN_RATIO = (Math.sqrt(5) - 1) / 2;

export function wakePhase(port: number): number {
  const phase = (port * INVERSE_GOLDEN_RATIO) % 1;
  // Guard the edge the modulo can round onto.
  return phase >= 0 && phase < 1 ? phase : 0;
}
