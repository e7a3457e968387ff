/**
 * `GET /admin`: the admin page (page/admin.html, its TypeScript and CSS bundled by Bun), served as the web client
 * is (web/bundle-routes.ts): in the compiled binary from the embedded build (each
 * file at `/<its hashed name>`, as the embedded HTML links it; the names differ from the web client's), from
 * source bundled once on first request and served under `/admin/assets/`. Mounted only when an admin token is
 * set: otherwise `/admin` is an unknown route (404).
 *
 * The page holds no secret and no data: it asks the JSON API with the token the operator types. It may not be
 * framed (its End game button must not be clickjacked) and sends no Referer.
 */
import { bundleRoutes } from '../web/bundle-routes.ts';
import page from './page/admin.html';

const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function adminPageRoutes(bundle: Bun.HTMLBundle = page) {
  return bundleRoutes({ name: 'admin-page', bundle, pagePath: '/admin', assetPrefix: '/admin/assets/', pageHeaders: PAGE_HEADERS, hide: true });
}
