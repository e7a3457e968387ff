/** `/api/leaderboard`: best scores per difficulty, from the durable store (merged with the cluster's, with several nodes). */
import { Elysia } from 'elysia';
import { DIFFICULTIES } from '../../game/lobby.ts';
import { errorResponses } from '../http.ts';
import type { LeaderboardEntry, ResultsStore } from '../results-store.ts';
import type { ClusterFront } from '../cluster/front.ts';
import { Leaderboard, LeaderboardQuery } from './model.ts';

export function leaderboardController(store: ResultsStore, cluster?: ClusterFront) {
  return new Elysia({ name: 'leaderboard' }).get(
    '/api/leaderboard',
    async ({ query }) => {
      const limit = query.limit ?? 10;
      const view = (entries: LeaderboardEntry[]) => entries.map((e) => ({ ...e, finishedAt: new Date(e.finishedAt).toISOString() }));
      const board = async (d: (typeof DIFFICULTIES)[number]) => view(cluster ? await cluster.leaderboard(d, limit) : store.leaderboard(d, limit));
      const [easy, normal, hard] = await Promise.all([board('easy'), board('normal'), board('hard')]);
      return { easy, normal, hard };
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
