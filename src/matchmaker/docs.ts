/**
 * `/swagger` (the Scalar UI) and `/swagger/json` (OpenAPI 3). The UI's script is embedded in the binary and
 * served from here instead of a CDN, and its web fonts are turned off, so the page works at a LAN party with no
 * internet (DESIGN.md section 10).
 */
import { swagger } from '@elysiajs/swagger';
import { Elysia } from 'elysia';
import scalarScript from '@scalar/api-reference/browser/standalone.js' with { type: 'file' };
import pkg from '../../package.json' with { type: 'json' };

export const SCALAR_SCRIPT_PATH = '/swagger/assets/api-reference.js';

export function docsPlugin() {
  return new Elysia({ name: 'docs' })
    .get(
      SCALAR_SCRIPT_PATH,
      () =>
        new Response(Bun.file(scalarScript), {
          headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' },
        }),
      { detail: { hide: true } },
    )
    .use(
      swagger({
        path: '/swagger',
        scalarCDN: SCALAR_SCRIPT_PATH,
        scalarConfig: { withDefaultFonts: false },
        exclude: [SCALAR_SCRIPT_PATH],
        documentation: {
          info: {
            title: 'huddle matchmaker',
            version: pkg.version,
            description:
              'Create games, join them by passcode and read results. Every error is `{"error": {"code", "message"}}` with the status shown. Game servers report to the internal route with their bearer reporting token.',
          },
          tags: [
            { name: 'games', description: 'Create, join, status, results' },
            { name: 'results', description: 'Leaderboards from the durable store' },
            { name: 'internal', description: 'Called by game servers, not by players' },
            { name: 'operations', description: 'Health and metrics' },
          ],
          components: {
            securitySchemes: {
              createToken: { type: 'http', scheme: 'bearer', description: 'The server\'s create token (--create-token), when set' },
              reportingToken: { type: 'http', scheme: 'bearer', description: 'The game\'s reporting token (HUDDLE_REPORT_TOKEN)' },
            },
          },
        },
      }),
    );
}
