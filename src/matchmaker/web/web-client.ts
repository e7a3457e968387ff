/**
 * The web client as an Elysia plugin: `GET /` is client/index.html with its TypeScript and CSS bundled by Bun
 * (bundle-routes.ts says how the embedded and the from-source builds are served).
 */
import page from '../../../client/index.html';
import type { ServerContext, ServerExtension } from '../server.ts';
import { bundleRoutes } from './bundle-routes.ts';

export function webClientRoutes(bundle: Bun.HTMLBundle = page) {
  return bundleRoutes({ name: 'web-client', bundle, pagePath: '/', assetPrefix: '/assets/', pageHeaders: { 'cache-control': 'no-cache' } });
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
