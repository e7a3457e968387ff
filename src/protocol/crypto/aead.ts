/**
 * The one crypto seam of the protocol: an AEAD with two functions.
 *
 * netcode 1.02 uses ChaCha20-Poly1305-IETF (12-byte nonce) for packets and challenge tokens and
 * XChaCha20-Poly1305-IETF (24-byte nonce) for the private part of connect tokens. The nonce's length picks
 * the construction, so callers never name a cipher and every backend (pure JS, wasm) is interchangeable
 * between the server, the bot and the browser.
 *
 * Both functions work on caller-owned buffers so the packet hot path allocates nothing:
 * - `seal` encrypts `data` and writes ciphertext then the 16-byte tag into `out`
 *   (`out.length === data.length + 16`). `out` may start at the same byte as `data` (in place).
 * - `open` checks the tag at the end of `sealed` and, only if it is authentic, writes the plaintext into `out`
 *   (`out.length === sealed.length - 16`) and returns true. On failure it returns false and `out` holds
 *   unspecified bytes. `out` may start at the same byte as `sealed` (in place).
 * - Every argument is read during the call only: callers reuse their nonce and AAD scratch at once.
 */
export interface Aead {
  /** A short name for logs and benchmarks, e.g. "noble" or "libsodium-wasm". */
  readonly name: string;
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, out: Uint8Array): void;
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
}

export const AEAD_KEY_BYTES = 32;
export const AEAD_TAG_BYTES = 16;
/** ChaCha20-Poly1305-IETF nonce: packets and challenge tokens. */
export const IETF_NONCE_BYTES = 12;
/** XChaCha20-Poly1305-IETF nonce: connect token private data. */
export const XCHACHA_NONCE_BYTES = 24;

export class AeadError extends Error {
  override readonly name = 'AeadError';
}

/** Validates the shape of a seal/open call; backends call it so misuse fails loudly instead of corrupting. */
export function checkAeadArgs(key: Uint8Array, nonce: Uint8Array, inputLength: number, outLength: number): void {
  if (key.length !== AEAD_KEY_BYTES) throw new AeadError(`key must be ${AEAD_KEY_BYTES} bytes, got ${key.length}`);
  if (nonce.length !== IETF_NONCE_BYTES && nonce.length !== XCHACHA_NONCE_BYTES) {
    throw new AeadError(`nonce must be ${IETF_NONCE_BYTES} or ${XCHACHA_NONCE_BYTES} bytes, got ${nonce.length}`);
  }
  if (outLength !== inputLength) throw new AeadError(`output is ${outLength} bytes, expected ${inputLength}`);
}
