export * from './aead.ts';
export { createSodiumAead } from './sodium.ts';
import { createSodiumAead } from './sodium.ts';
import type { Aead } from './aead.ts';

let fastAead: Promise<Aead> | undefined;

/**
 * The libsodium wasm backend, instantiated once per JS realm (each worker has its own). Rejects where wasm cannot
 * be compiled, e.g. a page whose Content-Security-Policy lacks 'wasm-unsafe-eval'.
 */
export function loadFastAead(): Promise<Aead> {
  fastAead ??= createSodiumAead();
  return fastAead;
}

/**
 * The fallback: @noble/ciphers (audited, pure JS), imported only when it is needed so that game workers and
 * browsers where wasm works never load it (25eea9a measured +0.8 MB and +3 ms per worker for loading noble).
 */
export async function loadFallbackAead(): Promise<Aead> {
  return (await import('./noble.ts')).nobleAead;
}

export interface AeadChoice {
  readonly aead: Aead;
  /** Null when `aead` is the fast backend; otherwise why that could not be loaded. */
  readonly fallbackReason: string | null;
}

/** The fast backend if it loads, else the fallback with the reason. The seam the tests drive with a failing loader. */
export async function chooseAead(
  fast: () => Promise<Aead> = loadFastAead,
  fallback: () => Promise<Aead> = loadFallbackAead,
): Promise<AeadChoice> {
  try {
    return { aead: await fast(), fallbackReason: null };
  } catch (error) {
    return { aead: await fallback(), fallbackReason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The backend the protocol uses unless a caller passes another one, chosen by bench/aead.ts (BENCHMARKS.md,
 * "AEAD backends"): libsodium's wasm build called through its raw exports is the only backend within 2x of the
 * netcode C reference at every packet size. Its instantiation is async, so this module awaits it at top level:
 * importers see a ready backend and the hot path never checks for one.
 *
 * Where wasm is unavailable (in practice only a browser page whose CSP forbids it; Bun always has wasm) the
 * fallback is @noble/ciphers: 4–9x slower than libsodium (BENCHMARKS.md), still ~200x what one client's ~100
 * packets/s need. It replaced a hand-written ChaCha20/Poly1305 so that the code path without wasm is audited too.
 * `defaultAeadFallbackReason` says why the fallback was used.
 */
const choice = await chooseAead();
export const defaultAead: Aead = choice.aead;

/** Null when `defaultAead` is the fast backend; otherwise why it could not be loaded. */
export const defaultAeadFallbackReason: string | null = choice.fallbackReason;
