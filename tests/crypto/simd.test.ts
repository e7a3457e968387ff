import { describe, expect, test } from 'bun:test';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { AEAD_TAG_BYTES } from '../../src/protocol/crypto/aead.ts';
import { createSimdAead, instantiateSimdModule, IO_START } from '../../src/protocol/crypto/simd.ts';
import { createSodiumAead } from '../../src/protocol/crypto/sodium.ts';
import { GENERATED_PATH, generateSimdSource } from '../../src/protocol/crypto/simd.generator.ts';
import { randomBytes, seededRandom } from '../support/prng.ts';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const simd = await createSimdAead();
const sodium = await createSodiumAead();
const wasm = await instantiateSimdModule();

function sealWith(aead: typeof simd, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + AEAD_TAG_BYTES);
  aead.seal(key, nonce, aad, data, out);
  return out;
}

describe('the SIMD module', () => {
  test('simd.generated.ts is what the generator makes now (run `npm run generate` after editing it)', async () => {
    expect(await Bun.file(GENERATED_PATH).text()).toBe(await generateSimdSource());
  });

  // The rule for crypto of our own: checked against libsodium, not only against noble (aead.test.ts).
  test('seals byte for byte as libsodium and opens what libsodium seals, at every length 0..1300, AAD 0..300, both nonces', () => {
    const random = seededRandom(0x51d0);
    for (let n = 0; n <= 1300; n++) {
      for (const nonceBytes of [12, 24]) {
        const key = randomBytes(random, 32);
        const nonce = randomBytes(random, nonceBytes);
        const aad = randomBytes(random, (n * 37) % 301);
        const data = randomBytes(random, n);
        const ours = sealWith(simd, key, nonce, aad, data);
        const theirs = sealWith(sodium, key, nonce, aad, data);
        if (toHex(ours) !== toHex(theirs)) throw new Error(`length ${n}, nonce ${nonceBytes}, AAD ${aad.length}: differs from libsodium`);
        const out = new Uint8Array(n);
        if (!simd.open(key, nonce, aad, theirs, out) || toHex(out) !== toHex(data)) throw new Error(`length ${n}: libsodium's did not open`);
      }
    }
  });

  // In the module's own memory, not through simd.ts (which copies nothing out of a failed open anyway).
  test('a failed open decrypts nothing: the ciphertext in the module is as it was (the tag is checked first)', () => {
    const random = seededRandom(0x0bad);
    const heap = (): Uint8Array => new Uint8Array(wasm.memory.buffer);
    const KEY = IO_START;
    const NONCE = IO_START + 32;
    const AAD = IO_START + 64;
    const DATA = IO_START + 128;
    for (const n of [0, 1, 100, 192, 193, 1000]) {
      for (const nonceBytes of [12, 24]) {
        const key = randomBytes(random, 32);
        const nonce = randomBytes(random, nonceBytes);
        const aad = randomBytes(random, 22);
        const sealed = sealWith(sodium, key, nonce, aad, randomBytes(random, n));
        for (const flip of [0, sealed.length - 1, Math.floor(sealed.length / 2)]) {
          const bad = sealed.slice();
          bad[flip]! ^= 0x40;
          heap().set(key, KEY);
          heap().set(nonce, NONCE);
          heap().set(aad, AAD);
          heap().set(bad, DATA);
          expect(wasm.open(KEY, NONCE, nonceBytes, AAD, aad.length, DATA, n, DATA + n)).toBe(0);
          expect(toHex(heap().slice(DATA, DATA + bad.length))).toBe(toHex(bad));
        }
        // The same bytes untouched open, in place.
        heap().set(sealed, DATA);
        expect(wasm.open(KEY, NONCE, nonceBytes, AAD, aad.length, DATA, n, DATA + n)).toBe(1);
      }
    }
  });

  test('no key material stays in the module after a call: its own state below IO_START is zeroed', () => {
    const random = seededRandom(0x3a5e);
    const heap = (): Uint8Array => new Uint8Array(wasm.memory.buffer);
    const ownState = (): Uint8Array => heap().subarray(0, IO_START);
    for (const nonceBytes of [12, 24]) {
      heap().set(randomBytes(random, 32), IO_START);
      heap().set(randomBytes(random, nonceBytes), IO_START + 32);
      heap().set(randomBytes(random, 500), IO_START + 128);
      wasm.seal(IO_START, IO_START + 32, nonceBytes, IO_START + 64, 22, IO_START + 128, 500, IO_START + 1024);
      expect(ownState().every((b) => b === 0)).toBe(true);
      expect(wasm.open(IO_START, IO_START + 32, nonceBytes, IO_START + 64, 22, IO_START + 128, 500, IO_START + 1024)).toBe(1);
      expect(ownState().every((b) => b === 0)).toBe(true);
    }
  });

  test('keys, nonces and data of all ones (every carry taken) as libsodium', () => {
    for (const n of [15, 16, 64, 192, 256, 1000, 1300]) {
      for (const nonceBytes of [12, 24]) {
        const ones = (length: number): Uint8Array => new Uint8Array(length).fill(0xff);
        const ours = sealWith(simd, ones(32), ones(nonceBytes), ones(29), ones(n));
        expect(toHex(ours)).toBe(toHex(sealWith(sodium, ones(32), ones(nonceBytes), ones(29), ones(n))));
      }
    }
  });
});

describe('Poly1305 in the SIMD module, against noble', () => {
  const heap = (): Uint8Array => new Uint8Array(wasm.memory.buffer);
  function mac(key: Uint8Array, message: Uint8Array): Uint8Array {
    heap().set(key, IO_START);
    heap().set(message, IO_START + 64);
    wasm.poly1305(IO_START, IO_START + 64, message.length, IO_START + 32);
    return heap().slice(IO_START + 32, IO_START + 48);
  }
  const keyOf = (r: number[], s: number[]): Uint8Array => Uint8Array.from([...r, ...new Array(16 - r.length).fill(0), ...s, ...new Array(16 - s.length).fill(0)]);

  test('h ≥ 2^130 − 5 before the last reduction: r = 1 and two blocks of all ones (h = 2^130 − 2)', () => {
    const key = keyOf([1], []);
    const message = new Uint8Array(32).fill(0xff);
    expect(toHex(mac(key, message))).toBe(toHex(noblePoly1305(message, key)));
    // (2^130 − 2) mod (2^130 − 5) = 3, s = 0.
    expect(toHex(mac(key, message))).toBe(`03${'00'.repeat(15)}`);
  });

  test('s overflowing 2^128, the largest clamped r, zero r, and random keys and messages', () => {
    const random = seededRandom(0x1305);
    const keys = [
      keyOf([1], new Array(16).fill(0xff)),
      keyOf([0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f], new Array(16).fill(0xff)),
      keyOf([], [7]),
      new Uint8Array(32).fill(0xff),
      ...Array.from({ length: 40 }, () => randomBytes(random, 32)),
    ];
    for (const key of keys) {
      for (const blocks of [0, 1, 2, 3, 8, 64]) {
        for (const message of [new Uint8Array(16 * blocks).fill(0xff), new Uint8Array(16 * blocks), randomBytes(random, 16 * blocks)]) {
          const ours = toHex(mac(key, message));
          if (ours !== toHex(noblePoly1305(message, key))) throw new Error(`key ${toHex(key)}, ${blocks} blocks: differs from noble`);
        }
      }
    }
  });
});
