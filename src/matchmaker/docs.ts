/**
 * `/swagger` (the Scalar UI) and `/swagger/json` (OpenAPI 3). The UI's script is embedded in the binary and
 * served from here instead of a CDN, and its web fonts are turned off, so the page works at a LAN party with no
 * internet (DESIGN.md section 10).
 */
import { swagger } from '@elysiajs/swagger';
import { Elysia } from 'elysia';
import type { OpenAPIV3 } from 'openapi-types';
import scalarScript from '@scalar/api-reference/browser/standalone.js' with { type: 'file' };
import pkg from '../../package.json' with { type: 'json' };
import { RelayCloseCode } from '../protocol/transport/websocket.ts';
import { errorSchema } from './http.ts';

export const SCALAR_SCRIPT_PATH = '/swagger/assets/api-reference.js';

const closeCodes: [number, string][] = [
  [RelayCloseCode.GoingAway, 'the server is shutting down'],
  [RelayCloseCode.TextFrame, 'a text frame was sent (the tunnel carries binary frames only)'],
  [RelayCloseCode.UnknownGame, 'the game ended between the upgrade and the socket opening'],
  [RelayCloseCode.Idle, 'no frame either way for the idle time'],
  [RelayCloseCode.GameEnded, 'the game ended'],
  [RelayCloseCode.RateLimited, 'a sustained flood of frames'],
  [RelayCloseCode.GameUnreachable, "the relay's UDP socket to the game failed"],
  [RelayCloseCode.AtCapacity, 'the relay has as many tunnels open as it allows'],
];

/**
 * `GET /relay` by hand: the Swagger plugin skips WebSocket routes, but browsers' clients need it documented as
 * much as any route (src/matchmaker/relay/relay-routes.ts is the implementation).
 */
const relayPath: OpenAPIV3.PathsObject = {
  '/relay': {
    get: {
      tags: ['relay'],
      summary: 'Datagram tunnel to a live game (WebSocket)',
      description:
        "A WebSocket upgrade (`ws://` or `wss://`, the `relayUrl` of a ticket): how a browser, which cannot send UDP, reaches a live game's UDP port. " +
        "Each binary frame is one netcode 1.02 datagram, forwarded unchanged to the game's UDP port on loopback, and each datagram from the game comes back as one binary frame. " +
        'The relay never holds a key and sees only sealed packets; it reaches only the ports of live games, one UDP socket per WebSocket. ' +
        'Frames over the netcode maximum (1225 bytes) are dropped; frames are rate limited per tunnel. ' +
        'Refused before the upgrade with an HTTP error: 400 without a valid game id, 404 for a game that is not live. ' +
        `Close codes: ${closeCodes.map(([code, text]) => `${code} ${text}`).join('; ')}.`,
      parameters: [
        {
          name: 'game',
          in: 'query',
          required: true,
          description: 'Id of the live game to reach (the gameId of a ticket)',
          schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', example: 'q3JmX0dWm2b6yC1l8b1Q9A' },
        },
        { name: 'Upgrade', in: 'header', required: true, schema: { type: 'string', enum: ['websocket'] } },
      ],
      responses: {
        '101': { description: 'Switching protocols: the tunnel is open' },
        '400': {
          description: 'No game id, or not one',
          content: { 'application/json': { schema: errorSchema('No game id, or not one', ['bad_request']) } },
        },
        '404': {
          description: 'No live game has this id',
          content: { 'application/json': { schema: errorSchema('No live game has this id', ['not_found']) } },
        },
      },
    },
  },
};

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
              'Create games, join them by passcode, reopen your seat after a lost connection, watch, play again, and read results. Every error is `{"error": {"code", "message"}}` with the status shown. Game servers report to the internal route with their bearer reporting token. Browsers reach a game through the WebSocket relay (`GET /relay`).',
          },
          tags: [
            { name: 'games', description: 'Create, join, status, results' },
            { name: 'seats', description: 'Rejoin your seat, watch as a spectator, play again (docs/SEATS.md)' },
            { name: 'relay', description: 'The WebSocket datagram tunnel for browsers' },
            { name: 'results', description: 'Leaderboards from the durable store' },
            { name: 'internal', description: 'Called by game servers, not by players' },
            { name: 'admin', description: 'The operator\'s view: live games, end a game (--admin-token)' },
            { name: 'operations', description: 'Health and metrics' },
          ],
          paths: relayPath,
          components: {
            securitySchemes: {
              createToken: { type: 'http', scheme: 'bearer', description: 'The server\'s create token (--create-token), when set' },
              reportingToken: { type: 'http', scheme: 'bearer', description: 'The game\'s reporting token (HUDDLE_REPORT_TOKEN)' },
              adminToken: { type: 'http', scheme: 'bearer', description: "The server's admin token (--admin-token); without one the admin routes answer 404" },
            },
          },
        },
      }),
    );
}
