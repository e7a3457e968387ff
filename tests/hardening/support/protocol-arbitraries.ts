/** Generators and reference models shared by the hardening suites' protocol properties. */
import fc from 'fast-check';
import { KEY_BYTES, PACKET_TYPE_COUNT, REPLAY_BUFFER_SIZE } from '../../../src/protocol/netcode/index.ts';

export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Every packet type allowed: for round trips, where the role filter is not what is being tested. */
export const ALL_PACKETS = (1 << PACKET_TYPE_COUNT) - 1;

/**
 * Any u64, weighted towards the values implementations get wrong: 0, 1, every byte-length boundary of the
 * shortest sequence encoding (2^8k - 1 and 2^8k), 2^63 (the server's global sequence start) and 2^64 - 1.
 */
export const arbU64: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).chain((bytes) => fc.constantFrom((1n << BigInt(8 * bytes)) - 1n, bytes < 8 ? 1n << BigInt(8 * bytes) : U64_MAX)) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 1n, 1n << 63n, (1n << 63n) - 1n, U64_MAX - 1n, U64_MAX) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 1000n }) },
);

export const arbKey: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: KEY_BYTES, maxLength: KEY_BYTES });

/**
 * The replay window's documented semantics, written as naively as possible: a set of every sequence accepted,
 * and the newest one. A sequence is accepted iff it was never accepted before and is not older than
 * newest - 255 (docs/PROTOCOL.md: `most >= 256 && seq <= most - 256` is too old). Unbounded memory, obviously
 * right; the real window must agree with it on every input.
 */
export function referenceReplayWindow(): { accepts(sequence: bigint): boolean; record(sequence: bigint): void } {
  const seen = new Set<bigint>();
  let most = 0n;
  const size = BigInt(REPLAY_BUFFER_SIZE);
  return {
    accepts: (sequence) => !seen.has(sequence) && !(most >= size && sequence <= most - size),
    record: (sequence) => {
      seen.add(sequence);
      if (sequence > most) most = sequence;
    },
  };
}
