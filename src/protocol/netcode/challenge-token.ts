/**
 * The challenge token: the server's proof, sealed with a key only it knows, that a client at some address
 * received its challenge packet (so spoofed source addresses cannot complete a handshake).
 *
 * 300 bytes: client id u64, user data (256), zero pad. Only the first 284 are sealed, with
 * ChaCha20-Poly1305-IETF, nonce `[0,0,0,0] ++ u64le(challenge sequence)` and NO associated data; the MAC
 * takes the last 16.
 */
import { defaultAead, type Aead } from '../crypto/index.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import { CHALLENGE_TOKEN_BYTES, CHALLENGE_TOKEN_SEALED_BYTES, PACKET_NONCE_BYTES, USER_DATA_BYTES } from './constants.ts';
import { writePacketNonce } from './sequence.ts';

export interface ChallengeToken {
  readonly clientId: bigint;
  /** Exactly 256 bytes. */
  readonly userData: Uint8Array;
}

const NO_AAD = new Uint8Array(0);

/** Writes the 300-byte plaintext (MAC area zeroed) into `out`, or a new buffer. */
export function writeChallengeToken(token: ChallengeToken, out = new Uint8Array(CHALLENGE_TOKEN_BYTES)): Uint8Array {
  checkLength(out, 'output');
  if (token.userData.length !== USER_DATA_BYTES) throw new RangeError(`user data must be ${USER_DATA_BYTES} bytes`);
  new ByteWriter(out).u64(token.clientId).bytes(token.userData).zeroTo(CHALLENGE_TOKEN_BYTES);
  return out;
}

/** Reads a decrypted token. Every 300-byte buffer parses, so there is nothing to reject. */
export function readChallengeToken(plaintext: Uint8Array): ChallengeToken {
  if (plaintext.length < 8 + USER_DATA_BYTES) throw new RangeError('challenge token plaintext too short');
  const reader = new ByteReader(plaintext);
  return { clientId: reader.u64(), userData: reader.bytes(USER_DATA_BYTES) };
}

/** Seals a 300-byte plaintext token in place. */
export function encryptChallengeToken(buffer: Uint8Array, sequence: bigint, key: Uint8Array, aead: Aead = defaultAead): void {
  checkLength(buffer, 'token');
  const nonce = new Uint8Array(PACKET_NONCE_BYTES);
  writePacketNonce(nonce, sequence);
  aead.seal(key, nonce, NO_AAD, buffer.subarray(0, CHALLENGE_TOKEN_SEALED_BYTES), buffer);
}

/**
 * Opens a 300-byte sealed token into `out` (284 bytes of plaintext, which may be the same memory as the
 * sealed token). Returns false if it is not authentic.
 */
export function decryptChallengeToken(
  sealed: Uint8Array,
  sequence: bigint,
  key: Uint8Array,
  aead: Aead = defaultAead,
  out: Uint8Array = new Uint8Array(CHALLENGE_TOKEN_SEALED_BYTES),
): boolean {
  if (sealed.length !== CHALLENGE_TOKEN_BYTES || out.length < CHALLENGE_TOKEN_SEALED_BYTES) return false;
  const nonce = new Uint8Array(PACKET_NONCE_BYTES);
  writePacketNonce(nonce, sequence);
  return aead.open(key, nonce, NO_AAD, sealed, out.subarray(0, CHALLENGE_TOKEN_SEALED_BYTES));
}

/** Server side, on a connection request: the encrypted 300 bytes for the challenge packet. */
export function sealChallengeToken(token: ChallengeToken, sequence: bigint, key: Uint8Array, aead: Aead = defaultAead): Uint8Array {
  const buffer = writeChallengeToken(token);
  encryptChallengeToken(buffer, sequence, key, aead);
  return buffer;
}

/** Server side, on a connection response: the token, or null if it was not sealed by this key/sequence. */
export function openChallengeToken(sealed: Uint8Array, sequence: bigint, key: Uint8Array, aead: Aead = defaultAead): ChallengeToken | null {
  const plaintext = new Uint8Array(CHALLENGE_TOKEN_SEALED_BYTES);
  return decryptChallengeToken(sealed, sequence, key, aead, plaintext) ? readChallengeToken(plaintext) : null;
}

function checkLength(buffer: Uint8Array, what: string): void {
  if (buffer.length !== CHALLENGE_TOKEN_BYTES) throw new RangeError(`challenge ${what} must be ${CHALLENGE_TOKEN_BYTES} bytes, got ${buffer.length}`);
}
