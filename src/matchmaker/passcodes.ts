/**
 * Passcodes: 6 characters of Crockford base32 (no I, L, O, U), read case-insensitively with the usual folding
 * (I and L are 1, O is 0), so a code read aloud or typed on a phone still works. Unique among live games.
 */
export const PASSCODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const PASSCODE_LENGTH = 6;

function fold(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}

/**
 * Whether what a player typed has a passcode's length once spaces and dashes are dropped. A 3-character code is a
 * typo to point out ("A passcode has 6 characters"), not a guess: it could never match, so it teaches nothing.
 */
export function hasPasscodeLength(input: string): boolean {
  return [...fold(input)].length === PASSCODE_LENGTH;
}

/** Canonical form of what a player typed (spaces and dashes ignored), or null if it cannot be a passcode. */
export function normalizePasscode(input: string): string | null {
  const folded = fold(input);
  if (folded.length !== PASSCODE_LENGTH) return null;
  for (const char of folded) if (!PASSCODE_ALPHABET.includes(char)) return null;
  return folded;
}

/** 32 symbols = 5 bits, so `byte & 31` is uniform: no modulo bias. */
export function randomPasscode(random: (length: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  let code = '';
  for (const byte of random(PASSCODE_LENGTH)) code += PASSCODE_ALPHABET[byte & 31];
  return code;
}

export class PasscodeExhaustedError extends Error {
  override readonly name = 'PasscodeExhaustedError';
}

/** The live passcodes and the game each one admits to. */
export class PasscodeBook {
  private readonly games = new Map<string, string>();

  constructor(private readonly generate: () => string = () => randomPasscode()) {}

  /** A fresh passcode for the game, unique among live ones. */
  issue(gameId: string): string {
    // With 2^30 codes and at most thousands live, a collision is rare; the bound only guards a broken generator.
    for (let attempt = 0; attempt < 100; attempt++) {
      const code = this.generate();
      if (!this.games.has(code)) {
        this.games.set(code, gameId);
        return code;
      }
    }
    throw new PasscodeExhaustedError('could not find an unused passcode');
  }

  /** Puts back a live game's passcode (adopted after a restart); false if another game holds it now. */
  restore(code: string, gameId: string): boolean {
    const holder = this.games.get(code);
    if (holder !== undefined && holder !== gameId) return false;
    this.games.set(code, gameId);
    return true;
  }

  /** The game a typed passcode admits to, if any. */
  lookup(input: string): string | undefined {
    const code = normalizePasscode(input);
    return code === null ? undefined : this.games.get(code);
  }

  revoke(code: string): void {
    this.games.delete(code);
  }

  get size(): number {
    return this.games.size;
  }
}
