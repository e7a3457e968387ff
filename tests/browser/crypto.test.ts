/**
 * The protocol's AEAD in Chromium, as the web client bundles it: the SIMD module where the page may run wasm, the
 * audited noble fallback where its Content-Security-Policy forbids it, and both seal byte for byte as libsodium
 * does in Bun. It needs Chromium only (no huddle server), so it runs wherever Debian's chromium is installed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createSodiumAead } from '../../src/protocol/crypto/sodium.ts';
import { CHROMIUM, launchChromium } from './harness.ts';

const ROOT = join(import.meta.dir, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'huddle-crypto-page-'));
let server: ReturnType<typeof Bun.serve> | undefined;
let browser: Browser | undefined;
let script = '';
const enabled = existsSync(CHROMIUM);

// One input per nonce size, from a fixed pattern; the expected bytes are libsodium's, computed here.
const input = (length: number, from: number): number[] => Array.from({ length }, (_, i) => (from + i * 7) & 0xff);
const CASES = [12, 24].map((nonceBytes) => ({ key: input(32, 0x80), nonce: input(nonceBytes, 0x40), aad: input(22, 3), data: input(300, 9) }));

beforeAll(async () => {
  if (!enabled) return;
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { defaultAead, defaultAeadFallbackReason } from ${JSON.stringify(join(ROOT, 'src/protocol/crypto/index.ts'))};
const cases = ${JSON.stringify(CASES)};
const sealed = cases.map((c) => {
  const out = new Uint8Array(c.data.length + 16);
  defaultAead.seal(Uint8Array.from(c.key), Uint8Array.from(c.nonce), Uint8Array.from(c.aad), Uint8Array.from(c.data), out);
  const back = new Uint8Array(c.data.length);
  const opened = defaultAead.open(Uint8Array.from(c.key), Uint8Array.from(c.nonce), Uint8Array.from(c.aad), out, back);
  return { hex: Array.from(out, (b) => b.toString(16).padStart(2, '0')).join(''), opened: opened && back.every((b, i) => b === c.data[i]) };
});
document.title = 'done';
document.body.textContent = JSON.stringify({ name: defaultAead.name, fallback: defaultAeadFallbackReason !== null, sealed });
`,
  );
  const built = await Bun.build({ entrypoints: [entry], target: 'browser', minify: true });
  if (!built.success) throw new AggregateError(built.logs, 'the test page did not build');
  script = await built.outputs[0]!.text();
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === '/app.js') return new Response(script, { headers: { 'content-type': 'text/javascript' } });
      // /strict: a page that may run its own script but no wasm ('wasm-unsafe-eval' left out).
      const headers: Record<string, string> = { 'content-type': 'text/html' };
      if (pathname === '/strict') headers['content-security-policy'] = "script-src 'self'";
      return new Response('<!doctype html><title>loading</title><body><script type="module" src="/app.js"></script></body>', { headers });
    },
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

async function pageResult(path: string): Promise<{ name: string; fallback: boolean; sealed: { hex: string; opened: boolean }[] }> {
  const context = await browser!.newContext();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${server!.port}${path}`);
    await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 15_000 });
    expect(errors).toEqual([]);
    return JSON.parse((await page.textContent('body')) ?? '{}');
  } finally {
    await context.close();
  }
}

async function libsodiumSealed(): Promise<string[]> {
  const sodium = await createSodiumAead();
  return CASES.map((c) => {
    const out = new Uint8Array(c.data.length + 16);
    sodium.seal(Uint8Array.from(c.key), Uint8Array.from(c.nonce), Uint8Array.from(c.aad), Uint8Array.from(c.data), out);
    return Buffer.from(out).toString('hex');
  });
}

describe.skipIf(!enabled)('the AEAD in Chromium', () => {
  for (const page of [
    { path: '/', name: 'simd-wasm', fallback: false, what: 'a page that may run wasm uses the SIMD module' },
    { path: '/strict', name: 'noble', fallback: true, what: 'a page whose CSP forbids wasm falls back to noble' },
  ]) {
    test(`${page.what}, which seals as libsodium does and opens its own`, async () => {
      const result = await pageResult(page.path);
      expect(result.name).toBe(page.name);
      expect(result.fallback).toBe(page.fallback);
      expect(result.sealed.map((s) => s.hex)).toEqual(await libsodiumSealed());
      expect(result.sealed.every((s) => s.opened)).toBe(true);
    }, 30_000);
  }
});
