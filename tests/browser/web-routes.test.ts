/**
 * The web client plugin serves the page and its assets in both of its modes: bundled from source on the first
 * request (`bun src/index.ts`), and from the build embedded in a compiled binary (`page.files`).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Elysia } from 'elysia';
import { webClientRoutes } from '../../src/matchmaker/web/web-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'huddle-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const get = (app: { handle(request: Request): Promise<Response> }, path: string) => app.handle(new Request(`http://localhost${path}`));

describe('webClientRoutes', () => {
  test('from source: bundles the page once and serves its script and styles under /assets/', async () => {
    const app = new Elysia().use(webClientRoutes());
    const page = await get(app, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('data-testid="screen-home"');
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const response = await get(app, asset);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('immutable');
    }
    expect((await get(app, '/assets/missing.js')).status).toBe(404);
  }, 30_000);

  test('from source: a build that fails answers an error and is tried again on the next request, not kept', async () => {
    const html = join(dir, 'broken.html');
    const script = join(dir, 'broken.ts');
    writeFileSync(html, '<!doctype html><html><body><script type="module" src="./broken.ts"></script></body></html>');
    writeFileSync(script, 'export const x = ;');
    const app = new Elysia().use(webClientRoutes({ index: html } as Bun.HTMLBundle));
    expect((await get(app, '/')).status).toBe(500);
    writeFileSync(script, 'export const x = 1;');
    const fixed = await get(app, '/');
    expect(fixed.status).toBe(200);
    expect(await fixed.text()).toContain('/assets/');
  }, 30_000);

  test('compiled: serves the embedded files at the paths the embedded page links', async () => {
    const html = join(dir, 'index-abc.html');
    const script = join(dir, 'chunk-123.js');
    writeFileSync(html, '<script src="/chunk-123.js"></script>');
    writeFileSync(script, 'console.log(1)');
    const headers = (type: string) => ({ etag: 'x', 'content-type': type });
    const bundle = {
      index: html,
      files: [
        { path: html, loader: 'html' as const, isEntry: true, headers: headers('text/html;charset=utf-8') },
        { path: script, loader: 'js' as const, isEntry: true, headers: headers('text/javascript;charset=utf-8') },
      ],
    };
    const app = new Elysia().use(webClientRoutes(bundle));
    const page = await get(app, '/');
    expect(await page.text()).toContain('/chunk-123.js');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const js = await get(app, '/chunk-123.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(await js.text()).toBe('console.log(1)');
  });
});
