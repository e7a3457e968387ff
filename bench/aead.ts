/**
 * seal+open pairs per second for each AEAD backend, single thread, median of 5 runs, and each backend's ratio to
 * the default (simd-wasm) measured in the same invocation: the backends' runs take turns, run by run.
 *
 *   node_modules/.bin/bun bench/aead.ts [--runs 5] [--ms 300]
 *
 * One "pair" is what a netcode payload packet costs to write and read: a seal and an open of the payload with a
 * 22-byte AAD (netcode's version info + protocol id + prefix byte) and a 12-byte (IETF) nonce.
 */
import { type Aead, AEAD_TAG_BYTES } from '../src/protocol/crypto/index.ts';
import { nobleAead } from '../src/protocol/crypto/noble.ts';
import { createSimdAead } from '../src/protocol/crypto/simd.ts';
import { createSodiumAead } from '../src/protocol/crypto/sodium.ts';
import { median } from '../src/stats/percentile.ts';
import { benchArgs } from './args.ts';

const SIZES = [64, 100, 1000, 1200] as const;
const AAD_BYTES = 22;

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/aead.ts',
  summary: 'seal+open pairs/s of each AEAD backend (simd-wasm, the default; libsodium-wasm, without wasm SIMD; noble, the fallback), single thread.',
  flags: {
    runs: { type: 'number', integer: true, min: 1, default: 5, help: 'measured runs per backend and size; the median is shown' },
    ms: { type: 'number', min: 1, default: 300, help: 'length of one run, ms' },
  },
});
const runs = flags.runs;
const runMs = flags.ms;

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Pairs per second for one run: loops in batches until `runMs` has passed, so slow backends don't take forever. */
function oneRun(aead: Aead, size: number): number {
  const key = fill(32, 1);
  const nonce = fill(12, 2);
  const aad = fill(AAD_BYTES, 3);
  const plain = fill(size, 4);
  const sealed = new Uint8Array(size + AEAD_TAG_BYTES);
  const opened = new Uint8Array(size);
  let pairs = 0;
  let batch = 64;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < runMs) {
    for (let i = 0; i < batch; i++) {
      nonce[0] = i; // a fresh nonce per packet, like the real sender
      aead.seal(key, nonce, aad, plain, sealed);
      if (!aead.open(key, nonce, aad, sealed, opened)) throw new Error(`${aead.name}: open failed`);
    }
    pairs += batch;
    elapsed = performance.now() - start;
    if (elapsed < runMs / 10) batch *= 2;
  }
  return (pairs / elapsed) * 1000;
}

// The default first: the other rows are given as ratios to it.
const backends: Aead[] = [await createSimdAead(), await createSodiumAead(), nobleAead];
for (const aead of backends) for (const size of SIZES) oneRun(aead, size); // warm the JIT before measuring
// samples[backend][size]: the backends take turns run by run, so a noisy moment falls on all of them alike.
const samples: number[][][] = backends.map(() => SIZES.map(() => []));
for (let r = 0; r < runs; r++) {
  for (const [i, size] of SIZES.entries()) for (const [b, aead] of backends.entries()) samples[b]![i]!.push(oneRun(aead, size));
}
const rows: string[][] = [['backend', ...SIZES.map((s) => `${s} B`)]];
for (const [b, aead] of backends.entries()) {
  const row = [b === 0 ? `${aead.name} (default)` : aead.name];
  for (const i of SIZES.keys()) {
    const runsHere = samples[b]![i]!;
    const m = median(runsHere);
    const spread = (Math.max(...runsHere) - Math.min(...runsHere)) / m;
    const ratio = b === 0 ? '' : ` ${(m / median(samples[0]![i]!)).toFixed(2)}x`;
    row.push(`${Math.round(m / 1000)}k (±${Math.round(spread * 50)}%)${ratio}`);
  }
  rows.push(row);
}

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log(`seal+open pairs/s, median of ${runs} runs of ${runMs} ms, ${AAD_BYTES} B AAD, Bun ${Bun.version}`);
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
  if (i === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
}
