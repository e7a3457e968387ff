/**
 * What the browser suites share: a `huddle` server started from an empty temp directory (the compiled binary
 * named by HUDDLE_BINARY, or the source with HUDDLE_BROWSER_SOURCE=1), Debian's chromium driven by
 * playwright-core (never a downloaded browser), the two screen sizes the client is checked at, screenshots.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { freePortRange, readyUrl } from '../matchmaker/support/env.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dir, '..', '..', 'test-artifacts');
const ROOT = join(import.meta.dir, '..', '..');
const binary = process.env.HUDDLE_BINARY;

/** The command that runs huddle: the built binary, or `bun src/index.ts` when asked to run from source. */
export const huddle: string[] | undefined =
  binary && existsSync(binary) ? [binary] : process.env.HUDDLE_BROWSER_SOURCE === '1' ? [process.execPath, join(ROOT, 'src', 'index.ts')] : undefined;
export const browserTestsEnabled = Boolean(huddle && existsSync(CHROMIUM));

export const DESKTOP = { viewport: { width: 1280, height: 800 } };
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

export interface Huddle {
  url: string;
  child: Bun.Subprocess;
  dir: string;
  /** Spawns another huddle command (a bot) in the same directory; killed with the server. */
  spawn(args: string[]): Bun.Subprocess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `huddle serve` on 127.0.0.1 with a free game-port range and the given extra flags. */
export async function startHuddle(flags: string[], games = 4): Promise<Huddle> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-browser-'));
  const ports = await freePortRange(games);
  const child = Bun.spawn(
    [...huddle!, '--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', String(games), '--log-format', 'json', ...flags],
    { cwd: dir, env: {}, stdout: 'pipe', stderr: 'ignore' },
  );
  const others: Bun.Subprocess[] = [];
  let url: string;
  try {
    url = (await readyUrl(child.stdout)).replace('0.0.0.0', '127.0.0.1');
  } catch (error) {
    // A server that never got ready is never handed to a test, so nothing else would stop it.
    child.kill('SIGKILL');
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // Keep reading its log (JSON lines on stdout) so a long suite never fills the pipe.
  void child.stdout.pipeTo(new WritableStream()).catch(() => {});
  return {
    url,
    child,
    dir,
    spawn(args) {
      const other = Bun.spawn([...huddle!, ...args], { cwd: dir, env: {}, stdout: 'pipe', stderr: 'pipe' });
      others.push(other);
      return other;
    },
    async stop(signal = 'SIGKILL') {
      for (const c of [...others, child]) c.kill(signal);
      await Promise.all([...others, child].map((c) => Promise.race([c.exited, Bun.sleep(10_000)])));
      if (signal !== 'SIGKILL') for (const c of [...others, child]) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Awaits every start of a beforeAll and only then throws the first failure, so each start that did succeed has
 * been assigned (by its `.then`) and afterAll stops it; `Promise.all` would reject at once and lose them.
 */
export async function allStarted(starts: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(starts)).find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** `extraArgs`: more chromium flags, e.g. `--ignore-certificate-errors-spki-list=…` for a test certificate. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
    // launch() gives every run a fresh temporary --user-data-dir of its own (it refuses one passed in args).
    timeout: 30_000,
  });
}

export async function openPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0],
  url: string,
  errors: string[],
  timeoutMs = 15_000,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(timeoutMs);
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { context, page };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
