/**
 * Seats in a real browser (docs/SEATS.md): a reload in the lobby and in the round puts the player back in the same
 * seat with the same score; a second tab takes the seat over and the first one says so (no tug of war); a
 * spectator watches through a watch link; "Play again" carries three players and the spectator into a new lobby;
 * the host leaving mid-round is told and marked; and the endings a player can meet (invitation expired, relay
 * closed, connection timed out, server stopped) read as sentences, never raw close codes or signal names.
 * Along the way it checks the rough edges of issue 8 (Enter submits, passcode length hint, difficulty shown to all,
 * one ping, ties, leave confirmation, the arena from the first countdown frame, the help on Home).
 *
 * Runs with HUDDLE_BINARY (a built binary) or HUDDLE_BROWSER_SOURCE=1 (from source), and Debian's chromium.
 * Screenshots go to test-artifacts/seats-*.png.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { allStarted, browserTestsEnabled, DESKTOP, type Huddle, launchChromium, openPage, PHONE, shot, startHuddle } from './harness.ts';

const ROUND_SECONDS = 14;
const GRACE_SECONDS = 20;
const WAIT = 15_000;

let browser: Browser | undefined;
/** Plays the seats flow and the handshake timeout (default token expiry: 30 s, longer than the 10 s timeout). */
let main: Huddle | undefined;
/** Short token expiry (5 s) and grace (3 s); stopped with SIGTERM at the end. */
let short: Huddle | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!browserTestsEnabled) return;
  await allStarted([
    startHuddle(['--round-seconds', String(ROUND_SECONDS), '--rejoin-grace', String(GRACE_SECONDS)], 6).then((h) => (main = h)),
    startHuddle(['--round-seconds', '8', '--rejoin-grace', '3', '--token-expiry', '5'], 4).then((h) => (short = h)),
    launchChromium().then((b) => (browser = b)),
  ]);
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await Promise.all([main?.stop(), short?.stop()]);
});

const testId = (page: Page, id: string) => page.getByTestId(id);

async function open(options: typeof DESKTOP | typeof PHONE, server: Huddle, path = '/') {
  return openPage(browser!, options, `${server.url}${path}`, pageErrors, WAIT);
}

/** Polls an async condition (bounded). */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = WAIT): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/** The own row's seat index and score on the game screen. */
async function ownScore(page: Page): Promise<{ index: number; score: number }> {
  const row = page.locator('[data-testid="score"].you');
  await row.waitFor();
  return { index: Number(await row.getAttribute('data-index')), score: Number(await row.getByTestId('score-value').textContent()) };
}

/** Holds fire while turning until the page's own score is above zero (or the time is up); returns the score. */
async function scoreSome(page: Page, maxMs: number): Promise<number> {
  await page.keyboard.down('Space');
  await page.keyboard.down('ArrowLeft');
  const until = Date.now() + maxMs;
  let score = 0;
  while (Date.now() < until && score === 0) {
    await page.waitForTimeout(250);
    score = (await ownScore(page)).score;
  }
  await page.keyboard.up('ArrowLeft');
  await page.keyboard.up('Space');
  return score;
}

/** A bullet lives BULLET_LIFE_TICKS (40) at 30 Hz, 1.33 s: after this long without firing no shot is in flight. */
const BULLET_LIFE_MS = 1600;

/**
 * A relay tunnel the test controls: `pass` forwards both ways, `mute` drops what the game sends (the handshake
 * never completes), `refuse` closes every new tunnel at once; `cut()` closes the open tunnels as a dropped network
 * would.
 */
async function controlRelay(page: Page) {
  const state = { mode: 'pass' as 'pass' | 'mute' | 'refuse', tunnels: [] as { ws: WebSocketRoute; server: WebSocketRoute }[], opened: 0 };
  await page.routeWebSocket(/\/relay\?/, (ws) => {
    state.opened++;
    if (state.mode === 'refuse') {
      void ws.close({ code: 4502, reason: 'test: the relay refuses' });
      return;
    }
    const server = ws.connectToServer();
    ws.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      if (state.mode !== 'mute') ws.send(message);
    });
    state.tunnels.push({ ws, server });
  });
  return {
    state,
    set(mode: typeof state.mode) {
      state.mode = mode;
    },
    async cut() {
      const open = state.tunnels.splice(0);
      for (const { ws, server } of open) {
        await server.close().catch(() => {});
        await ws.close({ code: 4502, reason: 'test: network dropped' }).catch(() => {});
      }
    },
  };
}

/** A page whose relay tunnel mutes the game's answers, creating a game as `name`. */
async function createMuted(options: typeof DESKTOP | typeof PHONE, server: Huddle, name: string) {
  const page = await open(options, server);
  const relay = await controlRelay(page.page);
  relay.set('mute');
  await testId(page.page, 'name-input').fill(name);
  await testId(page.page, 'create-button').click();
  return { page, relay };
}

/** Nothing a player reads may be a raw close code, a signal name or a protocol state. */
async function expectFriendly(page: Page): Promise<void> {
  const text = (await page.locator('body').innerText()).toLowerCase();
  for (const raw of ['relay closed', 'sigterm', 'sigint', 'code 4', 'connectionrequesttimedout', 'connecttokenexpired', 'tap the button']) {
    expect(text).not.toContain(raw);
  }
}

describe.skipIf(!browserTestsEnabled)('seats in Chromium', () => {
  test('reloads and a second tab keep the seat; a spectator watches; play again carries everyone; the host leaving is told', async () => {
    const server = main!;
    // Home says what the game is and how to play.
    const a = await open(DESKTOP, server);
    const about = (await testId(a.page, 'about').innerText()).toLowerCase();
    expect(about).toContain('arrow keys or wasd');
    expect(about).toContain('space fires');
    // Enter in the name field creates (no passcode typed).
    await testId(a.page, 'name-input').fill('Ada');
    await testId(a.page, 'name-input').press('Enter');
    await a.page.locator('[data-testid="player"].you').waitFor();
    const passcode = (await testId(a.page, 'lobby-passcode').textContent())?.trim() ?? '';
    expect(passcode).toMatch(/^[0-9A-Z]{6}$/);
    expect(new URL(a.page.url()).searchParams.get('game')).toMatch(/.+/);
    const watchLink = await testId(a.page, 'watch-link').inputValue();
    expect(watchLink).toMatch(new RegExp(`^${server.url}/\\?watch=[A-Za-z0-9_-]{20,}$`));
    await shot(a.page, 'seats-home-after-create-1280');

    // Bob (phone): the share link fills the passcode, Enter in the name field joins.
    const b = await open(PHONE, server, `/?code=${passcode}`);
    await shot(b.page, 'seats-home-390');
    await testId(b.page, 'name-input').fill('Bob');
    await testId(b.page, 'name-input').press('Enter');
    await b.page.locator('[data-testid="player"].you', { hasText: 'Bob' }).waitFor();

    // Cy: a 3-character passcode gets a length hint before any request; then the real one.
    const c = await open(DESKTOP, server);
    const joinRequests: string[] = [];
    c.page.on('request', (request) => {
      if (request.url().includes('/api/games/join')) joinRequests.push(request.url());
    });
    await testId(c.page, 'name-input').fill('Cy');
    await testId(c.page, 'passcode-input').fill(passcode.slice(0, 3));
    await testId(c.page, 'join-button').click();
    await testId(c.page, 'passcode-hint').waitFor();
    expect(await testId(c.page, 'passcode-hint').innerText()).toContain('6 characters');
    expect(joinRequests).toEqual([]);
    await shot(c.page, 'seats-passcode-hint-1280');
    await testId(c.page, 'passcode-input').fill(passcode);
    await testId(c.page, 'join-button').click();
    await c.page.locator('[data-testid="player"].you', { hasText: 'Cy' }).waitFor();
    expect(joinRequests.length).toBe(1);

    // The host's pick is shown to everyone.
    await testId(a.page, 'difficulty-hard').check();
    for (const { page } of [b, c]) await page.locator('[data-testid="lobby-difficulty"]', { hasText: 'Hard' }).waitFor();

    // One ping: the header and the own row in the list show the same number.
    await b.page.waitForTimeout(500);
    const pings = await b.page.evaluate(() => ({
      header: document.querySelector('[data-testid="status"]')?.textContent ?? '',
      row: document.querySelector('[data-testid="player"].you [data-testid="player-ping"]')?.textContent ?? '',
    }));
    expect(pings.header).toMatch(/\d+ ms$/);
    expect(pings.header.endsWith(pings.row)).toBe(true);

    // A spectator opens the watch link: asked for a name, then in the lobby as a watcher.
    const s = await open(PHONE, server, new URL(watchLink).pathname + new URL(watchLink).search);
    await testId(s.page, 'watch-card').waitFor();
    await testId(s.page, 'name-input').fill('Sam');
    await testId(s.page, 'watch-button').click();
    await testId(s.page, 'screen-lobby').waitFor();
    await testId(s.page, 'watching-label').waitFor();
    expect(new URL(s.page.url()).searchParams.get('watch')).toBeNull();
    expect(await testId(s.page, 'host-controls').isVisible()).toBe(false);
    await s.page.locator('[data-testid="player"]', { hasText: 'Cy' }).waitFor();
    for (const { page } of [a, b]) await page.locator('[data-testid="spectator"]', { hasText: 'Sam' }).waitFor();
    expect(await a.page.getByTestId('player').count()).toBe(3);
    await shot(a.page, 'seats-lobby-1280');
    await shot(s.page, 'seats-lobby-spectator-390');

    // Bob reloads in the lobby: same seat (index, name), nobody new in the list.
    const bobIndex = await b.page.locator('[data-testid="player"].you').getAttribute('data-index');
    await b.page.reload();
    await b.page.locator('[data-testid="player"].you', { hasText: 'Bob' }).waitFor();
    expect(await b.page.locator('[data-testid="player"].you').getAttribute('data-index')).toBe(bobIndex);
    await testId(b.page, 'reconnecting').waitFor({ state: 'hidden' });
    await a.page.waitForTimeout(300);
    expect(await a.page.getByTestId('player').count()).toBe(3);
    expect(await a.page.locator('[data-testid="player"]', { hasText: 'Bob (2)' }).count()).toBe(0);

    // A second tab (a duplicated tab carries the session storage) takes Bob's seat over; the first says so and stays put.
    const seatJson = await b.page.evaluate(() => sessionStorage.getItem('huddle.seat'));
    expect(seatJson).toBeTruthy();
    const b2 = await b.context.newPage();
    b2.on('pageerror', (error) => pageErrors.push(error.message));
    await b2.addInitScript((stored) => {
      if (!sessionStorage.getItem('huddle.seat')) sessionStorage.setItem('huddle.seat', stored);
    }, seatJson!);
    await b2.goto(b.page.url());
    await b2.locator('[data-testid="player"].you', { hasText: 'Bob' }).waitFor();
    expect(await b2.locator('[data-testid="player"].you').getAttribute('data-index')).toBe(bobIndex);
    await b.page.locator('[data-testid="error"]', { hasText: 'another tab' }).waitFor();
    await shot(b.page, 'seats-seat-taken-390');
    await b.page.waitForTimeout(2500);
    expect(await testId(b.page, 'screen-home').isVisible()).toBe(true);
    expect(await testId(b2, 'screen-lobby').isVisible()).toBe(true);
    await b.page.close();

    // The round: the arena's help and field from the first countdown frame, no tap game anywhere.
    await testId(a.page, 'start-button').click();
    await testId(a.page, 'screen-game').waitFor();
    const first = await a.page.evaluate(() => ({
      phase: document.querySelector('[data-testid="game-phase"]')?.textContent ?? '',
      help: document.querySelector('[data-testid="controls-help"]')?.textContent ?? '',
      mode: document.querySelector('[data-testid="screen-game"]')?.getAttribute('data-mode'),
      canvas: (document.querySelector('[data-testid="game-canvas"]') as HTMLElement | null)?.offsetWidth ?? 0,
      tap: document.querySelectorAll('[data-testid="tap-button"]').length,
    }));
    expect(first.phase).toMatch(/^Get ready/);
    expect(first.help).toContain('Arrows or WASD');
    expect(first.mode).toBe('arena');
    expect(first.canvas).toBeGreaterThan(300);
    expect(first.tap).toBe(0);
    await expectFriendly(a.page);
    await shot(a.page, 'seats-countdown-1280');
    for (const page of [b2, c.page, s.page]) await testId(page, 'screen-game').waitFor();
    for (const page of [a.page, b2, c.page, s.page]) await page.locator('[data-testid="game-phase"]', { hasText: 'Go!' }).waitFor();

    // The spectator watches: a label, no controls, a moving field.
    expect(await testId(s.page, 'game-watching').isVisible()).toBe(true);
    expect(await testId(s.page, 'touch-fire').isVisible()).toBe(false);
    await s.page.locator('[data-testid="screen-game"][data-drawn="true"]').waitFor();
    const before = await testId(s.page, 'game-canvas').screenshot();
    await s.page.waitForTimeout(800);
    expect(Buffer.compare(before, await testId(s.page, 'game-canvas').screenshot())).not.toBe(0);
    await shot(s.page, 'seats-game-spectator-390');

    // Cy scores, reloads mid-round, and is back in the same seat with the same score.
    // Firing from the keyboard for a few seconds usually scores but cannot be sure to: the restored non-zero score
    // is proven over UDP with the bot brain (tests/e2e/seats.test.ts, "mid-round"); here the same seat and a
    // score that did not go down.
    const scored = await scoreSome(c.page, 4000);
    // A shot fired just before the keys came up may still hit: the score to compare with is the settled one.
    await c.page.waitForTimeout(BULLET_LIFE_MS);
    const beforeReload = await ownScore(c.page);
    expect(beforeReload.score).toBeGreaterThanOrEqual(scored);
    await c.page.reload();
    await c.page.locator('[data-testid="screen-game"][data-drawn="true"]').waitFor();
    await testId(c.page, 'reconnecting').waitFor({ state: 'hidden' });
    const afterReload = await ownScore(c.page);
    expect(afterReload.index).toBe(beforeReload.index);
    expect(afterReload.score).toBeGreaterThanOrEqual(beforeReload.score);
    expect(await c.page.locator('[data-testid="score"]', { hasText: 'Cy (2)' }).count()).toBe(0);
    await shot(c.page, 'seats-game-after-reload-1280');
    await shot(b2, 'seats-game-390');

    // Results: the three players, not the spectator; only the host may play again.
    for (const page of [a.page, b2, c.page, s.page]) await testId(page, 'screen-results').waitFor({ timeout: (ROUND_SECONDS + 15) * 1000 });
    for (const page of [a.page, s.page]) {
      const names = (await page.getByTestId('result-row').allTextContents()).join('\n');
      for (const name of ['Ada', 'Bob', 'Cy']) expect(names).toContain(name);
      expect(names).not.toContain('Sam');
      expect(await page.getByTestId('result-row').count()).toBe(3);
    }
    const cyRow = c.page.locator('[data-testid="result-row"].you');
    expect(Number(await cyRow.getByTestId('result-score').textContent())).toBeGreaterThanOrEqual(afterReload.score);
    expect(await testId(a.page, 'again-button').isVisible()).toBe(true);
    for (const page of [b2, c.page, s.page]) expect(await testId(page, 'again-button').isVisible()).toBe(false);
    await shot(a.page, 'seats-results-1280');
    await shot(s.page, 'seats-results-spectator-390');

    // The host reloads on the results screen: the leaderboard stays (from the store: the game's server is gone)
    // and so does "Play again".
    await a.page.reload();
    await testId(a.page, 'screen-results').waitFor({ timeout: WAIT });
    await until(async () => (await a.page.getByTestId('result-row').count()) === 3, 'the stored results after a reload');
    expect(await testId(a.page, 'again-button').isVisible()).toBe(true);
    expect(await a.page.locator('[data-testid="result-row"].you').textContent()).toContain('Ada');

    // Play again: everyone lands in the new lobby without typing anything.
    await testId(a.page, 'again-button').click();
    for (const page of [a.page, b2, c.page, s.page]) await testId(page, 'screen-lobby').waitFor({ timeout: WAIT });
    for (const page of [a.page, b2, c.page]) await page.locator('[data-testid="player"].you').waitFor();
    const passcode2 = (await testId(a.page, 'lobby-passcode').textContent())?.trim() ?? '';
    expect(passcode2).toMatch(/^[0-9A-Z]{6}$/);
    expect(passcode2).not.toBe(passcode);
    for (const page of [a.page, b2, c.page, s.page]) await until(async () => (await page.getByTestId('player').count()) === 3, 'three players in the new lobby');
    await a.page.locator('[data-testid="spectator"]', { hasText: 'Sam' }).waitFor();
    expect(await testId(s.page, 'watching-label').isVisible()).toBe(true);
    // The host of the old game is the host of the new one.
    await shot(a.page, 'seats-lobby-again-1280');
    await a.page.locator('[data-testid="player"][data-host].you').waitFor({ timeout: 5000 });
    await shot(b2, 'seats-lobby-again-390');

    // Round two on normal: the host leaves mid-round (after saying "keep playing" once); the others are told.
    await testId(a.page, 'difficulty-normal').check();
    await testId(a.page, 'start-button').click();
    for (const page of [a.page, b2, c.page]) await page.locator('[data-testid="game-phase"]', { hasText: 'Go!' }).waitFor();
    await testId(a.page, 'leave-game').click();
    await testId(a.page, 'leave-confirm').waitFor();
    await shot(a.page, 'seats-leave-confirm-1280');
    await testId(a.page, 'leave-confirm-no').click();
    expect(await testId(a.page, 'screen-game').isVisible()).toBe(true);
    await testId(a.page, 'leave-game').click();
    await testId(a.page, 'leave-confirm-yes').click();
    await testId(a.page, 'screen-home').waitFor();
    expect(new URL(a.page.url()).searchParams.get('game')).toBeNull();
    for (const page of [b2, c.page]) await page.locator('[data-testid="game-notice"]', { hasText: 'Ada left the game' }).waitFor();
    await shot(c.page, 'seats-host-left-1280');
    for (const page of [b2, c.page]) await testId(page, 'screen-results').waitFor({ timeout: (ROUND_SECONDS + 15) * 1000 });
    // The host left: the new host (one of the two) may play again.
    const canAgain = await Promise.all([b2, c.page].map((page) => testId(page, 'again-button').isVisible()));
    expect(canAgain.filter(Boolean).length).toBe(1);
    const adaRow = c.page.locator('[data-testid="result-row"]', { hasText: 'Ada' });
    await adaRow.getByTestId('left-tag').waitFor();
    // Nobody fired in round two: everyone ties, and it reads as a sentence.
    const scores = await c.page.getByTestId('result-score').allTextContents();
    if (scores.every((x) => x === '0')) expect(await testId(c.page, 'results-summary').textContent()).toMatch(/^Ada, Bob and Cy tie on normal with 0 points\.$/);
    await shot(c.page, 'seats-results-left-1280');
    await shot(b2, 'seats-results-left-390');

    expect(pageErrors).toEqual([]);
    for (const context of [a.context, b.context, c.context, s.context]) await context.close();
  }, 150_000);

  test('the endings a player can meet read as sentences: invitation expired, relay closed, timed out, server stopped', async () => {
    // Invitation expired: the game's answers never arrive, the 5 s token runs out first; "Join again" cures it.
    const { page: t, relay } = await createMuted(DESKTOP, short!, 'Tess');
    await t.page.locator('[data-testid="error"]', { hasText: 'invitation' }).waitFor({ timeout: 12_000 });
    expect(await testId(t.page, 'error').innerText()).toContain('ran out');
    await expectFriendly(t.page);
    await shot(t.page, 'seats-error-token-expired-1280');
    relay.set('pass');
    await testId(t.page, 'rejoin-button').click();
    await t.page.locator('[data-testid="player"].you', { hasText: 'Tess' }).waitFor();
    expect(await t.page.locator('[data-testid="player"]', { hasText: 'Tess (2)' }).count()).toBe(0);

    // The relay drops mid-lobby: one "Reconnecting…" over the lobby, then back in the same seat.
    const index = await t.page.locator('[data-testid="player"].you').getAttribute('data-index');
    const reconnectShown = t.page.waitForFunction(
      () => !document.querySelector('[data-testid="reconnecting"]')?.hasAttribute('hidden') && !document.querySelector('[data-testid="screen-lobby"]')?.hasAttribute('hidden'),
      undefined,
      { polling: 10, timeout: 5000 },
    );
    await relay.cut();
    await reconnectShown;
    await testId(t.page, 'reconnecting').waitFor({ state: 'hidden' });
    await t.page.locator('[data-testid="player"].you', { hasText: 'Tess' }).waitFor();
    expect(await t.page.locator('[data-testid="player"].you').getAttribute('data-index')).toBe(index);

    // The relay drops and stays unreachable past the 3 s grace: a plain explanation on Home.
    relay.set('refuse');
    await relay.cut();
    await testId(t.page, 'reconnecting').waitFor();
    await shot(t.page, 'seats-reconnecting-1280');
    await t.page.locator('[data-testid="error"]', { hasText: 'Your seat in this game has expired' }).waitFor({ timeout: 15_000 });
    await expectFriendly(t.page);
    await shot(t.page, 'seats-error-seat-expired-1280');

    // The relay refuses a fresh game outright: said in words, with "Join again".
    await testId(t.page, 'create-button').click();
    await t.page.locator('[data-testid="error"]', { hasText: /cannot be reached|was lost/ }).waitFor();
    expect(await testId(t.page, 'rejoin-button').isVisible()).toBe(true);
    await expectFriendly(t.page);
    await shot(t.page, 'seats-error-relay-closed-1280');
    await t.context.close();

    // Connection timed out: the handshake gets no answer (a 30 s token outlives the 10 s timeout).
    const { page: u } = await createMuted(PHONE, main!, 'Uma');
    await u.page.locator('[data-testid="error"]', { hasText: 'timed out' }).waitFor({ timeout: 20_000 });
    expect(await testId(u.page, 'rejoin-button').isVisible()).toBe(true);
    await expectFriendly(u.page);
    await shot(u.page, 'seats-error-timed-out-390');
    await u.context.close();

    // Server stopped (SIGTERM) mid-lobby: what happened and what to do, without the signal's name.
    const v = await open(PHONE, short!);
    await testId(v.page, 'name-input').fill('Vic');
    await testId(v.page, 'create-button').click();
    await v.page.locator('[data-testid="player"].you').waitFor();
    short!.child.kill('SIGTERM');
    await v.page
      .locator('[data-testid="error"]', { hasText: 'The server was restarted or stopped. Your game ended; start a new one from Home.' })
      .waitFor({ timeout: 20_000 });
    await expectFriendly(v.page);
    await shot(v.page, 'seats-error-server-stopped-390');
    await v.context.close();
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
