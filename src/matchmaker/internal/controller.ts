/**
 * `POST /internal/games/:id/report`: the game server's authenticated state report (bearer reporting token,
 * compared in constant time). The acknowledgement is the worker's go-ahead: it starts play only after it.
 */
import { Elysia } from 'elysia';
import { GameReport } from '../../contract/worker-messages.ts';
import { GameIdParams } from '../games/model.ts';
import { BODY_ERRORS, errorResponses } from '../http.ts';
import type { GameRegistry } from '../registry.ts';
import { bearerToken } from '../secrets.ts';
import { ReportAck } from './model.ts';

export function internalController(registry: GameRegistry) {
  return new Elysia({ name: 'internal', prefix: '/internal' }).post(
    '/games/:id/report',
    ({ params, body, request }) => registry.report(params.id, bearerToken(request.headers.get('authorization')), body),
    {
      params: GameIdParams,
      body: GameReport,
      response: {
        200: ReportAck,
        ...errorResponses({
          ...BODY_ERRORS,
          unauthorized: 'Missing or wrong reporting token; nothing changed',
          not_found: 'No such game',
          game_over: 'The game has ended',
          bad_state: 'The game is not in a state this report can follow',
          internal: 'The results could not be stored; report again',
        }),
      },
      parse: 'json',
      detail: {
        tags: ['internal'],
        summary: 'Game server status report',
        description:
          '`in_progress` (with the difficulty) moves a lobby to in_progress; `finished` (with the results, and `hostClientId`: whose seat was host at the end, who may play again) or `abandoned` (every player left: kept, never ranked) stores them durably and then acknowledges; results may mark players `left`. Repeating the report that made the current state is acknowledged again. Needs `Authorization: Bearer <reporting token>` from the game server\'s environment.',
        security: [{ reportingToken: [] }],
      },
    },
  );
}
