/**
 * Why a packet or token was refused. Hostile input is normal for a UDP server, so readers return one of these
 * preallocated values instead of throwing: refusing a flood costs no allocation and no stack trace.
 */
export type RejectReason =
  /** Wrong length for what the prefix says (or empty). */
  | 'bad-size'
  /** A packet type this side of the connection never accepts. */
  | 'not-allowed'
  /** Type nibble outside 0..6. */
  | 'bad-type'
  /** Sequence byte count nibble outside 1..8. */
  | 'bad-sequence-bytes'
  /** No key to open it with (no private key for a request, no receive key for this address). */
  | 'no-key'
  | 'bad-version'
  | 'wrong-protocol'
  /** Connect token expire timestamp at or before now. */
  | 'expired'
  /** AEAD tag did not verify: tampered, wrong key, wrong AAD or wrong nonce. */
  | 'auth-failed'
  /** Sequence already seen or older than the replay window. */
  | 'replayed'
  /** Authentic, but the decrypted body has the wrong size for its type. */
  | 'bad-body-size'
  /** Token fields out of range. */
  | 'bad-address-count'
  | 'bad-address-type'
  | 'bad-timestamps';

export class Rejection {
  constructor(readonly reason: RejectReason) {}
}

function table<K extends RejectReason>(reasons: readonly K[]): { readonly [P in K]: Rejection } {
  const out = {} as { [P in K]: Rejection };
  for (const reason of reasons) out[reason] = new Rejection(reason);
  return out;
}

export const Rejected = table([
  'bad-size',
  'not-allowed',
  'bad-type',
  'bad-sequence-bytes',
  'no-key',
  'bad-version',
  'wrong-protocol',
  'expired',
  'auth-failed',
  'replayed',
  'bad-body-size',
  'bad-address-count',
  'bad-address-type',
  'bad-timestamps',
] as const);

export function isRejection(value: unknown): value is Rejection {
  return value instanceof Rejection;
}
