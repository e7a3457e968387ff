/**
 * Replay protection: a window of the last 256 sequence numbers per direction of a connection.
 *
 * Two deliberate departures from the reference (both invisible on the wire):
 * - The "too old" test is written subtraction-side, `most >= 256 && seq <= most - 256`, which cannot overflow
 *   near 2^64 (IMPLEMENTERS.md finding 1). The reference's addition-side form wraps.
 * - Empty slots are marked apart from the sequence values. The reference uses UINT64_MAX as its empty marker,
 *   so it accepts sequence 0xffffffffffffffff any number of times; this window accepts it once.
 *
 * Sequences are held as two u32 halves in typed arrays: the packet reader gets them from the nonce for free,
 * and no bigint is made or compared per packet.
 */
import { REPLAY_BUFFER_SIZE } from './constants.ts';

const TWO_32 = 0x1_0000_0000;
const MASK = REPLAY_BUFFER_SIZE - 1;

export class ReplayProtection {
  private mostRecentHi = 0;
  private mostRecentLo = 0;
  private readonly slotHi = new Uint32Array(REPLAY_BUFFER_SIZE);
  private readonly slotLo = new Uint32Array(REPLAY_BUFFER_SIZE);
  private readonly slotUsed = new Uint8Array(REPLAY_BUFFER_SIZE);

  reset(): void {
    this.mostRecentHi = 0;
    this.mostRecentLo = 0;
    this.slotHi.fill(0);
    this.slotLo.fill(0);
    this.slotUsed.fill(0);
  }

  get mostRecentSequence(): bigint {
    return (BigInt(this.mostRecentHi) << 32n) | BigInt(this.mostRecentLo);
  }

  alreadyReceived(sequence: bigint): boolean {
    return this.alreadyReceivedParts(hiOf(sequence), loOf(sequence));
  }

  advance(sequence: bigint): void {
    this.advanceParts(hiOf(sequence), loOf(sequence));
  }

  /** The same test on the sequence's high and low u32 halves. */
  alreadyReceivedParts(hi: number, lo: number): boolean {
    // Oldest sequence still inside the window is most - 255; anything at or below most - 256 is refused.
    const mostHi = this.mostRecentHi;
    const mostLo = this.mostRecentLo;
    if (mostHi > 0 || mostLo >= REPLAY_BUFFER_SIZE) {
      let floorHi = mostHi;
      let floorLo = mostLo - REPLAY_BUFFER_SIZE;
      if (floorLo < 0) {
        floorHi -= 1;
        floorLo += TWO_32;
      }
      if (hi < floorHi || (hi === floorHi && lo <= floorLo)) return true;
    }
    const index = lo & MASK;
    if (this.slotUsed[index] === 0) return false;
    const slotHi = this.slotHi[index] as number;
    return slotHi > hi || (slotHi === hi && (this.slotLo[index] as number) >= lo);
  }

  /** Records a sequence; call only once the packet has been authenticated and accepted. */
  advanceParts(hi: number, lo: number): void {
    if (hi > this.mostRecentHi || (hi === this.mostRecentHi && lo > this.mostRecentLo)) {
      this.mostRecentHi = hi;
      this.mostRecentLo = lo;
    }
    const index = lo & MASK;
    this.slotHi[index] = hi;
    this.slotLo[index] = lo;
    this.slotUsed[index] = 1;
  }
}

function hiOf(sequence: bigint): number {
  if (sequence < 0n || sequence > 0xffff_ffff_ffff_ffffn) throw new RangeError(`sequence out of u64 range: ${sequence}`);
  return Number(sequence >> 32n);
}

function loOf(sequence: bigint): number {
  return Number(BigInt.asUintN(32, sequence));
}
