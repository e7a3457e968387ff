/** `/api/games`: create, join by passcode, public status and results. Thin: the service and registry decide. */
import { Elysia } from 'elysia';
import { BODY_ERRORS, type ClientAddressOf, errorResponses } from '../http.ts';
import { bearerToken } from '../secrets.ts';
import { CreatedGame, CreateGameBody, GameIdParams, GameResults, GameStatus, JoinGameBody, PlayerTicket } from './model.ts';
import type { GamesService } from './service.ts';

export interface GamesControllerOptions {
  service: GamesService;
  maxPlayers: number;
  clientAddress: ClientAddressOf;
}

/** Where browsers reach a game: the WebSocket relay on this same server. */
export function relayUrlFor(request: Request, gameId: string): string {
  const url = new URL(request.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/relay';
  url.search = `?game=${encodeURIComponent(gameId)}`;
  url.hash = '';
  return url.href;
}

export function gamesController({ service, maxPlayers, clientAddress }: GamesControllerOptions) {
  return new Elysia({ name: 'games', prefix: '/api/games' })
    .post(
      '',
      async ({ body, request, status }) => {
        service.authorizeCreate(bearerToken(request.headers.get('authorization')));
        const game = await service.create(body);
        return status(201, { ...game, relayUrl: relayUrlFor(request, game.gameId) });
      },
      {
        body: CreateGameBody(maxPlayers),
        response: {
          201: CreatedGame,
          ...errorResponses({
            ...BODY_ERRORS,
            invalid_name: 'The name is empty once cleaned',
            unauthorized: 'This server needs its create token to create games',
            capacity: 'Every game slot is in use',
            no_ports: 'Every game port is in use',
            start_failed: 'The game server did not start in time',
            draining: 'The server is shutting down',
          }),
        },
        parse: 'json',
        detail: {
          tags: ['games'],
          summary: 'Create a game',
          description:
            "Starts a game server on its own UDP port and answers once it is ready, with the passcode to share and the host's connect token. When the server has a create token, send it as `Authorization: Bearer <token>`.",
          security: [{}, { createToken: [] }],
        },
      },
    )
    .post(
      '/join',
      ({ body, request }) => {
        const ticket = service.join(clientAddress(request), body);
        return { ...ticket, relayUrl: relayUrlFor(request, ticket.gameId) };
      },
      {
        body: JoinGameBody,
        response: {
          200: PlayerTicket,
          ...errorResponses({
            ...BODY_ERRORS,
            invalid_name: 'The name is empty once cleaned',
            wrong_passcode: 'No game has that passcode',
            game_started: 'The game has already started',
            game_full: 'The game is full',
            rate_limited: 'Too many failed attempts from this address or overall; see Retry-After',
          }),
        },
        parse: 'json',
        detail: {
          tags: ['games'],
          summary: 'Join a game by passcode',
          description: 'Gives a connect token for a game still in its lobby. Failed attempts are rate limited per address and globally (429 with Retry-After).',
        },
      },
    )
    .get('/:id', ({ params }) => service.status(params.id), {
      params: GameIdParams,
      response: { 200: GameStatus, ...errorResponses({ not_found: 'No such game' }) },
      parse: 'json',
      detail: { tags: ['games'], summary: 'Public status of a game' },
    })
    .get('/:id/results', ({ params }) => service.results(params.id), {
      params: GameIdParams,
      response: {
        200: GameResults,
        ...errorResponses({ not_found: 'No such game', not_finished: 'The game has not finished a round' }),
      },
      parse: 'json',
      detail: { tags: ['games'], summary: 'Final leaderboard of a finished game' },
    });
}
