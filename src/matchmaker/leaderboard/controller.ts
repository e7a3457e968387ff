/** `/api/leaderboard`: best scores per difficulty, straight from the durable store. */
import { Elysia } from 'elysia';
import { DIFFICULTIES } from '../../game/lobby.ts';
import { errorResponses } from '../http.ts';
import type { ResultsStore } from '../results-store.ts';
import { Leaderboard, LeaderboardQuery } from './model.ts';

export function leaderboardController(store: ResultsStore) {
  return new Elysia({ name: 'leaderboard' }).get(
    '/api/leaderboard',
    ({ query }) => {
      const limit = query.limit ?? 10;
      const board = (d: (typeof DIFFICULTIES)[number]) =>
        store.leaderboard(d, limit).map((e) => ({ ...e, finishedAt: new Date(e.finishedAt).toISOString() }));
      return { easy: board('easy'), normal: board('normal'), hard: board('hard') };
    },
    {
      query: LeaderboardQuery,
      response: { 200: Leaderboard, ...errorResponses({ validation_failed: 'limit is not a whole number from 1 to 100' }) },
      parse: 'json',
      detail: {
        tags: ['results'],
        summary: 'Best scores per difficulty',
        description: 'Rounds played to the end only: an abandoned round (every player left) is kept in its results but never ranked here.',
        // Written out: the schema that parses the query text shows in Swagger as "string or integer".
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: 'Entries per difficulty',
            schema: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
          },
        ],
      },
    },
  );
}
