/**
 * The simulation's own PRNG (mulberry32): integer-only, so a seed replays the same world in every JavaScript
 * engine. Math.random cannot be seeded, and the simulation must never touch it.
 */
export class Random {
  private stateValue: number;

  constructor(seed: number) {
    this.stateValue = seed >>> 0;
  }

  /** The generator's whole state, for hashing a world. */
  get state(): number {
    return this.stateValue;
  }

  nextU32(): number {
    this.stateValue = (this.stateValue + 0x6d2b79f5) >>> 0;
    let t = this.stateValue;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n) for 0 < n ≤ 2^32; the modulo bias is far below anything a player could notice. */
  below(n: number): number {
    return this.nextU32() % n;
  }

  /** An integer in [min, max], both inclusive. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }
}
