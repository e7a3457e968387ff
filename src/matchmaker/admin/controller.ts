/**
 * `/api/admin`: the live games and "End game", for the operator holding the admin token (`--admin-token`), and
 * the `/admin` page that uses them. Thin: AdminService guards, the registry answers. Without a token configured
 * none of them exists (404 like any unknown route, before a body is even read); with one they are documented on
 * Swagger under the bearer scheme `adminToken`.
 */
import { Elysia } from 'elysia';
import { BODY_ERRORS, type ClientAddressOf, errorResponses } from '../http.ts';
import { AdminEnded, AdminGameParams, AdminGames, EndGameBody } from './model.ts';
import { adminPageRoutes } from './page-routes.ts';
import type { AdminService } from './service.ts';

export interface AdminControllerOptions {
  service: AdminService;
  clientAddress: ClientAddressOf;
}

const AUTH_ERRORS = { unauthorized: 'Missing or wrong admin token' } as const;

export function adminController({ service, clientAddress }: AdminControllerOptions) {
  if (!service.enabled) return new Elysia({ name: 'admin' });
  const api = new Elysia({ name: 'admin', prefix: '/api/admin' })
    .get(
      '/games',
      ({ request }) => {
        service.authorize(request, clientAddress(request));
        return { games: service.games() };
      },
      {
        response: { 200: AdminGames, ...errorResponses(AUTH_ERRORS) },
        parse: 'json',
        detail: {
          tags: ['admin'],
          summary: 'Live games (operator)',
          description:
            "Every game holding a slot: state, age, difficulty, its players (name, connected, ping as the game measures it), spectators, and the game loop's tick health over the last heartbeat (p50/p99/max). Never a passcode, key or token. Send `Authorization: Bearer <admin token>`.",
          security: [{ adminToken: [] }],
        },
      },
    )
    .post(
      '/games/:id/end',
      ({ request, params }) => {
        service.authorize(request, clientAddress(request));
        return service.end(params.id);
      },
      {
        params: AdminGameParams,
        body: EndGameBody,
        response: {
          200: AdminEnded,
          ...errorResponses({
            ...BODY_ERRORS,
            ...AUTH_ERRORS,
            validation_failed: 'The game id is longer than any game id, or the body is not {}',
            not_found: 'No such game',
            game_over: 'The game has already ended, or is already ending for another reason',
          }),
        },
        parse: 'json',
        detail: {
          tags: ['admin'],
          summary: 'End a game (operator)',
          description:
            "Stops a live game at once, in the lobby or mid-round: its players are told \"The server's operator ended this game.\", the game ends with `endReason: 'admin_ended'` (no results are stored for an unfinished round). The body is `{}` (every body here is JSON). Asking again while it ends answers the same.",
          security: [{ adminToken: [] }],
        },
      },
    );
  return new Elysia({ name: 'admin-all' }).use(api).use(adminPageRoutes());
}
