/**
 * The web client as an Elysia plugin: `GET /` is client/index.html with its TypeScript and CSS bundled by Bun.
 *
 * Why not `.get('/', page)` alone: Elysia hands an HTML import to Bun's native static routes only when the app has
 * no `onRequest` hook, and the matchmaker's app has one (the body-size cap), so Elysia would answer the bundle's
 * JSON description instead of the page. So this plugin serves the bundle's files itself:
 *
 * - in the compiled binary (`bun build --compile`), the HTML import carries the embedded build (`page.files`,
 *   under /$bunfs/): each file is served at `/<its name>`, as the embedded HTML links it;
 * - from source (`bun src/index.ts`), the import has no build: the page is bundled once, on its first request,
 *   with `Bun.build`, and served from memory under `/assets/`.
 *
 * Hashed asset names never change content, so they are cached for a year; the page itself is revalidated.
 */
import { Elysia } from 'elysia';
import { basename } from 'node:path';
import page from '../../../client/index.html';
import type { ServerContext, ServerExtension } from '../server.ts';

const PAGE_CACHE = 'no-cache';
const ASSET_CACHE = 'public, max-age=31536000, immutable';
const DEV_PREFIX = '/assets/';

interface ServedFile {
  body: () => Blob;
  headers: Record<string, string>;
}

export function webClientRoutes(bundle: Bun.HTMLBundle = page) {
  const app = new Elysia({ name: 'web-client' });
  const embedded = bundle.files;
  if (embedded) {
    const index = embedded.find((f) => f.loader === 'html');
    if (!index) throw new Error('the embedded web client has no HTML page');
    app.get('/', () => respond({ body: () => Bun.file(index.path), headers: { ...index.headers, 'cache-control': PAGE_CACHE } }));
    for (const file of embedded) {
      if (file === index) continue;
      const served: ServedFile = { body: () => Bun.file(file.path), headers: { ...file.headers, 'cache-control': ASSET_CACHE } };
      app.get(`/${encodeURIComponent(basename(file.path))}`, () => respond(served));
    }
    return app;
  }
  let built: Promise<Map<string, ServedFile>> | undefined;
  const files = () => (built ??= buildFromSource(bundle.index));
  return app
    .get('/', async () => respond((await files()).get('/')!))
    .get(`${DEV_PREFIX}*`, async ({ params, status }) => {
      const file = (await files()).get(`${DEV_PREFIX}${params['*']}`);
      return file ? respond(file) : status(404, { error: { code: 'not_found', message: 'no such asset' } });
    });
}

function respond(file: ServedFile): Response {
  return new Response(file.body(), { headers: file.headers });
}

async function buildFromSource(entry: string): Promise<Map<string, ServedFile>> {
  const result = await Bun.build({ entrypoints: [entry], target: 'browser', minify: true, publicPath: DEV_PREFIX });
  if (!result.success) throw new AggregateError(result.logs, 'the web client did not build');
  const files = new Map<string, ServedFile>();
  for (const output of result.outputs) {
    const isPage = output.path.endsWith('.html');
    const served: ServedFile = { body: () => output, headers: { 'content-type': output.type, 'cache-control': isPage ? PAGE_CACHE : ASSET_CACHE } };
    files.set(isPage ? '/' : `${DEV_PREFIX}${basename(output.path)}`, served);
  }
  return files;
}

/**
 * Adds the web client to a `startServer({ extend })` component (the relay's), keeping its plugins, metrics and
 * stop: `extend: withWebClient(relayExtension())`.
 */
export function withWebClient(inner?: (context: ServerContext) => ServerExtension): (context: ServerContext) => ServerExtension {
  return (context) => {
    const extension = inner?.(context) ?? {};
    return { ...extension, plugins: [...(extension.plugins ?? []), webClientRoutes()] };
  };
}
