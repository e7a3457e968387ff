import { type Aead, AEAD_TAG_BYTES, checkAeadArgs, IETF_NONCE_BYTES } from './aead.ts';

/**
 * ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) in plain TypeScript, written for
 * the packet hot path: all state lives in module-level scratch, so a call allocates nothing, and the backend
 * needs no wasm and no async initialisation. It is the fallback wherever wasm cannot be instantiated.
 *
 * Poly1305 uses six 22-bit limbs held in doubles rather than the usual 13- or 26-bit integer limbs: 2^132 ≡ 20
 * (mod 2^130 - 5), every product sum stays below 2^52 so doubles are exact, and a block costs 36 multiplies
 * instead of the 100 of 13-bit limbs (26-bit limbs would need 64-bit products, which JS lacks).
 */

const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

/** ChaCha input state. Words 4..11 key, 12 counter, 13..15 nonce. */
const st = new Int32Array(16);
/** One keystream block, as words. */
const ks = new Int32Array(16);
/** Zero-padded tail of AAD/ciphertext, and the lengths block. */
const padBlock = new Uint8Array(16);
const tag = new Uint8Array(16);

function readLE32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** Runs the 20 ChaCha rounds on `st` into `ks`; the feed-forward is skipped for HChaCha20. */
function chachaCore(feedForward: boolean): void {
  let x0 = st[0]!, x1 = st[1]!, x2 = st[2]!, x3 = st[3]!, x4 = st[4]!, x5 = st[5]!, x6 = st[6]!, x7 = st[7]!;
  let x8 = st[8]!, x9 = st[9]!, x10 = st[10]!, x11 = st[11]!, x12 = st[12]!, x13 = st[13]!, x14 = st[14]!, x15 = st[15]!;
  for (let i = 0; i < 10; i++) {
      x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
      x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
      x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
      x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);
      x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
      x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
      x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
      x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);
      x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
      x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
      x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
      x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);
      x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
      x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
      x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
      x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);
      x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
      x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
      x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
      x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);
      x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
      x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
      x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
      x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);
      x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
      x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
      x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
      x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);
      x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
      x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
      x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
      x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  if (feedForward) {
    x0 = (x0 + st[0]!) | 0; x1 = (x1 + st[1]!) | 0; x2 = (x2 + st[2]!) | 0; x3 = (x3 + st[3]!) | 0;
    x4 = (x4 + st[4]!) | 0; x5 = (x5 + st[5]!) | 0; x6 = (x6 + st[6]!) | 0; x7 = (x7 + st[7]!) | 0;
    x8 = (x8 + st[8]!) | 0; x9 = (x9 + st[9]!) | 0; x10 = (x10 + st[10]!) | 0; x11 = (x11 + st[11]!) | 0;
    x12 = (x12 + st[12]!) | 0; x13 = (x13 + st[13]!) | 0; x14 = (x14 + st[14]!) | 0; x15 = (x15 + st[15]!) | 0;
  }
  ks[0] = x0; ks[1] = x1; ks[2] = x2; ks[3] = x3; ks[4] = x4; ks[5] = x5; ks[6] = x6; ks[7] = x7;
  ks[8] = x8; ks[9] = x9; ks[10] = x10; ks[11] = x11; ks[12] = x12; ks[13] = x13; ks[14] = x14; ks[15] = x15;
}

/** Fills `st` with the key and nonce, deriving the XChaCha subkey first when the nonce is 24 bytes. */
function setup(key: Uint8Array, nonce: Uint8Array): void {
  st[0] = SIGMA0; st[1] = SIGMA1; st[2] = SIGMA2; st[3] = SIGMA3;
  for (let i = 0; i < 8; i++) st[4 + i] = readLE32(key, 4 * i);
  if (nonce.length === IETF_NONCE_BYTES) {
    st[13] = readLE32(nonce, 0);
    st[14] = readLE32(nonce, 4);
    st[15] = readLE32(nonce, 8);
    return;
  }
  // HChaCha20 over the first 16 nonce bytes gives the subkey; the last 8 become the IETF nonce after 4 zero bytes.
  for (let i = 0; i < 4; i++) st[12 + i] = readLE32(nonce, 4 * i);
  chachaCore(false);
  st[4] = ks[0]!; st[5] = ks[1]!; st[6] = ks[2]!; st[7] = ks[3]!;
  st[8] = ks[12]!; st[9] = ks[13]!; st[10] = ks[14]!; st[11] = ks[15]!;
  st[13] = 0;
  st[14] = readLE32(nonce, 16);
  st[15] = readLE32(nonce, 20);
}

/** XORs the keystream from block counter 1 into `input`, writing `out`; same-offset in-place is safe. */
function xorStream(input: Uint8Array, out: Uint8Array, length: number): void {
  let counter = 1;
  for (let off = 0; off < length; off += 64) {
    st[12] = counter++;
    chachaCore(true);
    const end = Math.min(64, length - off);
    if (end === 64) {
      for (let w = 0; w < 16; w++) {
        const v = ks[w]!;
        const j = off + 4 * w;
        out[j] = input[j]! ^ v;
        out[j + 1] = input[j + 1]! ^ (v >>> 8);
        out[j + 2] = input[j + 2]! ^ (v >>> 16);
        out[j + 3] = input[j + 3]! ^ (v >>> 24);
      }
    } else {
      for (let i = 0; i < end; i++) out[off + i] = input[off + i]! ^ (ks[i >> 2]! >>> (8 * (i & 3)));
    }
  }
}

// Poly1305 state: h = accumulator, r = clamped key, s = 20*r (for products that wrap past 2^132).
const P22 = 4194304; // 2^22
const INV22 = 1 / P22;
const M22 = 0x3fffff;
let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0;
let r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0;

function polyInit(): void {
  // The one-time key is the first 32 bytes of keystream block 0.
  st[12] = 0;
  chachaCore(true);
  polyKey();
}

/** Loads r from ks[0..3]; s stays in ks[4..7] for polyFinish. */
function polyKey(): void {
  const t0 = ks[0]! & 0x0fffffff, t1 = ks[1]! & 0x0ffffffc, t2 = ks[2]! & 0x0ffffffc, t3 = ks[3]! & 0x0ffffffc;
  r0 = t0 & M22;
  r1 = ((t0 >>> 22) | (t1 << 10)) & M22;
  r2 = ((t1 >>> 12) | (t2 << 20)) & M22;
  r3 = (t2 >>> 2) & M22;
  r4 = ((t2 >>> 24) | (t3 << 8)) & M22;
  r5 = t3 >>> 14;
  h0 = h1 = h2 = h3 = h4 = h5 = 0;
}

/** Absorbs `length` bytes (a multiple of 16) of `b` from `start`; `hibit` is the 2^128 bit within limb 5. */
function polyBlocks(b: Uint8Array, start: number, length: number, hibit = 0x40000): void {
  const s1 = 20 * r1, s2 = 20 * r2, s3 = 20 * r3, s4 = 20 * r4, s5 = 20 * r5;
  let a0 = h0, a1 = h1, a2 = h2, a3 = h3, a4 = h4, a5 = h5;
  const end = start + length;
  for (let i = start; i < end; i += 16) {
    const t0 = readLE32(b, i), t1 = readLE32(b, i + 4), t2 = readLE32(b, i + 8), t3 = readLE32(b, i + 12);
    a0 += t0 & M22;
    a1 += ((t0 >>> 22) | (t1 << 10)) & M22;
    a2 += ((t1 >>> 12) | (t2 << 20)) & M22;
    a3 += (t2 >>> 2) & M22;
    a4 += ((t2 >>> 24) | (t3 << 8)) & M22;
    a5 += (t3 >>> 14) | hibit;
    let d0 = a0 * r0 + a1 * s5 + a2 * s4 + a3 * s3 + a4 * s2 + a5 * s1;
    let d1 = a0 * r1 + a1 * r0 + a2 * s5 + a3 * s4 + a4 * s3 + a5 * s2;
    let d2 = a0 * r2 + a1 * r1 + a2 * r0 + a3 * s5 + a4 * s4 + a5 * s3;
    let d3 = a0 * r3 + a1 * r2 + a2 * r1 + a3 * r0 + a4 * s5 + a5 * s4;
    let d4 = a0 * r4 + a1 * r3 + a2 * r2 + a3 * r1 + a4 * r0 + a5 * s5;
    let d5 = a0 * r5 + a1 * r4 + a2 * r3 + a3 * r2 + a4 * r1 + a5 * r0;
    let c = Math.floor(d0 * INV22); a0 = d0 - c * P22; d1 += c;
    c = Math.floor(d1 * INV22); a1 = d1 - c * P22; d2 += c;
    c = Math.floor(d2 * INV22); a2 = d2 - c * P22; d3 += c;
    c = Math.floor(d3 * INV22); a3 = d3 - c * P22; d4 += c;
    c = Math.floor(d4 * INV22); a4 = d4 - c * P22; d5 += c;
    c = Math.floor(d5 * INV22); a5 = d5 - c * P22;
    d0 = a0 + c * 20;
    c = Math.floor(d0 * INV22); a0 = d0 - c * P22; a1 += c;
  }
  h0 = a0; h1 = a1; h2 = a2; h3 = a3; h4 = a4; h5 = a5;
}

/** Absorbs `length` bytes, zero-padding the last partial block as the AEAD construction requires. */
function polyPadded(b: Uint8Array, length: number): void {
  const whole = length & ~15;
  polyBlocks(b, 0, whole);
  if (whole === length) return;
  padBlock.fill(0);
  for (let i = whole; i < length; i++) padBlock[i - whole] = b[i]!;
  polyBlocks(padBlock, 0, 16);
}

function polyLengths(aadLength: number, dataLength: number): void {
  padBlock.fill(0);
  writeLE64(padBlock, 0, aadLength);
  writeLE64(padBlock, 8, dataLength);
  polyBlocks(padBlock, 0, 16);
}

function writeLE64(b: Uint8Array, i: number, n: number): void {
  const lo = n >>> 0, hi = Math.floor(n / 4294967296);
  b[i] = lo; b[i + 1] = lo >>> 8; b[i + 2] = lo >>> 16; b[i + 3] = lo >>> 24;
  b[i + 4] = hi; b[i + 5] = hi >>> 8; b[i + 6] = hi >>> 16; b[i + 7] = hi >>> 24;
}

/** Reduces h fully mod 2^130 - 5, adds the second half of the one-time key (still in ks[4..7]) and writes `tag`. */
function polyFinish(): void {
  // Propagate carries so every limb is below 2^22; limb 5 then holds bits 110..131.
  let c = Math.floor(h0 * INV22); h0 -= c * P22; h1 += c;
  c = Math.floor(h1 * INV22); h1 -= c * P22; h2 += c;
  c = Math.floor(h2 * INV22); h2 -= c * P22; h3 += c;
  c = Math.floor(h3 * INV22); h3 -= c * P22; h4 += c;
  c = Math.floor(h4 * INV22); h4 -= c * P22; h5 += c;
  // Fold bits >= 130 (limb 5 bits >= 20) back in as *5, twice so the second carry cannot overflow.
  for (let k = 0; k < 2; k++) {
    c = Math.floor(h5 / 1048576); h5 -= c * 1048576; h0 += c * 5;
    c = Math.floor(h0 * INV22); h0 -= c * P22; h1 += c;
    c = Math.floor(h1 * INV22); h1 -= c * P22; h2 += c;
    c = Math.floor(h2 * INV22); h2 -= c * P22; h3 += c;
    c = Math.floor(h3 * INV22); h3 -= c * P22; h4 += c;
    c = Math.floor(h4 * INV22); h4 -= c * P22; h5 += c;
  }
  // Now h < 2^130 + small. Compute g = h + 5 - 2^130 and keep it if non-negative, without branching on secrets.
  let g0 = h0 + 5;
  c = g0 >>> 22; g0 &= M22;
  let g1 = h1 + c; c = g1 >>> 22; g1 &= M22;
  let g2 = h2 + c; c = g2 >>> 22; g2 &= M22;
  let g3 = h3 + c; c = g3 >>> 22; g3 &= M22;
  let g4 = h4 + c; c = g4 >>> 22; g4 &= M22;
  const g5 = h5 + c - 1048576;
  const mask = (g5 >> 31) ^ -1; // all ones when g5 >= 0, i.e. h >= p
  const f0 = (h0 & ~mask) | (g0 & mask), f1 = (h1 & ~mask) | (g1 & mask), f2 = (h2 & ~mask) | (g2 & mask);
  const f3 = (h3 & ~mask) | (g3 & mask), f4 = (h4 & ~mask) | (g4 & mask), f5 = (h5 & ~mask) | (g5 & mask);
  // Repack 22-bit limbs into 32-bit words (mod 2^128) and add s with carries.
  const w0 = (f0 | (f1 << 22)) >>> 0;
  const w1 = ((f1 >>> 10) | (f2 << 12)) >>> 0;
  const w2 = ((f2 >>> 20) | (f3 << 2) | (f4 << 24)) >>> 0;
  const w3 = ((f4 >>> 8) | (f5 << 14)) >>> 0;
  let sum = w0 + (ks[4]! >>> 0);
  writeTagWord(0, sum);
  sum = w1 + (ks[5]! >>> 0) + (sum > 0xffffffff ? 1 : 0);
  writeTagWord(4, sum);
  sum = w2 + (ks[6]! >>> 0) + (sum > 0xffffffff ? 1 : 0);
  writeTagWord(8, sum);
  sum = w3 + (ks[7]! >>> 0) + (sum > 0xffffffff ? 1 : 0);
  writeTagWord(12, sum);
}

function writeTagWord(i: number, v: number): void {
  const w = v >>> 0;
  tag[i] = w; tag[i + 1] = w >>> 8; tag[i + 2] = w >>> 16; tag[i + 3] = w >>> 24;
}

/** Computes the tag over aad and `ciphertext[0, length)` into `tag`. */
function computeTag(aad: Uint8Array, ciphertext: Uint8Array, length: number): void {
  polyInit();
  polyPadded(aad, aad.length);
  polyPadded(ciphertext, length);
  polyLengths(aad.length, length);
  polyFinish();
}

/**
 * Bare Poly1305 (RFC 8439 §2.5) of `msg` under a 32-byte one-time key, into `out` (16 bytes). Exposed so the
 * tests can drive the final reduction's edge cases (RFC 8439 A.3), which random AEAD inputs almost never reach.
 */
export function poly1305(oneTimeKey: Uint8Array, msg: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) ks[i] = readLE32(oneTimeKey, 4 * i);
  polyKey();
  const whole = msg.length & ~15;
  polyBlocks(msg, 0, whole);
  if (whole !== msg.length) {
    // A short final block gets a 1 byte appended instead of the 2^128 bit.
    padBlock.fill(0);
    for (let i = whole; i < msg.length; i++) padBlock[i - whole] = msg[i]!;
    padBlock[msg.length - whole] = 1;
    polyBlocks(padBlock, 0, 16, 0);
  }
  polyFinish();
  for (let i = 0; i < 16; i++) out[i] = tag[i]!;
}

/** Allocation-free pure-TS backend. */
export const pureAead: Aead = {
  name: 'pure-ts',
  seal(key, nonce, aad, data, out) {
    const n = data.length;
    checkAeadArgs(key, nonce, n + AEAD_TAG_BYTES, out.length);
    setup(key, nonce);
    xorStream(data, out, n);
    computeTag(aad, out, n);
    for (let i = 0; i < 16; i++) out[n + i] = tag[i]!;
  },
  open(key, nonce, aad, sealed, out) {
    if (sealed.length < AEAD_TAG_BYTES) return false;
    const n = sealed.length - AEAD_TAG_BYTES;
    checkAeadArgs(key, nonce, n, out.length);
    setup(key, nonce);
    computeTag(aad, sealed, n);
    let diff = 0;
    for (let i = 0; i < 16; i++) diff |= tag[i]! ^ sealed[n + i]!;
    if (diff !== 0) return false;
    xorStream(sealed, out, n);
    return true;
  },
};
