import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { type Aead, checkAeadArgs, IETF_NONCE_BYTES, AEAD_TAG_BYTES } from './aead.ts';

/**
 * Pure-JS backend (@noble/ciphers, audited): the fallback where wasm cannot be instantiated (loaded lazily by
 * index.ts, never by a worker where wasm works) and the independent reference the tests check libsodium against.
 */
export const nobleAead: Aead = {
  name: 'noble',
  seal(key, nonce, aad, data, out) {
    checkAeadArgs(key, nonce, data.length + AEAD_TAG_BYTES, out.length);
    const cipher = nonce.length === IETF_NONCE_BYTES ? chacha20poly1305(key, nonce, aad) : xchacha20poly1305(key, nonce, aad);
    cipher.encrypt(data, out);
  },
  open(key, nonce, aad, sealed, out) {
    if (sealed.length < AEAD_TAG_BYTES) return false;
    checkAeadArgs(key, nonce, sealed.length - AEAD_TAG_BYTES, out.length);
    const cipher = nonce.length === IETF_NONCE_BYTES ? chacha20poly1305(key, nonce, aad) : xchacha20poly1305(key, nonce, aad);
    try {
      cipher.decrypt(sealed, out);
      return true;
    } catch {
      return false;
    }
  },
};
