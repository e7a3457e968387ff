/**
 * The admin view and the invite link in Chromium against huddle (the binary named by HUDDLE_BINARY, or the source
 * with HUDDLE_BROWSER_SOURCE=1): the host's share link is the invite link, with the "only works on this computer"
 * warning on a loopback address; a phone opens it, types a name, Enter joins. The operator opens /admin, a wrong
 * token is refused, the right one shows the live game with its players, "End game" asks, then ends it, and both
 * players' pages say the operator ended the game. Screenshots at 1280×800 and 390×844 go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { allStarted, browserTestsEnabled, DESKTOP, type Huddle, launchChromium, openPage, PHONE, shot, startHuddle } from './harness.ts';

const enabled = browserTestsEnabled;
const WAIT = 15_000;
const TOKEN = 'browser-admin-token-0123456789';

let server: Huddle | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!enabled) return;
  await allStarted([
    startHuddle(['--admin-token', TOKEN, '--round-seconds', '60'], 2).then((h) => (server = h)),
    launchChromium().then((b) => (browser = b)),
  ]);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function open(options: Parameters<Browser['newContext']>[0], path: string): Promise<Page> {
  const { context, page } = await openPage(browser!, options, `${server!.url}${path}`, pageErrors, WAIT);
  contexts.push(context);
  return page;
}

describe.skipIf(!enabled)('admin view and invite link in Chromium', () => {
  test('the invite link joins with Enter; /admin signs in, lists the game and its players, ends it; the players read why', async () => {
    const url = server!.url;
    // The host creates a game on a loopback address: the share link is the invite link, and the host is warned.
    const a = await open(DESKTOP, '/');
    await a.getByTestId('name-input').fill('Ada');
    await a.getByTestId('create-button').click();
    await a.getByTestId('host-controls').waitFor();
    const invite = await a.getByTestId('share-link').inputValue();
    expect(invite).toMatch(new RegExp(`^${url}/\\?invite=[A-Za-z0-9_-]{24}$`));
    const passcode = ((await a.getByTestId('lobby-passcode').textContent()) ?? '').trim();
    expect(passcode).toMatch(/^[0-9A-Z]{6}$/);
    const warning = a.getByTestId('share-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toBe('This link only works on this computer: open huddle by its network address or set --public-url.');
    await shot(a, 'invite-lobby-warning-1280');

    // A friend on a phone opens the link: the invite card and the name field (focused); Enter joins.
    const b = await open(PHONE, new URL(invite).pathname + new URL(invite).search);
    await b.getByTestId('invite-card').waitFor();
    expect(await b.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('name-input');
    await shot(b, 'invite-home-390');
    await b.getByTestId('name-input').fill('Bob');
    await b.getByTestId('name-input').press('Enter');
    await b.getByTestId('screen-lobby').waitFor();
    await b.locator('[data-testid="player"]', { hasText: 'Ada' }).waitFor();
    await a.locator('[data-testid="player"]', { hasText: 'Bob' }).waitFor();
    // The key left the address bar once it took a seat; Bob is not the host, so no warning for him.
    expect(new URL(b.url()).searchParams.has('invite')).toBe(false);
    expect(await b.getByTestId('share-warning').isVisible()).toBe(false);
    expect(await b.getByTestId('share-link').inputValue()).toMatch(new RegExp(`^${url}/\\?invite=`));

    // The operator: a wrong token is refused, the right one shows the game.
    const admin = await open(DESKTOP, '/admin');
    expect(new URL(admin.url()).search).toBe('');
    await admin.getByTestId('token-input').waitFor();
    await shot(admin, 'admin-login-1280');
    await admin.getByTestId('token-input').fill('not-the-token-not-the-token');
    await admin.getByTestId('login-button').click();
    await admin.locator('[data-testid="login-error"]', { hasText: 'not this server' }).waitFor();
    await admin.getByTestId('token-input').fill(TOKEN);
    await admin.getByTestId('token-input').press('Enter');
    const card = admin.locator('[data-testid="admin-game"]', { hasText: 'Ada’s game' });
    await card.waitFor();
    // Connected (the worker's heartbeat lists the seats) with a ping; tick health once the loop has run.
    await card.locator('[data-testid="admin-player"][data-connected="true"]', { hasText: 'Bob' }).waitFor();
    await card.locator('[data-testid="admin-player"][data-connected="true"]', { hasText: 'Ada' }).waitFor();
    await card.locator('[data-testid="admin-tick"]', { hasText: 'p99' }).waitFor();
    expect(await card.getByTestId('admin-state').textContent()).toBe('Lobby');
    const adminText = await admin.evaluate(() => document.body.innerText);
    expect(adminText).not.toContain(passcode);
    expect(adminText).not.toContain(new URL(invite).searchParams.get('invite') ?? 'missing');
    await shot(admin, 'admin-games-1280');
    // The phone layout of the same view.
    const adminPhone = await open(PHONE, '/admin');
    await adminPhone.getByTestId('token-input').fill(TOKEN);
    await adminPhone.getByTestId('login-button').click();
    await adminPhone.locator('[data-testid="admin-player"][data-connected="true"]', { hasText: 'Bob' }).waitFor();
    await shot(adminPhone, 'admin-games-390');

    // End game asks first; "Keep it running" keeps it; then it ends.
    await card.getByTestId('end-game').click();
    await admin.getByTestId('confirm').waitFor();
    expect(await admin.getByTestId('confirm-text').textContent()).toContain('End Ada’s game now?');
    await shot(admin, 'admin-confirm-1280');
    await admin.getByTestId('confirm-no').click();
    expect(await admin.getByTestId('confirm').isVisible()).toBe(false);
    expect(await a.getByTestId('screen-lobby').isVisible()).toBe(true);
    await card.getByTestId('end-game').click();
    await admin.getByTestId('confirm-yes').click();

    for (const page of [a, b]) {
      await page.getByTestId('screen-home').waitFor();
      await page
        .locator('[data-testid="error"]', { hasText: "The server's operator ended this game." })
        .waitFor()
        .catch(async (error: unknown) => {
          // Say what the page showed instead, so a failure names the ending it took.
          const shown = await page.locator('[data-testid="error"]').allTextContents().catch(() => []);
          throw new Error(`the page did not say the operator ended the game; it shows ${JSON.stringify(shown)} (${String(error)})`);
        });
    }
    await shot(a, 'admin-ended-player-1280');
    await shot(b, 'admin-ended-player-390');
    await admin.getByTestId('no-games').waitFor();
    await shot(admin, 'admin-empty-1280');
    const status = (await (await fetch(`${url}/api/games?x`, { method: 'GET' }).catch(() => undefined))?.status) ?? 0;
    expect(status).toBe(404);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
