import createSodium, { type SodiumModule } from 'libsodium';
import { type Aead, AEAD_KEY_BYTES, AEAD_TAG_BYTES, AeadError, checkAeadArgs, IETF_NONCE_BYTES, XCHACHA_NONCE_BYTES } from './aead.ts';
import { copyIn, copyOut } from './wasm-heap.ts';

/**
 * libsodium's wasm build, called through its raw exports rather than libsodium-wrappers: the wrappers allocate
 * and copy several buffers per call, which costs more than the cipher itself on game-sized packets. Here one
 * scratch region is allocated on the wasm heap up front and every call copies in, runs, and copies out.
 *
 * Since the SIMD module (simd.ts) it is the backend only where the engine has no wasm SIMD (index.ts), and the
 * reference the SIMD module is tested against at every length (tests/crypto).
 *
 * Each call to `createSodiumAead` gets its own wasm instance, so no other code can grow (and so detach) the heap
 * behind our back: the heap view only changes inside `reserve`.
 */

// Packets are at most ~1.2 KB and connect tokens 1 KB; larger inputs still work, by growing the region once.
const INITIAL_DATA_BYTES = 2048;
const INITIAL_AAD_BYTES = 64;

export async function createSodiumAead(): Promise<Aead> {
  const sodium: SodiumModule = await createSodium();
  if (sodium._sodium_init() < 0) throw new AeadError('libsodium failed to initialise');

  let heap = sodium.HEAPU8;
  let region = 0;
  let keyPtr = 0;
  let noncePtr = 0;
  let tagPtr = 0;
  let aadPtr = 0;
  let dataPtr = 0;
  let aadCapacity = 0;
  let dataCapacity = 0;

  function reserve(aadBytes: number, dataBytes: number): void {
    if (aadBytes <= aadCapacity && dataBytes <= dataCapacity) return;
    aadCapacity = Math.max(aadCapacity, aadBytes);
    dataCapacity = Math.max(dataCapacity, dataBytes);
    if (region !== 0) sodium._free(region);
    // 16-byte alignment for every field keeps libsodium's word loads aligned.
    const size = AEAD_KEY_BYTES + 32 + AEAD_TAG_BYTES + align16(aadCapacity) + align16(dataCapacity);
    region = sodium._malloc(size);
    if (region === 0) throw new AeadError(`libsodium could not allocate ${size} bytes`);
    keyPtr = region;
    noncePtr = keyPtr + AEAD_KEY_BYTES;
    tagPtr = noncePtr + 32;
    aadPtr = tagPtr + AEAD_TAG_BYTES;
    dataPtr = aadPtr + align16(aadCapacity);
    heap = sodium.HEAPU8;
  }
  reserve(INITIAL_AAD_BYTES, INITIAL_DATA_BYTES);

  return {
    name: 'libsodium-wasm',
    seal(key, nonce, aad, data, out) {
      const n = data.length;
      checkAeadArgs(key, nonce, n + AEAD_TAG_BYTES, out.length);
      reserve(aad.length, n);
      copyIn(key, 0, key.length, heap, keyPtr);
      copyIn(nonce, 0, nonce.length, heap, noncePtr);
      copyIn(aad, 0, aad.length, heap, aadPtr);
      copyIn(data, 0, n, heap, dataPtr);
      const rc = nonce.length === IETF_NONCE_BYTES
        ? sodium._crypto_aead_chacha20poly1305_ietf_encrypt_detached(dataPtr, tagPtr, 0, dataPtr, n, 0, aadPtr, aad.length, 0, 0, noncePtr, keyPtr)
        : sodium._crypto_aead_xchacha20poly1305_ietf_encrypt_detached(dataPtr, tagPtr, 0, dataPtr, n, 0, aadPtr, aad.length, 0, 0, noncePtr, keyPtr);
      if (rc !== 0) throw new AeadError(`libsodium seal failed (${rc})`);
      copyOut(heap, dataPtr, n, out, 0);
      copyOut(heap, tagPtr, AEAD_TAG_BYTES, out, n);
    },
    open(key, nonce, aad, sealed, out) {
      if (sealed.length < AEAD_TAG_BYTES) return false;
      const n = sealed.length - AEAD_TAG_BYTES;
      checkAeadArgs(key, nonce, n, out.length);
      reserve(aad.length, n);
      copyIn(key, 0, key.length, heap, keyPtr);
      copyIn(nonce, 0, nonce.length, heap, noncePtr);
      copyIn(aad, 0, aad.length, heap, aadPtr);
      copyIn(sealed, 0, n, heap, dataPtr);
      copyIn(sealed, n, AEAD_TAG_BYTES, heap, tagPtr);
      const rc = nonce.length === XCHACHA_NONCE_BYTES
        ? sodium._crypto_aead_xchacha20poly1305_ietf_decrypt_detached(dataPtr, 0, dataPtr, n, 0, tagPtr, aadPtr, aad.length, 0, noncePtr, keyPtr)
        : sodium._crypto_aead_chacha20poly1305_ietf_decrypt_detached(dataPtr, 0, dataPtr, n, 0, tagPtr, aadPtr, aad.length, 0, noncePtr, keyPtr);
      if (rc !== 0) return false;
      copyOut(heap, dataPtr, n, out, 0);
      return true;
    },
  };
}

function align16(n: number): number {
  return (n + 15) & ~15;
}
