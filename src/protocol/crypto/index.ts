export * from './aead.ts';
import type { Aead } from './aead.ts';

let fastAead: Promise<Aead> | undefined;

/**
 * The fast backend, instantiated once per JS realm (each worker has its own): our SIMD module (simd.ts), or where
 * the engine has no wasm SIMD, libsodium's scalar wasm build. Each is imported only when it is tried, so a game
 * worker never loads libsodium's 300 KB glue. Rejects where wasm cannot be compiled at all, e.g. a page whose
 * Content-Security-Policy lacks 'wasm-unsafe-eval'.
 */
export function loadFastAead(): Promise<Aead> {
  fastAead ??= firstAead([async () => (await import('./simd.ts')).createSimdAead(), async () => (await import('./sodium.ts')).createSodiumAead()]);
  return fastAead;
}

/** The first backend that loads, in order; rejects with every one's reason when none does. */
export async function firstAead(loaders: readonly (() => Promise<Aead>)[]): Promise<Aead> {
  const reasons: string[] = [];
  for (const load of loaders) {
    try {
      return await load();
    } catch (error) {
      reasons.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(reasons.join('; ') || 'no AEAD backend to load');
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
  /** Null when `aead` is a fast backend; otherwise why none could be loaded. */
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
 * "AEAD backends"): the SIMD module is the fastest at every packet size (1.5–1.6x libsodium's wasm from 100 B),
 * and the one that brings writing and reading a packet level with the netcode C reference at 100 B. Its instantiation is async,
 * so this module awaits it at top level: importers see a ready backend and the hot path never checks for one.
 *
 * Where wasm is unavailable (in practice only a browser page whose CSP forbids it; Bun always has wasm and SIMD)
 * the fallback is @noble/ciphers: ~5–10x slower than libsodium (BENCHMARKS.md), still ~200x what one client's ~100
 * packets/s need, and audited. `defaultAeadFallbackReason` says why the fallback was used.
 */
const choice = await chooseAead();
export const defaultAead: Aead = choice.aead;

/** Null when `defaultAead` is a fast backend; otherwise why none could be loaded. */
export const defaultAeadFallbackReason: string | null = choice.fallbackReason;
