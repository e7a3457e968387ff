/**
 * Writes the SIMD ChaCha20-Poly1305 module (simd.ts runs it) as WebAssembly text, assembles it with WABT and
 * stores the bytes in simd.generated.ts. Run `npm run generate` after changing this file;
 * tests/crypto/simd.test.ts fails while the generated file is stale.
 *
 * Why a module of our own: libsodium's emscripten build is scalar (and its Poly1305 multiplies 64-bit limbs into
 * 128 bits that wasm has to emulate), and the AEAD is most of what writing and reading a packet costs
 * (BENCHMARKS.md, "netcode protocol"). Here:
 * - ChaCha20 runs four blocks at once, one 32-bit word of each block per lane of a v128 (the layout of
 *   libsodium's and the reference's SSSE3/AVX2 code): a packet up to 192 bytes needs one pass, its first block
 *   giving the Poly1305 key.
 * - Poly1305 is poly1305-donna's 32-bit form (five 26-bit limbs, products in i64), which wasm runs natively.
 * - XChaCha20's HChaCha20 is the same rounds, scalar, on one block.
 * Everything is generated from the few functions below (a quarter round, a double round), not written out, so
 * the eighty quarter rounds are one line each here. Its memory: simd-layout.ts.
 */
import wabt from 'wabt';
import { LAYOUT } from './simd-layout.ts';

export const GENERATED_PATH = new URL('./simd.generated.ts', import.meta.url).pathname;

// "expand 32-byte k", the ChaCha20 constants.
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

type Ops = { add: string; xor: string; rotl: (value: string, bits: number) => string };

/** A quarter round on locals $xA..$xD, as one statement per line, in the given lane type's operations. */
function quarterRound(ops: Ops, a: number, b: number, c: number, d: number): string[] {
  const x = (i: number): string => `(local.get $x${i})`;
  const step = (dst: number, src: number, rot: number, via: number): string[] => [
    `(local.set $x${dst} (${ops.add} ${x(dst)} ${x(src)}))`,
    `(local.set $x${rot} ${ops.rotl(`(${ops.xor} ${x(rot)} ${x(dst)})`, via)})`,
  ];
  return [...step(a, b, d, 16), ...step(c, d, b, 12), ...step(a, b, d, 8), ...step(c, d, b, 7)];
}

/** Columns, then diagonals. */
function doubleRound(ops: Ops): string[] {
  const rounds: [number, number, number, number][] = [
    [0, 4, 8, 12], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15],
    [0, 5, 10, 15], [1, 6, 11, 12], [2, 7, 8, 13], [3, 4, 9, 14],
  ];
  return rounds.flatMap(([a, b, c, d]) => quarterRound(ops, a, b, c, d));
}

/** 16 bytes: each 32-bit lane's bytes rotated left by `bits` (8 or 16), as an i8x16.shuffle's lane list. */
function byteRotation(bits: 8 | 16): string {
  const shift = bits / 8;
  return Array.from({ length: 16 }, (_, i) => (i & ~3) + (((i & 3) - shift + 4) & 3)).join(' ');
}

const SIMD_OPS: Ops = {
  add: 'i32x4.add',
  xor: 'v128.xor',
  rotl(value, bits) {
    // Rotations by whole bytes are one byte shuffle (pshufb); the others two shifts and an or.
    if (bits === 16 || bits === 8) return `(i8x16.shuffle ${byteRotation(bits)} (local.tee $t ${value}) (local.get $t))`;
    return `(v128.or (i32x4.shl (local.tee $t ${value}) (i32.const ${bits})) (i32x4.shr_u (local.get $t) (i32.const ${32 - bits})))`;
  },
};

const SCALAR_OPS: Ops = { add: 'i32.add', xor: 'i32.xor', rotl: (value, bits) => `(i32.rotl ${value} (i32.const ${bits}))` };

const words = (prefix: string, type: string): string => Array.from({ length: 16 }, (_, i) => `(local $${prefix}${i} ${type})`).join(' ');

/** Lanes j of four vectors a, b, c, d (word i of block j for i = 4g..4g+3) stored as block j's 16 bytes. */
function transposeStore(g: number): string[] {
  const [a, b, c, d] = [0, 1, 2, 3].map((i) => `(local.get $x${4 * g + i})`);
  const lo32 = '0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23';
  const hi32 = '8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31';
  const lo64 = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23';
  const hi64 = '8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31';
  const out = (block: number): number => LAYOUT.KS + 64 * block + 16 * g;
  return [
    `(local.set $t0 (i8x16.shuffle ${lo32} ${a} ${b}))`,
    `(local.set $t1 (i8x16.shuffle ${lo32} ${c} ${d}))`,
    `(local.set $t2 (i8x16.shuffle ${hi32} ${a} ${b}))`,
    `(local.set $t3 (i8x16.shuffle ${hi32} ${c} ${d}))`,
    `(v128.store (i32.const ${out(0)}) (i8x16.shuffle ${lo64} (local.get $t0) (local.get $t1)))`,
    `(v128.store (i32.const ${out(1)}) (i8x16.shuffle ${hi64} (local.get $t0) (local.get $t1)))`,
    `(v128.store (i32.const ${out(2)}) (i8x16.shuffle ${lo64} (local.get $t2) (local.get $t3)))`,
    `(v128.store (i32.const ${out(3)}) (i8x16.shuffle ${hi64} (local.get $t2) (local.get $t3)))`,
  ];
}

/** $keystream4(counter): blocks counter..counter+3 of STATE's key and nonce into KS. */
function keystream4(): string {
  const load = (i: number): string =>
    i === 12
      ? '(i32x4.add (i32x4.splat (local.get $counter)) (v128.const i32x4 0 1 2 3))'
      : `(v128.load32_splat (i32.const ${LAYOUT.STATE + 4 * i}))`;
  const body = [
    ...Array.from({ length: 16 }, (_, i) => `(local.set $x${i} ${load(i)})`),
    '(local.set $i (i32.const 10))',
    '(loop $rounds',
    ...doubleRound(SIMD_OPS).map((line) => `  ${line}`),
    '  (br_if $rounds (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))',
    // The input added back, loaded again rather than kept: sixteen more live vectors would not fit the registers.
    ...Array.from({ length: 16 }, (_, i) => `(local.set $x${i} (i32x4.add (local.get $x${i}) ${load(i)}))`),
    ...[0, 1, 2, 3].flatMap(transposeStore),
  ];
  return func('$keystream4', '(param $counter i32)', `${words('x', 'v128')} (local $t v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $i i32)`, body);
}

/** $hchacha(key, nonce16): HChaCha20's 32-byte output written as STATE's key words (XChaCha20's subkey). */
function hchacha(): string {
  const load = (i: number): string => {
    if (i < 4) return `(i32.const ${SIGMA[i]! | 0})`;
    if (i < 12) return `(i32.load offset=${4 * (i - 4)} (local.get $key))`;
    return `(i32.load offset=${4 * (i - 12)} (local.get $nonce))`;
  };
  const body = [
    ...scalarRounds(load),
    ...[0, 1, 2, 3, 12, 13, 14, 15].map((w, k) => `(i32.store (i32.const ${LAYOUT.STATE + 16 + 4 * k}) (local.get $x${w}))`),
  ];
  return func('$hchacha', '(param $key i32) (param $nonce i32)', `${words('x', 'i32')} (local $t i32) (local $i i32)`, body);
}

/**
 * $block1(counter): one block of STATE's key stream into KS, scalar: for a last pass that needs one block, where
 * four lanes would cost nearly twice as much (a 1000-byte packet's seventeenth block).
 */
function block1(): string {
  const load = (i: number): string => (i === 12 ? '(local.get $counter)' : `(i32.load (i32.const ${LAYOUT.STATE + 4 * i}))`);
  const body = [
    ...scalarRounds(load),
    ...Array.from({ length: 16 }, (_, i) => `(i32.store (i32.const ${LAYOUT.KS + 4 * i}) (i32.add (local.get $x${i}) ${load(i)}))`),
  ];
  return func('$block1', '(param $counter i32)', `${words('x', 'i32')} (local $t i32) (local $i i32)`, body);
}

/** ChaCha20's twenty rounds on scalar locals $x0..$x15, loaded by `load`. */
function scalarRounds(load: (i: number) => string): string[] {
  return [
    ...Array.from({ length: 16 }, (_, i) => `(local.set $x${i} ${load(i)})`),
    '(local.set $i (i32.const 10))',
    '(loop $rounds',
    ...doubleRound(SCALAR_OPS).map((line) => `  ${line}`),
    '  (br_if $rounds (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))',
  ];
}

/**
 * $setup(key, nonce, nonceLength): STATE for ChaCha20-IETF under the key and 12-byte nonce, or XChaCha20's
 * (HChaCha20 subkey, nonce 0 ‖ bytes 16..24) for a 24-byte nonce; then the first pass and the Poly1305 key.
 */
function setup(): string {
  const body = [
    ...SIGMA.map((w, i) => `(i32.store (i32.const ${LAYOUT.STATE + 4 * i}) (i32.const ${w | 0}))`),
    '(if (i32.eq (local.get $nonceLength) (i32.const 24))',
    '  (then',
    '    (call $hchacha (local.get $key) (local.get $nonce))',
    `    (i32.store (i32.const ${LAYOUT.STATE + 52}) (i32.const 0))`,
    `    (i64.store (i32.const ${LAYOUT.STATE + 56}) (i64.load offset=16 (local.get $nonce))))`,
    '  (else',
    `    (v128.store (i32.const ${LAYOUT.STATE + 16}) (v128.load (local.get $key)))`,
    `    (v128.store (i32.const ${LAYOUT.STATE + 32}) (v128.load offset=16 (local.get $key)))`,
    `    (i32.store (i32.const ${LAYOUT.STATE + 52}) (i32.load (local.get $nonce)))`,
    `    (i64.store (i32.const ${LAYOUT.STATE + 56}) (i64.load offset=4 (local.get $nonce)))))`,
    '(call $keystream4 (i32.const 0))',
    `(v128.store (i32.const ${LAYOUT.POLYK}) (v128.load (i32.const ${LAYOUT.KS})))`,
    `(v128.store (i32.const ${LAYOUT.POLYK + 16}) (v128.load (i32.const ${LAYOUT.KS + 16})))`,
    '(call $polyInit)',
  ];
  return func('$setup', '(param $key i32) (param $nonce i32) (param $nonceLength i32)', '', body);
}

/**
 * $xorStream(data, length): data ^= the key stream from block 1 on (block 0 was the Poly1305 key): the rest of
 * the first pass (KS from byte 64), then a pass per 256 bytes, the last one a single block when that is all it needs.
 */
function xorStream(): string {
  const body = [
    '(local.set $ks (i32.const 64))',
    '(local.set $counter (i32.const 0))',
    '(block $done',
    '  (loop $pass',
    '    (br_if $done (i32.eqz (local.get $length)))',
    '    (if (i32.eq (local.get $ks) (i32.const 256))',
    '      (then',
    '        (local.set $counter (i32.add (local.get $counter) (i32.const 4)))',
    '        (if (i32.le_u (local.get $length) (i32.const 64))',
    '          (then (call $block1 (local.get $counter)))',
    '          (else (call $keystream4 (local.get $counter))))',
    '        (local.set $ks (i32.const 0))))',
    '    (if (i32.ge_u (local.get $length) (i32.const 16))',
    '      (then',
    `        (v128.store (local.get $data) (v128.xor (v128.load (local.get $data)) (v128.load offset=${LAYOUT.KS} (local.get $ks))))`,
    '        (local.set $data (i32.add (local.get $data) (i32.const 16)))',
    '        (local.set $ks (i32.add (local.get $ks) (i32.const 16)))',
    '        (local.set $length (i32.sub (local.get $length) (i32.const 16))))',
    '      (else',
    `        (i32.store8 (local.get $data) (i32.xor (i32.load8_u (local.get $data)) (i32.load8_u offset=${LAYOUT.KS} (local.get $ks))))`,
    '        (local.set $data (i32.add (local.get $data) (i32.const 1)))',
    '        (local.set $ks (i32.add (local.get $ks) (i32.const 1)))',
    '        (local.set $length (i32.sub (local.get $length) (i32.const 1)))))',
    '    (br $pass)))',
  ];
  return func('$xorStream', '(param $data i32) (param $length i32)', '(local $ks i32) (local $counter i32)', body);
}

const POLY_GLOBALS = ['r0', 'r1', 'r2', 'r3', 'r4', 'h0', 'h1', 'h2', 'h3', 'h4', 'p0', 'p1', 'p2', 'p3'];

/** $polyInit: r (clamped, as five 26-bit limbs), the pad (s, four words) and h = 0 from POLYK. */
function polyInit(): string {
  const key = (offset: number, shift: number, mask: number): string =>
    `(i64.and (i64.shr_u (i64.load32_u (i32.const ${LAYOUT.POLYK + offset})) (i64.const ${shift})) (i64.const ${mask}))`;
  const body = [
    `(global.set $r0 ${key(0, 0, 0x3ffffff)})`,
    `(global.set $r1 ${key(3, 2, 0x3ffff03)})`,
    `(global.set $r2 ${key(6, 4, 0x3ffc0ff)})`,
    `(global.set $r3 ${key(9, 6, 0x3f03fff)})`,
    `(global.set $r4 ${key(12, 8, 0x00fffff)})`,
    ...[0, 1, 2, 3].map((i) => `(global.set $p${i} (i64.load32_u (i32.const ${LAYOUT.POLYK + 16 + 4 * i})))`),
    ...[0, 1, 2, 3, 4].map((i) => `(global.set $h${i} (i64.const 0))`),
  ];
  return func('$polyInit', '', '', body);
}

/**
 * $polyBlocks(m, length): h = (h + block) · r mod 2^130 − 5 for each whole 16-byte block, every block with its
 * 2^128 bit (in the AEAD every block is whole: a partial tail is zero-padded first, by $polyPadded).
 */
function polyBlocks(): string {
  const g = (name: string): string => `(local.get $${name})`;
  const limb = (offset: number, shift: number): string =>
    `(i64.and (i64.shr_u (i64.load32_u offset=${offset} (local.get $m)) (i64.const ${shift})) (i64.const 0x3ffffff))`;
  const mul = (a: string, b: string): string => `(i64.mul ${g(a)} ${g(b)})`;
  const sum = (terms: string[]): string => terms.reduce((acc, term) => `(i64.add ${acc} ${term})`);
  // d_k = Σ h_i · (r_{k−i}, or 5·r_{k−i+5} when it wraps)
  const d = (k: number): string =>
    sum([0, 1, 2, 3, 4].map((i) => mul(`h${i}`, k - i >= 0 ? `r${k - i}` : `s${k - i + 5}`)));
  const carry = (k: number): string[] => [
    `(local.set $h${k} (i64.and (local.get $d${k}) (i64.const 0x3ffffff)))`,
    ...(k < 4 ? [`(local.set $d${k + 1} (i64.add (local.get $d${k + 1}) (i64.shr_u (local.get $d${k}) (i64.const 26))))`] : []),
  ];
  const body = [
    ...POLY_GLOBALS.slice(0, 10).map((name) => `(local.set $${name} (global.get $${name}))`),
    ...[1, 2, 3, 4].map((i) => `(local.set $s${i} (i64.mul (local.get $r${i}) (i64.const 5)))`),
    '(block $done',
    '  (loop $block',
    '    (br_if $done (i32.lt_u (local.get $length) (i32.const 16)))',
    `    (local.set $h0 (i64.add (local.get $h0) ${limb(0, 0)}))`,
    `    (local.set $h1 (i64.add (local.get $h1) ${limb(3, 2)}))`,
    `    (local.set $h2 (i64.add (local.get $h2) ${limb(6, 4)}))`,
    `    (local.set $h3 (i64.add (local.get $h3) ${limb(9, 6)}))`,
    '    (local.set $h4 (i64.add (local.get $h4) (i64.or (i64.shr_u (i64.load32_u offset=12 (local.get $m)) (i64.const 8)) (i64.const 0x1000000))))',
    ...[0, 1, 2, 3, 4].map((k) => `    (local.set $d${k} ${d(k)})`),
    ...[0, 1, 2, 3, 4].flatMap(carry).map((line) => `    ${line}`),
    '    (local.set $h0 (i64.add (local.get $h0) (i64.mul (i64.shr_u (local.get $d4) (i64.const 26)) (i64.const 5))))',
    '    (local.set $h1 (i64.add (local.get $h1) (i64.shr_u (local.get $h0) (i64.const 26))))',
    '    (local.set $h0 (i64.and (local.get $h0) (i64.const 0x3ffffff)))',
    '    (local.set $m (i32.add (local.get $m) (i32.const 16)))',
    '    (local.set $length (i32.sub (local.get $length) (i32.const 16)))',
    '    (br $block)))',
    ...[0, 1, 2, 3, 4].map((i) => `(global.set $h${i} (local.get $h${i}))`),
  ];
  const locals = [...POLY_GLOBALS.slice(0, 10), 's1', 's2', 's3', 's4', 'd0', 'd1', 'd2', 'd3', 'd4'].map((n) => `(local $${n} i64)`).join(' ');
  return func('$polyBlocks', '(param $m i32) (param $length i32)', locals, body);
}

/** $polyPadded(m, length): the AEAD's Poly1305 input for one field: its whole blocks, then its tail zero-padded. */
function polyPadded(): string {
  const body = [
    '(local.set $whole (i32.and (local.get $length) (i32.const -16)))',
    '(call $polyBlocks (local.get $m) (local.get $whole))',
    '(local.set $tail (i32.sub (local.get $length) (local.get $whole)))',
    '(if (local.get $tail)',
    '  (then',
    `    (v128.store (i32.const ${LAYOUT.PAD}) (v128.const i64x2 0 0))`,
    `    (memory.copy (i32.const ${LAYOUT.PAD}) (i32.add (local.get $m) (local.get $whole)) (local.get $tail))`,
    `    (call $polyBlocks (i32.const ${LAYOUT.PAD}) (i32.const 16))))`,
  ];
  return func('$polyPadded', '(param $m i32) (param $length i32)', '(local $whole i32) (local $tail i32)', body);
}

/** $polyFinish(aadLength, dataLength): the AEAD's last Poly1305 block (the two lengths), then the tag to MAC. */
function polyFinish(): string {
  const body = [
    `(i64.store (i32.const ${LAYOUT.PAD}) (i64.extend_i32_u (local.get $aadLength)))`,
    `(i64.store (i32.const ${LAYOUT.PAD + 8}) (i64.extend_i32_u (local.get $dataLength)))`,
    `(call $polyBlocks (i32.const ${LAYOUT.PAD}) (i32.const 16))`,
    '(call $polyTag)',
  ];
  return func('$polyFinish', '(param $aadLength i32) (param $dataLength i32)', '', body);
}

/** $polyTag: h fully reduced mod 2^130 − 5, + s mod 2^128, to MAC. */
function polyTag(): string {
  const mask26 = '(i64.const 0x3ffffff)';
  const carryInto = (from: string, to: string): string[] => [
    `(local.set $${to} (i64.add (local.get $${to}) (i64.shr_u (local.get $${from}) (i64.const 26))))`,
    `(local.set $${from} (i64.and (local.get $${from}) ${mask26}))`,
  ];
  const body = [
    ...[0, 1, 2, 3, 4].map((i) => `(local.set $h${i} (global.get $h${i}))`),
    ...carryInto('h1', 'h2'),
    ...carryInto('h2', 'h3'),
    ...carryInto('h3', 'h4'),
    '(local.set $h0 (i64.add (local.get $h0) (i64.mul (i64.shr_u (local.get $h4) (i64.const 26)) (i64.const 5))))',
    `(local.set $h4 (i64.and (local.get $h4) ${mask26}))`,
    ...carryInto('h0', 'h1'),
    // g = h + 5 − 2^130; h ≥ p exactly when g ≥ 0, and then h mod p = g. Chosen by mask, not by branch.
    `(local.set $g0 (i64.add (local.get $h0) (i64.const 5)))`,
    `(local.set $g1 (i64.add (local.get $h1) (i64.shr_u (local.get $g0) (i64.const 26))))`,
    `(local.set $g0 (i64.and (local.get $g0) ${mask26}))`,
    `(local.set $g2 (i64.add (local.get $h2) (i64.shr_u (local.get $g1) (i64.const 26))))`,
    `(local.set $g1 (i64.and (local.get $g1) ${mask26}))`,
    `(local.set $g3 (i64.add (local.get $h3) (i64.shr_u (local.get $g2) (i64.const 26))))`,
    `(local.set $g2 (i64.and (local.get $g2) ${mask26}))`,
    `(local.set $g4 (i64.sub (i64.add (local.get $h4) (i64.shr_u (local.get $g3) (i64.const 26))) (i64.const 0x4000000)))`,
    `(local.set $g3 (i64.and (local.get $g3) ${mask26}))`,
    // All ones when g < 0 (keep h), zero otherwise (take g).
    '(local.set $keep (i64.shr_s (local.get $g4) (i64.const 63)))',
    ...[0, 1, 2, 3, 4].map(
      (i) => `(local.set $h${i} (i64.or (i64.and (local.get $h${i}) (local.get $keep)) (i64.and (local.get $g${i}) (i64.xor (local.get $keep) (i64.const -1)))))`,
    ),
    // h mod 2^128 as two 64-bit halves, + s (mod 2^128).
    '(local.set $lo (i64.or (i64.or (local.get $h0) (i64.shl (local.get $h1) (i64.const 26))) (i64.shl (local.get $h2) (i64.const 52))))',
    '(local.set $hi (i64.or (i64.or (i64.shr_u (local.get $h2) (i64.const 12)) (i64.shl (local.get $h3) (i64.const 14))) (i64.shl (local.get $h4) (i64.const 40))))',
    `(local.set $s (i64.or (global.get $p0) (i64.shl (global.get $p1) (i64.const 32))))`,
    '(local.set $sum (i64.add (local.get $lo) (local.get $s)))',
    `(i64.store (i32.const ${LAYOUT.MAC}) (local.get $sum))`,
    `(i64.store (i32.const ${LAYOUT.MAC + 8}) (i64.add (i64.add (local.get $hi) (i64.or (global.get $p2) (i64.shl (global.get $p3) (i64.const 32)))) (i64.extend_i32_u (i64.lt_u (local.get $sum) (local.get $s)))))`,
  ];
  const locals = ['h0', 'h1', 'h2', 'h3', 'h4', 'g0', 'g1', 'g2', 'g3', 'g4', 'keep', 'lo', 'hi', 's', 'sum'].map((n) => `(local $${n} i64)`).join(' ');
  return func('$polyTag', '', locals, body);
}

/**
 * poly1305(key, m, length, out): the bare MAC of a message of whole 16-byte blocks (length rounded down to 16).
 * The AEAD never needs it; it is exported so the tests can drive the reduction's edge cases with keys of their
 * choosing, which the AEAD's derived keys cannot give.
 */
function poly1305(): string {
  const body = [
    `(v128.store (i32.const ${LAYOUT.POLYK}) (v128.load (local.get $key)))`,
    `(v128.store (i32.const ${LAYOUT.POLYK + 16}) (v128.load offset=16 (local.get $key)))`,
    '(call $polyInit)',
    '(call $polyBlocks (local.get $m) (i32.and (local.get $length) (i32.const -16)))',
    '(call $polyTag)',
    `(v128.store (local.get $out) (v128.load (i32.const ${LAYOUT.MAC})))`,
    '(call $wipe)',
  ];
  return func('$poly1305', '(param $key i32) (param $m i32) (param $length i32) (param $out i32)', '', body, 'poly1305');
}

/** The AEAD's tag over the AAD and the ciphertext (in `data`), to MAC: what seal and open both compute. */
const TAG_OF_AAD_AND_DATA = [
  '(call $polyPadded (local.get $aad) (local.get $aadLength))',
  '(call $polyPadded (local.get $data) (local.get $length))',
  '(call $polyFinish (local.get $aadLength) (local.get $length))',
];

const AEAD_PARAMS = '(param $key i32) (param $nonce i32) (param $nonceLength i32) (param $aad i32) (param $aadLength i32) (param $data i32) (param $length i32) (param $tag i32)';

/**
 * $wipe: the key material a call leaves in the module zeroed (STATE's key or subkey words, the key stream, the
 * Poly1305 key, pad and tag, r, s and h), as libsodium wipes its own; the caller's copies after IO_START are theirs.
 */
function wipe(): string {
  const body = [
    `(memory.fill (i32.const 0) (i32.const 0) (i32.const ${LAYOUT.MAC + 16}))`,
    ...POLY_GLOBALS.map((name) => `(global.set $${name} (i64.const 0))`),
  ];
  return func('$wipe', '', '', body);
}

/** seal(...): data encrypted in place, its tag written at `tag`. */
function seal(): string {
  const body = [
    '(call $setup (local.get $key) (local.get $nonce) (local.get $nonceLength))',
    '(call $xorStream (local.get $data) (local.get $length))',
    ...TAG_OF_AAD_AND_DATA,
    `(v128.store (local.get $tag) (v128.load (i32.const ${LAYOUT.MAC})))`,
    '(call $wipe)',
  ];
  return func('$seal', AEAD_PARAMS, '', body, 'seal');
}

/** open(...) → 1: the tag at `tag` is authentic and data was decrypted in place; 0: it is not, data untouched. */
function open(): string {
  const body = [
    '(call $setup (local.get $key) (local.get $nonce) (local.get $nonceLength))',
    ...TAG_OF_AAD_AND_DATA,
    // Compared in constant time: every byte's difference or-ed together, one test at the end.
    `(local.set $authentic (i32.eqz (v128.any_true (v128.xor (v128.load (local.get $tag)) (v128.load (i32.const ${LAYOUT.MAC}))))))`,
    '(if (local.get $authentic) (then (call $xorStream (local.get $data) (local.get $length))))',
    '(call $wipe)',
    '(local.get $authentic)',
  ];
  return func('$open', AEAD_PARAMS, '(local $authentic i32)', body, 'open', '(result i32)');
}

function func(name: string, params: string, locals: string, body: string[], exportName?: string, result = ''): string {
  const head = [`(func ${name}`, exportName ? `(export "${exportName}")` : '', params, result, locals].filter(Boolean).join(' ');
  return [head, ...body.map((line) => `  ${line}`), ')'].join('\n');
}

/** The module as WebAssembly text. */
export function simdModuleText(): string {
  return [
    '(module',
    '(memory (export "memory") 1)',
    ...POLY_GLOBALS.map((name) => `(global $${name} (mut i64) (i64.const 0))`),
    keystream4(),
    hchacha(),
    block1(),
    setup(),
    xorStream(),
    polyInit(),
    polyBlocks(),
    polyPadded(),
    polyTag(),
    polyFinish(),
    wipe(),
    poly1305(),
    seal(),
    open(),
    ')',
  ].join('\n');
}

/** The module's bytes, assembled and validated by WABT (SIMD and bulk memory on). */
export async function simdModuleBytes(): Promise<Uint8Array> {
  const toolkit = await wabt();
  const parsed = toolkit.parseWat('chacha20poly1305-simd.wat', simdModuleText(), { simd: true, bulk_memory: true });
  try {
    parsed.validate();
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

export async function generateSimdSource(): Promise<string> {
  const bytes = await simdModuleBytes();
  return [
    '// Generated by `npm run generate` (src/protocol/crypto/simd.generator.ts) with WABT. Do not edit.',
    '// The SIMD ChaCha20-Poly1305 module simd.ts runs, as base64.',
    `export const SIMD_MODULE_BASE64 = '${Buffer.from(bytes).toString('base64')}';`,
    '',
  ].join('\n');
}

if (import.meta.main) {
  if (process.argv.includes('--wat')) process.stdout.write(`${simdModuleText()}\n`);
  else {
    await Bun.write(GENERATED_PATH, await generateSimdSource());
    console.log(`wrote ${GENERATED_PATH}`);
  }
}
