/**
 * `GET /admin`: the admin page (page/admin.html, its TypeScript and CSS bundled by Bun), served the way
 * src/matchmaker/web/web-client.ts serves the web client: in the compiled binary from the embedded build (each
 * file at `/<its hashed name>`, as the embedded HTML links it; the names differ from the web client's), from
 * source bundled once on first request and served under `/admin/assets/`. Mounted only when an admin token is
 * set: otherwise `/admin` is an unknown route (404).
 *
 * The page holds no secret and no data: it asks the JSON API with the token the operator types. It may not be
 * framed (its End game button must not be clickjacked) and sends no Referer.
 */
import { Elysia } from 'elysia';
import { basename } from 'node:path';
import page from './page/admin.html';

const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};
const ASSET_CACHE = 'public, max-age=31536000, immutable';
const DEV_PREFIX = '/admin/assets/';

interface ServedFile {
  body: () => Blob;
  headers: Record<string, string>;
}

export function adminPageRoutes(bundle: Bun.HTMLBundle = page) {
  const app = new Elysia({ name: 'admin-page' });
  const embedded = bundle.files;
  if (embedded) {
    const index = embedded.find((f) => f.loader === 'html');
    if (!index) throw new Error('the embedded admin page has no HTML');
    app.get('/admin', () => respond({ body: () => Bun.file(index.path), headers: { ...index.headers, ...PAGE_HEADERS } }), { detail: { hide: true } });
    for (const file of embedded) {
      if (file === index) continue;
      const served: ServedFile = { body: () => Bun.file(file.path), headers: { ...file.headers, 'cache-control': ASSET_CACHE } };
      app.get(`/${encodeURIComponent(basename(file.path))}`, () => respond(served), { detail: { hide: true } });
    }
    return app;
  }
  let built: Promise<Map<string, ServedFile>> | undefined;
  const files = () => (built ??= buildFromSource(bundle.index));
  return app
    .get('/admin', async () => respond((await files()).get('/admin')!), { detail: { hide: true } })
    .get(
      `${DEV_PREFIX}*`,
      async ({ params, status }) => {
        const file = (await files()).get(`${DEV_PREFIX}${params['*']}`);
        return file ? respond(file) : status(404, { error: { code: 'not_found', message: 'no such asset' } });
      },
      { detail: { hide: true } },
    );
}

function respond(file: ServedFile): Response {
  return new Response(file.body(), { headers: file.headers });
}

async function buildFromSource(entry: string): Promise<Map<string, ServedFile>> {
  const result = await Bun.build({ entrypoints: [entry], target: 'browser', minify: true, publicPath: DEV_PREFIX });
  if (!result.success) throw new AggregateError(result.logs, 'the admin page did not build');
  const files = new Map<string, ServedFile>();
  for (const output of result.outputs) {
    const isPage = output.path.endsWith('.html');
    const served: ServedFile = { body: () => output, headers: isPage ? { 'content-type': output.type, ...PAGE_HEADERS } : { 'content-type': output.type, 'cache-control': ASSET_CACHE } };
    files.set(isPage ? '/admin' : `${DEV_PREFIX}${basename(output.path)}`, served);
  }
  return files;
}
