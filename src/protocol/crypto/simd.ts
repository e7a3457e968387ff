import { type Aead, AEAD_KEY_BYTES, AEAD_TAG_BYTES, checkAeadArgs } from './aead.ts';
import { SIMD_MODULE_BASE64 } from './simd.generated.ts';
import { LAYOUT } from './simd-layout.ts';
import { copyIn, copyOut } from './wasm-heap.ts';

/**
 * ChaCha20-Poly1305 (IETF and XChaCha20) in WebAssembly with SIMD: our own module (simd.generator.ts), two to three
 * times libsodium's scalar wasm on game-sized packets (BENCHMARKS.md, "AEAD backends"). Checked against libsodium
 * at every length and against the RFC vectors (tests/crypto/aead.test.ts, simd.test.ts).
 *
 * Each call copies key, nonce, AAD and data into the instance's memory after IO_START, runs there in place, and
 * copies the result out. Each `createSimdAead` has its own instance, so nothing else grows (detaches) its memory.
 * Rejects where the engine has no wasm SIMD (a browser from before 2021-23): the caller falls back to libsodium.
 */
export interface SimdExports {
  memory: WebAssembly.Memory;
  seal(key: number, nonce: number, nonceLength: number, aad: number, aadLength: number, data: number, length: number, tag: number): void;
  open(key: number, nonce: number, nonceLength: number, aad: number, aadLength: number, data: number, length: number, tag: number): number;
  /** The bare Poly1305 of whole 16-byte blocks under a 32-byte key (the tests' way to the reduction's edge cases). */
  poly1305(key: number, message: number, length: number, out: number): void;
}

/** Where the caller's buffers start: below it is the module's own state. */
export const IO_START = LAYOUT.IO_START;
const KEY = IO_START;
const NONCE = KEY + AEAD_KEY_BYTES;
const TAG = NONCE + 32;
const AAD = TAG + AEAD_TAG_BYTES;
const PAGE = 65536;

let compiled: Promise<WebAssembly.Module> | undefined;

/** The module, compiled once per realm (~5 KB: well under a millisecond). */
export function compileSimdModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(base64Bytes(SIMD_MODULE_BASE64));
  return compiled;
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A fresh instance's exports; its memory is its own. */
export async function instantiateSimdModule(): Promise<SimdExports> {
  const instance = await WebAssembly.instantiate(await compileSimdModule(), {});
  return instance.exports as unknown as SimdExports;
}

export async function createSimdAead(): Promise<Aead> {
  const wasm = await instantiateSimdModule();
  let heap = new Uint8Array(wasm.memory.buffer);

  /** Room for an AAD and data of these lengths after the fixed fields; grows the memory (rarely: > ~63 KB). */
  function dataAt(aadLength: number, dataLength: number): number {
    const data = AAD + align16(aadLength);
    const end = data + dataLength;
    if (end > heap.length) {
      wasm.memory.grow(Math.ceil((end - heap.length) / PAGE));
      heap = new Uint8Array(wasm.memory.buffer);
    }
    return data;
  }

  return {
    name: 'simd-wasm',
    seal(key, nonce, aad, data, out) {
      const n = data.length;
      checkAeadArgs(key, nonce, n + AEAD_TAG_BYTES, out.length);
      const dataPtr = dataAt(aad.length, n);
      copyIn(key, 0, key.length, heap, KEY);
      copyIn(nonce, 0, nonce.length, heap, NONCE);
      copyIn(aad, 0, aad.length, heap, AAD);
      copyIn(data, 0, n, heap, dataPtr);
      wasm.seal(KEY, NONCE, nonce.length, AAD, aad.length, dataPtr, n, TAG);
      copyOut(heap, dataPtr, n, out, 0);
      copyOut(heap, TAG, AEAD_TAG_BYTES, out, n);
    },
    open(key, nonce, aad, sealed, out) {
      if (sealed.length < AEAD_TAG_BYTES) return false;
      const n = sealed.length - AEAD_TAG_BYTES;
      checkAeadArgs(key, nonce, n, out.length);
      const dataPtr = dataAt(aad.length, sealed.length);
      copyIn(key, 0, key.length, heap, KEY);
      copyIn(nonce, 0, nonce.length, heap, NONCE);
      copyIn(aad, 0, aad.length, heap, AAD);
      copyIn(sealed, 0, sealed.length, heap, dataPtr);
      // The tag sits right after the ciphertext in the copy: read from there.
      if (wasm.open(KEY, NONCE, nonce.length, AAD, aad.length, dataPtr, n, dataPtr + n) !== 1) return false;
      copyOut(heap, dataPtr, n, out, 0);
      return true;
    },
  };
}

function align16(n: number): number {
  return (n + 15) & ~15;
}
