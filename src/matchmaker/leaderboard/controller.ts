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
      detail: { tags: ['results'], summary: 'Best scores per difficulty' },
    },
  );
}
