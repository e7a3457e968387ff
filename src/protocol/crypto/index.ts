export * from './aead.ts';
export { pureAead, poly1305 } from './pure.ts';
export { createSodiumAead } from './sodium.ts';
import { pureAead } from './pure.ts';
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

let fallbackReason: string | null = null;

/**
 * The backend the protocol uses unless a caller passes another one, chosen by bench/aead.ts (BENCHMARKS.md,
 * "AEAD backends"): libsodium's wasm build called through its raw exports is the only backend within 2x of the
 * netcode C reference at every packet size (~745k pairs/s at 100 B, ~198k at 1000 B, against ~290k and ~121k
 * needed). Its instantiation is async, so this module awaits it at top level: importers see a ready backend and
 * the hot path never checks for one.
 *
 * If wasm is unavailable the fallback is `pureAead` — allocation-free TypeScript, 3–4x faster than noble
 * (~430k pairs/s at 100 B but ~82k at 1000 B) — and `defaultAeadFallbackReason` says why it was used.
 * noble (noble.ts) stays only as the independent reference the tests cross-check against; it is not exported
 * here, so that game workers and browsers do not load it.
 */
export const defaultAead: Aead = await loadFastAead().catch((error: unknown) => {
  fallbackReason = error instanceof Error ? error.message : String(error);
  return pureAead;
});

/** Null when `defaultAead` is the fast backend; otherwise why it could not be loaded. */
export const defaultAeadFallbackReason: string | null = fallbackReason;
