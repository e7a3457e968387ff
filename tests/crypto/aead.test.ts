import { describe, expect, test } from 'bun:test';
import {
  type Aead,
  AEAD_TAG_BYTES,
  AeadError,
  chooseAead,
  defaultAead,
  defaultAeadFallbackReason,
  firstAead,
} from '../../src/protocol/crypto/index.ts';
import { nobleAead } from '../../src/protocol/crypto/noble.ts';
import { createSimdAead } from '../../src/protocol/crypto/simd.ts';
import { createSodiumAead } from '../../src/protocol/crypto/sodium.ts';
import { randomBytes, seededRandom } from '../support/prng.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/[\s:]/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const range = (from: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => from + i);

const sodiumAead = await createSodiumAead();
const simdAead = await createSimdAead();
// All are checked against the RFC vectors and against noble at every length, so the default (SIMD), the engine
// without SIMD's (libsodium) and the fallback (noble) agree byte for byte; simd.test.ts also checks SIMD against
// libsodium itself.
const backends: Aead[] = [nobleAead, sodiumAead, simdAead];

function seal(aead: Aead, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(data.length + AEAD_TAG_BYTES);
  aead.seal(key, nonce, aad, data, out);
  return out;
}
function open(aead: Aead, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array<ArrayBuffer> | null {
  const out = new Uint8Array(sealed.length - AEAD_TAG_BYTES);
  return aead.open(key, nonce, aad, sealed, out) ? out : null;
}

// RFC 8439 §2.8.2 and draft-irtf-cfrg-xchacha-03 §A.3.1 share key, AAD and plaintext.
const KEY = range(0x80, 32);
const AAD = hex('50515253c0c1c2c3c4c5c6c7');
const SUNSCREEN = new TextEncoder().encode(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
);
const VECTORS = [
  {
    name: 'ChaCha20-Poly1305-IETF (RFC 8439 §2.8.2)',
    nonce: hex('070000004041424344454647'),
    sealed: hex(`
      d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b
      1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
      3ff4def08e4b7a9de576d26586cec64b6116 1ae10b594f09e26a7e902ecbd0600691`),
  },
  {
    name: 'XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha §A.3.1)',
    nonce: range(0x40, 24),
    sealed: hex(`
      bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39
      ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
      21f9664c97637da9768812f615c68b13b52e c0875924c1c7987947deafd8780acf49`),
  },
];

for (const aead of backends) {
  describe(aead.name, () => {
    for (const v of VECTORS) {
      test(`${v.name} vector`, () => {
        expect(toHex(seal(aead, KEY, v.nonce, AAD, SUNSCREEN))).toBe(toHex(v.sealed));
        expect(open(aead, KEY, v.nonce, AAD, v.sealed)).toEqual(SUNSCREEN);
      });

      test(`${v.name}: any flipped bit in tag, ciphertext, AAD, nonce or key is rejected`, () => {
        for (const i of [0, 57, v.sealed.length - AEAD_TAG_BYTES - 1, v.sealed.length - AEAD_TAG_BYTES, v.sealed.length - 1]) {
          const bad = v.sealed.slice();
          bad[i]! ^= 0x01;
          expect(open(aead, KEY, v.nonce, AAD, bad)).toBeNull();
        }
        const badAad = AAD.slice();
        badAad[3]! ^= 0x80;
        expect(open(aead, KEY, v.nonce, badAad, v.sealed)).toBeNull();
        expect(open(aead, KEY, v.nonce, AAD.subarray(1), v.sealed)).toBeNull();
        const badNonce = v.nonce.slice();
        badNonce[badNonce.length - 1]! ^= 1;
        expect(open(aead, KEY, badNonce, AAD, v.sealed)).toBeNull();
        const badKey = KEY.slice();
        badKey[31]! ^= 1;
        expect(open(aead, badKey, v.nonce, AAD, v.sealed)).toBeNull();
      });
    }

    test('seal and open in place', () => {
      for (const nonce of VECTORS.map((v) => v.nonce)) {
        const buf = new Uint8Array(SUNSCREEN.length + AEAD_TAG_BYTES + 8);
        const region = buf.subarray(3, 3 + SUNSCREEN.length + AEAD_TAG_BYTES);
        region.set(SUNSCREEN);
        aead.seal(KEY, nonce, AAD, region.subarray(0, SUNSCREEN.length), region);
        expect(region).toEqual(seal(nobleAead, KEY, nonce, AAD, SUNSCREEN));
        expect(aead.open(KEY, nonce, AAD, region, region.subarray(0, SUNSCREEN.length))).toBe(true);
        expect(region.subarray(0, SUNSCREEN.length)).toEqual(SUNSCREEN);
        expect(buf.subarray(0, 3)).toEqual(new Uint8Array(3));
      }
    });

    test('zero-length plaintext and empty AAD', () => {
      for (const nonce of VECTORS.map((v) => v.nonce)) {
        for (const aad of [AAD, new Uint8Array(0)]) {
          const sealed = seal(aead, KEY, nonce, aad, new Uint8Array(0));
          expect(sealed).toEqual(seal(nobleAead, KEY, nonce, aad, new Uint8Array(0)));
          expect(open(aead, KEY, nonce, aad, sealed)).toEqual(new Uint8Array(0));
          sealed[0]! ^= 1;
          expect(open(aead, KEY, nonce, aad, sealed)).toBeNull();
        }
      }
    });

    test('matches noble and round-trips at every length 0..1300, both nonce sizes', () => {
      const random = seededRandom(0xae4d + aead.name.length);
      for (let n = 0; n <= 1300; n++) {
        const nonceBytes = n % 2 === 0 ? 12 : 24;
        const key = randomBytes(random, 32);
        const nonce = randomBytes(random, nonceBytes);
        const aad = randomBytes(random, n % 41);
        const data = randomBytes(random, n);
        const sealed = seal(aead, key, nonce, aad, data);
        const expected = seal(nobleAead, key, nonce, aad, data);
        if (toHex(sealed) !== toHex(expected)) throw new Error(`length ${n}, nonce ${nonceBytes}: differs from noble`);
        const opened = open(aead, key, nonce, aad, sealed);
        if (opened === null || toHex(opened) !== toHex(data)) throw new Error(`length ${n}: did not round-trip`);
        sealed[(n * 7) % sealed.length]! ^= 0x10;
        if (open(aead, key, nonce, aad, sealed) !== null) throw new Error(`length ${n}: tampering accepted`);
      }
    });

    test('large inputs and AAD beyond the backends’ initial scratch sizes', () => {
      const random = seededRandom(7);
      for (const [dataBytes, aadBytes] of [[5000, 300], [70_000, 10], [100, 0]] as const) {
        const key = randomBytes(random, 32);
        const nonce = randomBytes(random, 24);
        const aad = randomBytes(random, aadBytes);
        const data = randomBytes(random, dataBytes);
        const sealed = seal(aead, key, nonce, aad, data);
        expect(toHex(sealed)).toBe(toHex(seal(nobleAead, key, nonce, aad, data)));
        expect(toHex(open(aead, key, nonce, aad, sealed) ?? new Uint8Array(0))).toBe(toHex(data));
      }
    });

    test('misuse fails loudly; truncated input is just inauthentic', () => {
      const out = new Uint8Array(SUNSCREEN.length + AEAD_TAG_BYTES);
      expect(() => aead.seal(KEY.subarray(1), VECTORS[0]!.nonce, AAD, SUNSCREEN, out)).toThrow(AeadError);
      expect(() => aead.seal(KEY, new Uint8Array(16), AAD, SUNSCREEN, out)).toThrow(AeadError);
      expect(() => aead.seal(KEY, VECTORS[0]!.nonce, AAD, SUNSCREEN, out.subarray(1))).toThrow(AeadError);
      expect(() => aead.open(KEY, VECTORS[0]!.nonce, AAD, VECTORS[0]!.sealed, out)).toThrow(AeadError);
      expect(aead.open(KEY, VECTORS[0]!.nonce, AAD, new Uint8Array(15), new Uint8Array(0))).toBe(false);
    });
  });
}

test('defaultAead is the SIMD wasm backend under Bun', () => {
  expect(defaultAeadFallbackReason).toBeNull();
  expect(defaultAead.name).toBe('simd-wasm');
});

describe('the fast backends in order', () => {
  test('firstAead takes the first that loads, so an engine without wasm SIMD gets libsodium', async () => {
    let tried = 0;
    const aead = await firstAead([
      () => {
        tried++;
        return Promise.reject(new Error('no wasm SIMD'));
      },
      async () => sodiumAead,
      async () => {
        tried++;
        return nobleAead;
      },
    ]);
    expect(aead).toBe(sodiumAead);
    expect(tried).toBe(1);
  });

  test('firstAead rejects with every reason when none loads', async () => {
    const failing = (why: string) => () => Promise.reject(new Error(why));
    await expect(firstAead([failing('no wasm SIMD'), failing('wasm disabled by CSP')])).rejects.toThrow('no wasm SIMD; wasm disabled by CSP');
  });
});

describe('fallback where wasm cannot load', () => {
  test('chooseAead falls back to noble, says why, and its packets open with libsodium', async () => {
    const choice = await chooseAead(() => Promise.reject(new Error('wasm disabled by CSP')));
    expect(choice.fallbackReason).toBe('wasm disabled by CSP');
    expect(choice.aead.name).toBe('noble');
    const random = seededRandom(0xfa11);
    for (const nonceBytes of [12, 24]) {
      const key = randomBytes(random, 32);
      const nonce = randomBytes(random, nonceBytes);
      const aad = randomBytes(random, 22);
      const data = randomBytes(random, 300);
      const sealed = seal(choice.aead, key, nonce, aad, data);
      expect(toHex(open(sodiumAead, key, nonce, aad, sealed) ?? new Uint8Array(0))).toBe(toHex(data));
      expect(toHex(open(choice.aead, key, nonce, aad, seal(sodiumAead, key, nonce, aad, data)) ?? new Uint8Array(0))).toBe(toHex(data));
    }
  });

  test('chooseAead keeps the fast backend and never loads the fallback when wasm works', async () => {
    let fallbackLoaded = false;
    const choice = await chooseAead(async () => sodiumAead, async () => {
      fallbackLoaded = true;
      return nobleAead;
    });
    expect(choice).toEqual({ aead: sodiumAead, fallbackReason: null });
    expect(fallbackLoaded).toBe(false);
  });

  test('a process using the protocol (as a game worker does) never loads noble or libsodium', async () => {
    // A fresh process: this test file itself imports noble. require.cache lists ES modules too under Bun.
    const root = new URL('../../', import.meta.url).pathname;
    const script = `
      await import(${JSON.stringify(`${root}src/protocol/netcode/index.ts`)});
      const { defaultAead } = await import(${JSON.stringify(`${root}src/protocol/crypto/index.ts`)});
      const loaded = (part) => Object.keys(require.cache).filter((k) => k.includes(part));
      console.log(JSON.stringify({ name: defaultAead.name, noble: loaded('noble'), libsodium: loaded('libsodium') }));
    `;
    const proc = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'pipe' });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(JSON.parse(out.trim())).toEqual({ name: 'simd-wasm', noble: [], libsodium: [] });
  }, 30_000);
});
