/**
 * Integers in the answer are TypeBox's plain `Type.Integer` (see games/model.ts for why not Elysia's `t.Integer`).
 * The query's `limit` is the one place Elysia's coercing `t.Integer` is right: a query string is text.
 */
import { Type } from '@sinclair/typebox';
import { t } from 'elysia';

const Entry = t.Object({
  rank: Type.Integer({ minimum: 1 }),
  name: t.String(),
  score: Type.Integer({ minimum: 0 }),
  gameId: t.String(),
  finishedAt: t.String({ format: 'date-time' }),
});

export const LeaderboardQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Entries per difficulty' })),
});

export const Leaderboard = t.Object(
  { easy: t.Array(Entry), normal: t.Array(Entry), hard: t.Array(Entry) },
  {
    description: 'Best scores per difficulty from every stored game, highest first (an earlier game wins a tie)',
    examples: [{ easy: [], normal: [{ rank: 1, name: 'Ada', score: 12, gameId: 'q3JmX0dWm2b6yC1l8b1Q9A', finishedAt: '2025-01-01T12:05:00.000Z' }], hard: [] }],
  },
);
