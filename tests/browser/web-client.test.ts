/**
 * The web client in a real browser against the compiled binary: two pages (1280x800 and a 390x844 phone) and a
 * UDP bot play a whole game through the WebSocket relay, and the failures a player can meet on the home screen
 * (wrong passcode, game already started) are shown there. Screenshots of every screen go to test-artifacts/.
 *
 * Runs only when HUDDLE_BINARY names a built binary (or HUDDLE_BROWSER_SOURCE=1 runs the source) and Debian's
 * chromium is installed (`.ci/run` sees to both); playwright-core drives that chromium, it never downloads a browser.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { allStarted, browserTestsEnabled, DESKTOP, type Huddle, launchChromium, openPage, PHONE, shot, startHuddle } from './harness.ts';

const enabled = browserTestsEnabled;
const ROUND_SECONDS = 10;
const WAIT = 15_000;

let server: Huddle | undefined;
let browser: Browser | undefined;
let url = '';
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!enabled) return;
  await allStarted([startHuddle(['--round-seconds', String(ROUND_SECONDS)], 4).then((h) => (server = h)), launchChromium().then((b) => (browser = b))]);
  url = server!.url;
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function open(options: Parameters<Browser['newContext']>[0], path = '/'): Promise<{ context: BrowserContext; page: Page }> {
  return openPage(browser!, options, `${url}${path}`, pageErrors, WAIT);
}

/** "1:05" → 65 */
function seconds(text: string | null): number {
  const match = /^(\d+):(\d{2})$/.exec(text?.trim() ?? '');
  return match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
}

/** `huddle bot` over real UDP, its JSON lines kept for the assertions. */
function startBot(passcode: string) {
  const child = server!.spawn(['bot', '--server', url, '--json', '--timeout', '60', '--name', 'Robo', '--join', passcode]);
  const output = new Response(child.stdout as ReadableStream<Uint8Array>).text();
  return { exited: child.exited, lines: async () => (await output).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string }) };
}

describe.skipIf(!enabled)('the web client in Chromium', () => {
  test('two pages and a UDP bot play a game through the relay; wrong passcode and started game are shown', async () => {
    // Page A (laptop) creates the game.
    const a = await open(DESKTOP);
    await shot(a.page, 'home-1280');
    await a.page.getByTestId('name-input').fill('Ada');
    await a.page.getByTestId('create-button').click();
    const passcodeBox = a.page.getByTestId('lobby-passcode');
    await a.page.getByTestId('player').first().waitFor();
    const passcode = (await passcodeBox.textContent())?.trim() ?? '';
    expect(passcode).toMatch(/^[0-9A-Z]{6}$/);
    expect(await a.page.getByTestId('host-controls').isVisible()).toBe(true);

    // The share link is the invite link (tests/browser/admin.test.ts follows one); page B (phone) opens a
    // passcode link: the passcode is filled in.
    const shareLink = await a.page.getByTestId('share-link').inputValue();
    expect(shareLink).toMatch(new RegExp(`^${url}/\\?invite=[A-Za-z0-9_-]{24}$`));
    const b = await open(PHONE, `/?code=${passcode}`);
    expect(await b.page.getByTestId('passcode-input').inputValue()).toBe(passcode);
    await shot(b.page, 'home-390');
    await b.page.getByTestId('name-input').fill('Bob');
    await b.page.getByTestId('join-button').click();
    await b.page.getByTestId('screen-lobby').waitFor();
    await b.page.locator('[data-testid="player"]', { hasText: 'Ada' }).waitFor();
    expect(await b.page.getByTestId('host-controls').isVisible()).toBe(false);

    // A chat line from B reaches A.
    await b.page.getByTestId('chat-input').fill('hello from Bob');
    await b.page.getByTestId('chat-send').click();
    await a.page.locator('[data-testid="chat-line"]', { hasText: 'hello from Bob' }).waitFor();

    // A UDP bot joins the same game.
    const bot = startBot(passcode);
    await a.page.locator('[data-testid="player"]', { hasText: 'Robo' }).waitFor();
    await b.page.locator('[data-testid="player"]', { hasText: 'Robo' }).waitFor();
    expect(await a.page.getByTestId('player').count()).toBe(3);
    await shot(a.page, 'lobby-1280');
    await shot(b.page, 'lobby-390');

    // A third visitor with a wrong passcode gets the message on screen.
    const c = await open(PHONE);
    await c.page.getByTestId('name-input').fill('Cy');
    await c.page.getByTestId('passcode-input').fill(passcode === 'ZZZZZZ' ? 'YYYYYY' : 'ZZZZZZ');
    await c.page.getByTestId('join-button').click();
    const error = c.page.getByTestId('error');
    await error.waitFor();
    expect(await error.textContent()).toContain('No game has that passcode');
    await shot(c.page, 'error-wrong-passcode-390');

    // A starts on hard; both pages reach the game screen.
    await a.page.getByTestId('difficulty-hard').check();
    await a.page.getByTestId('start-button').click();
    await Promise.all([a.page.getByTestId('screen-game').waitFor(), b.page.getByTestId('screen-game').waitFor()]);

    // Once started, the passcode admits nobody: the visitor is told so.
    await c.page.getByTestId('passcode-input').fill(passcode);
    await c.page.getByTestId('join-button').click();
    await c.page.locator('[data-testid="error"]', { hasText: 'already started' }).waitFor();
    await shot(c.page, 'error-game-started-390');
    await c.context.close();

    // From the first countdown frame: the arena's field and help, never the old tap game.
    for (const { page } of [a, b]) {
      const first = await page.evaluate(() => ({
        help: document.querySelector('[data-testid="controls-help"]')?.textContent ?? '',
        mode: document.querySelector('[data-testid="screen-game"]')?.getAttribute('data-mode'),
        tap: document.querySelectorAll('[data-testid="tap-button"]').length,
        text: document.body.innerText,
      }));
      expect(first.mode).toBe('arena');
      expect(first.help).toMatch(/WASD|buttons under the field/);
      expect(first.tap).toBe(0);
      expect(first.text).not.toContain('Tap the button');
    }
    // Both pages show the moving arena field (drawn from snapshots) and a running timer.
    for (const { page } of [a, b]) await page.locator('[data-testid="game-phase"]', { hasText: 'Go!' }).waitFor({ timeout: WAIT });
    for (const { page } of [a, b]) await page.locator('[data-testid="screen-game"][data-drawn="true"]').waitFor({ timeout: WAIT });
    const mode = 'arena';
    for (const [name, { page }] of [['1280', a], ['390', b]] as const) {
      const canvas = page.getByTestId('game-canvas');
      const before = await canvas.screenshot();
      const timerBefore = seconds(await page.getByTestId('game-timer').textContent());
      await page.keyboard.down('ArrowUp');
      await page.waitForTimeout(1500);
      await page.keyboard.up('ArrowUp');
      const after = await canvas.screenshot();
      const timerAfter = seconds(await page.getByTestId('game-timer').textContent());
      expect(Buffer.compare(before, after), `the ${name} canvas did not change (${mode} round)`).not.toBe(0);
      expect(timerAfter, `the ${name} timer did not run`).toBeLessThan(timerBefore);
      expect(timerBefore).toBeLessThanOrEqual(ROUND_SECONDS);
      await shot(page, `game-${mode}-${name}`);
    }

    // Both reach the results, listing all three players with scores.
    for (const { page } of [a, b]) await page.getByTestId('screen-results').waitFor({ timeout: (ROUND_SECONDS + 20) * 1000 });
    for (const [name, { page }] of [['1280', a], ['390', b]] as const) {
      const rows = page.getByTestId('result-row');
      expect(await rows.count()).toBe(3);
      const text = (await rows.allTextContents()).join('\n');
      for (const player of ['Ada', 'Bob', 'Robo']) expect(text).toContain(player);
      for (const score of await page.getByTestId('result-score').allTextContents()) expect(score).toMatch(/^\d+$/);
      await shot(page, `results-${name}`);
    }
    expect(await bot.exited).toBe(0);
    expect((await bot.lines()).some((l) => l.event === 'results')).toBe(true);

    // Back to home from the results.
    await a.page.getByTestId('home-button').click();
    await a.page.getByTestId('screen-home').waitFor();
    expect(pageErrors).toEqual([]);
    await a.context.close();
    await b.context.close();
  }, 120_000);
});
