/**
 * Per-game secrets and ids, all from the CSPRNG. Secrets are compared in constant time so a wrong guess learns
 * nothing from how long the answer took.
 */
import { constantTimeEqual } from '../protocol/bytes.ts';

export const GAME_ID_BYTES = 16;
export const SECRET_BYTES = 32;

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** 128 random bits as 22 base64url characters: URL-safe and not guessable. */
export function newGameId(): string {
  return Buffer.from(randomBytes(GAME_ID_BYTES)).toString('base64url');
}

export const GAME_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * Compares a presented secret (text) with the stored bytes in time independent of where they differ. A
 * presented value of the wrong length still costs a full comparison against a dummy.
 */
export function secretMatches(presented: string | undefined, expected: Uint8Array, encoding: 'base64url' | 'utf8'): boolean {
  const candidate = presented === undefined ? new Uint8Array() : new Uint8Array(Buffer.from(presented, encoding));
  // Buffer's base64url decoding ignores stray characters; re-encoding catches texts that only decode alike.
  const canonical = encoding === 'base64url' ? Buffer.from(candidate).toString('base64url') === presented : true;
  if (candidate.length !== expected.length) {
    constantTimeEqual(expected, expected);
    return false;
  }
  return constantTimeEqual(candidate, expected) && canonical;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
