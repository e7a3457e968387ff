/**
 * Serves one HTML page bundled by Bun (its TypeScript and CSS) as Elysia routes: the web client at `/`, the admin
 * page at `/admin`.
 *
 * Why not `.get('/', page)` alone: Elysia hands an HTML import to Bun's native static routes only when the app has
 * no `onRequest` hook, and the matchmaker's app has one (the body-size cap), so Elysia would answer the bundle's
 * JSON description instead of the page. So the page's files are served here:
 *
 * - in the compiled binary (`bun build --compile`), the HTML import carries the embedded build (`bundle.files`,
 *   under /$bunfs/): each file is served at `/<its hashed name>`, as the embedded HTML links it;
 * - from source (`bun src/index.ts`), the import has no build: the page is bundled on its first request with
 *   `Bun.build` and served from memory under `assetPrefix` (a failed build is not kept: the next request retries).
 *
 * Hashed asset names never change content, so they are cached for a year; the page itself is revalidated.
 */
import { Elysia } from 'elysia';
import { basename } from 'node:path';

const ASSET_CACHE = 'public, max-age=31536000, immutable';

export interface BundleRoutesOptions {
  /** Elysia plugin name (a plugin with a name is mounted once). */
  name: string;
  bundle: Bun.HTMLBundle;
  /** Where the page itself is served, e.g. `/` or `/admin`. */
  pagePath: string;
  /** Where assets are served from source, e.g. `/assets/`. */
  assetPrefix: string;
  /** Headers of the page besides its content type (cache-control at least). */
  pageHeaders: Record<string, string>;
  /** Keep the routes off the Swagger page. */
  hide?: boolean;
}

interface ServedFile {
  body: () => Blob;
  headers: Record<string, string>;
}

export function bundleRoutes(options: BundleRoutesOptions) {
  const { bundle, pagePath, assetPrefix, pageHeaders } = options;
  const detail = options.hide ? { detail: { hide: true } } : {};
  const app = new Elysia({ name: options.name });
  const embedded = bundle.files;
  if (embedded) {
    const index = embedded.find((f) => f.loader === 'html');
    if (!index) throw new Error(`the embedded build of ${pagePath} has no HTML page`);
    app.get(pagePath, () => respond({ body: () => Bun.file(index.path), headers: { ...index.headers, ...pageHeaders } }), detail);
    for (const file of embedded) {
      if (file === index) continue;
      const served: ServedFile = { body: () => Bun.file(file.path), headers: { ...file.headers, 'cache-control': ASSET_CACHE } };
      app.get(`/${encodeURIComponent(basename(file.path))}`, () => respond(served), detail);
    }
    return app;
  }
  let built: Promise<Map<string, ServedFile>> | undefined;
  const files = (): Promise<Map<string, ServedFile>> => {
    built ??= buildFromSource(bundle.index, options).catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
  return app
    .get(pagePath, async () => respond((await files()).get(pagePath)!), detail)
    .get(
      `${assetPrefix}*`,
      async ({ params, status }) => {
        const file = (await files()).get(`${assetPrefix}${(params as Record<string, string>)['*']}`);
        return file ? respond(file) : status(404, { error: { code: 'not_found', message: 'no such asset' } });
      },
      detail,
    );
}

function respond(file: ServedFile): Response {
  return new Response(file.body(), { headers: file.headers });
}

async function buildFromSource(entry: string, options: BundleRoutesOptions): Promise<Map<string, ServedFile>> {
  const result = await Bun.build({ entrypoints: [entry], target: 'browser', minify: true, publicPath: options.assetPrefix });
  if (!result.success) throw new AggregateError(result.logs, `the page ${options.pagePath} did not build`);
  const files = new Map<string, ServedFile>();
  for (const output of result.outputs) {
    const isPage = output.path.endsWith('.html');
    const headers: Record<string, string> = isPage ? { 'content-type': output.type, ...options.pageHeaders } : { 'content-type': output.type, 'cache-control': ASSET_CACHE };
    files.set(isPage ? options.pagePath : `${options.assetPrefix}${basename(output.path)}`, { body: () => output, headers });
  }
  return files;
}
