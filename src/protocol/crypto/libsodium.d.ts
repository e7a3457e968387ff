/**
 * The raw emscripten build of libsodium ships no types. We declare only the exports the AEAD backend calls.
 * The build legalises 64-bit C arguments (message/AD lengths) into two 32-bit JS numbers: low word, high word.
 */
declare module 'libsodium' {
  /** crypto_aead_*_encrypt_detached(c, mac, maclen_p, m, mlen, ad, adlen, nsec, npub, k); pointers are heap offsets. */
  type EncryptDetached = (
    c: number, mac: number, maclenP: number, m: number, mlenLo: number, mlenHi: number,
    ad: number, adlenLo: number, adlenHi: number, nsec: number, npub: number, k: number,
  ) => number;
  /** crypto_aead_*_decrypt_detached(m, nsec, c, clen, mac, ad, adlen, npub, k); returns -1 when inauthentic. */
  type DecryptDetached = (
    m: number, nsec: number, c: number, clenLo: number, clenHi: number, mac: number,
    ad: number, adlenLo: number, adlenHi: number, npub: number, k: number,
  ) => number;

  export interface SodiumModule {
    /** Replaced by emscripten when memory grows; re-read after every `_malloc`. */
    readonly HEAPU8: Uint8Array;
    _malloc(size: number): number;
    _free(ptr: number): void;
    _sodium_init(): number;
    _crypto_aead_chacha20poly1305_ietf_encrypt_detached: EncryptDetached;
    _crypto_aead_chacha20poly1305_ietf_decrypt_detached: DecryptDetached;
    _crypto_aead_xchacha20poly1305_ietf_encrypt_detached: EncryptDetached;
    _crypto_aead_xchacha20poly1305_ietf_decrypt_detached: DecryptDetached;
  }
  const createSodium: (moduleArg?: object) => Promise<SodiumModule>;
  export default createSodium;
}
