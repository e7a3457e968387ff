/**
 * A short round over https:// and wss:// in Chromium: the server gets a certificate made by openssl now
 * (--tls-cert/--tls-key), Chromium trusts exactly that key (--ignore-certificate-errors-spki-list, not every
 * certificate), two pages create, join and play a round whose datagrams go through the relay over wss://.
 *
 * Runs only when HUDDLE_BINARY names a built binary (or HUDDLE_BROWSER_SOURCE=1 runs the source) and Debian's
 * chromium is installed, like the other browser suites.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser } from 'playwright-core';
import { makeCertificate, spkiHash, tempDir } from '../edge/support.ts';
import { allStarted, browserTestsEnabled, DESKTOP, type Huddle, launchChromium, openPage, PHONE, shot, startHuddle } from './harness.ts';

const enabled = browserTestsEnabled;
const ROUND_SECONDS = 6;
const WAIT = 15_000;
const certDir = tempDir('huddle-tls-browser-');

let server: Huddle | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!enabled) return;
  const { cert, key } = await makeCertificate(certDir.path, 'huddle-browser');
  const spki = await spkiHash(cert);
  await allStarted([
    startHuddle(['--round-seconds', String(ROUND_SECONDS), '--tls-cert', cert, '--tls-key', key], 2).then((h) => (server = h)),
    launchChromium([`--ignore-certificate-errors-spki-list=${spki}`]).then((b) => (browser = b)),
  ]);
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  certDir.remove();
});

describe.skipIf(!enabled)('the web client over HTTPS and WSS', () => {
  test('two pages play a round through the relay over wss://', async () => {
    const url = server!.url;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const sockets: string[] = [];
    const a = await openPage(browser!, DESKTOP, `${url}/`, pageErrors, WAIT);
    a.page.on('websocket', (ws) => sockets.push(ws.url()));
    expect(await a.page.evaluate(() => location.protocol)).toBe('https:');
    await a.page.getByTestId('name-input').fill('Ada');
    await a.page.getByTestId('create-button').click();
    await a.page.getByTestId('player').first().waitFor();
    const passcode = (await a.page.getByTestId('lobby-passcode').textContent())?.trim() ?? '';
    expect(passcode).toMatch(/^[0-9A-Z]{6}$/);
    await shot(a.page, 'tls-lobby-1280');

    const b = await openPage(browser!, PHONE, `${url}/?code=${passcode}`, pageErrors, WAIT);
    b.page.on('websocket', (ws) => sockets.push(ws.url()));
    await b.page.getByTestId('name-input').fill('Bob');
    await b.page.getByTestId('join-button').click();
    await b.page.getByTestId('screen-lobby').waitFor();
    await a.page.locator('[data-testid="player"]', { hasText: 'Bob' }).waitFor();

    await a.page.getByTestId('start-button').click();
    await Promise.all([a.page.getByTestId('screen-game').waitFor(), b.page.getByTestId('screen-game').waitFor()]);
    // Snapshots arrive (through the wss:// relay) and are drawn on both pages.
    for (const { page } of [a, b]) await page.locator('[data-testid="screen-game"][data-drawn="true"]').waitFor({ timeout: WAIT });
    await shot(a.page, 'tls-game-1280');
    await shot(b.page, 'tls-game-390');

    for (const { page } of [a, b]) await page.getByTestId('screen-results').waitFor({ timeout: (ROUND_SECONDS + 20) * 1000 });
    for (const { page } of [a, b]) {
      const text = (await page.getByTestId('result-row').allTextContents()).join('\n');
      expect(text).toContain('Ada');
      expect(text).toContain('Bob');
    }
    await shot(a.page, 'tls-results-1280');

    // Every WebSocket the pages opened was the relay over TLS.
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    for (const socket of sockets) expect(socket).toMatch(new RegExp(`^wss://127\\.0\\.0\\.1:\\d+/relay\\?game=`));
    expect(pageErrors).toEqual([]);
    await a.context.close();
    await b.context.close();
  }, 120_000);
});
