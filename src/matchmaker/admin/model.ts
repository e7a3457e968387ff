/** Schemas of the admin API (validation and Swagger from the same source). Nothing here is ever a secret. */
import { Type } from '@sinclair/typebox';
import { t } from 'elysia';
import { GAME_STATES } from '../metrics.ts';
import { Difficulty, literalUnion, TickStats } from '../../contract/worker-messages.ts';

const EXAMPLE_GAME = 'q3JmX0dWm2b6yC1l8b1Q9A';
const Millis = t.Number({ minimum: 0 });

const AdminPlayer = t.Object({
  name: t.String({ description: "The seat's name as the game shows it" }),
  connected: t.Union([t.Boolean(), t.Null()], { description: 'false: dropped, its seat held for a rejoin; null until the game reported it' }),
  pingMs: t.Union([Millis, t.Null()], { description: "Round-trip time the game measures on the player's connection; null until reported" }),
});

export const AdminGame = t.Object({
  gameId: t.String({ examples: [EXAMPLE_GAME] }),
  name: t.String({ description: "The host's name, which names the game" }),
  state: literalUnion(GAME_STATES),
  difficulty: t.Union([Difficulty, t.Null()]),
  createdAt: t.String({ format: 'date-time' }),
  ageSeconds: Type.Integer({ minimum: 0 }),
  maxPlayers: Type.Integer({ minimum: 1 }),
  seatsTaken: Type.Integer({ minimum: 0, description: 'Connected players and dropped ones whose seat is held' }),
  players: t.Array(AdminPlayer),
  spectators: Type.Integer({ minimum: 0 }),
  tick: t.Union([TickStats, t.Null()], {
    description:
      "The game loop over the last heartbeat interval: how late its wakes started against their due times (in a round its 20 Hz snapshots on a fixed schedule, each wake running the 30 Hz steps due), and each wake's work (its update plus the datagrams handled since the previous wake), p50/p99/max and bucket counts; null before the first",
  }),
  ending: t.Boolean({ description: 'Asked to stop and not gone yet' }),
});

export const AdminGames = t.Object(
  { games: t.Array(AdminGame, { description: 'Live games (holding a slot), oldest first' }) },
  {
    description: 'Live games; never a passcode, key or token',
    examples: [
      {
        games: [
          {
            gameId: EXAMPLE_GAME,
            name: 'Ada',
            state: 'lobby',
            difficulty: 'normal',
            createdAt: '2025-01-01T12:00:00.000Z',
            ageSeconds: 42,
            maxPlayers: 8,
            seatsTaken: 2,
            players: [
              { name: 'Ada', connected: true, pingMs: 12 },
              { name: 'Bob', connected: false, pingMs: 0 },
            ],
            spectators: 1,
            tick: {
              ticks: 23,
              missed: 0,
              datagrams: 410,
              lateness: { p50Ms: 0.09, p99Ms: 0.6, maxMs: 0.6, counts: [18, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
              work: { p50Ms: 0.31, p99Ms: 0.9, maxMs: 0.9, counts: [0, 19, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
            },
            ending: false,
          },
        ],
      },
    ],
  },
);

export const AdminEnded = t.Object(
  {
    gameId: t.String(),
    state: literalUnion(GAME_STATES, { description: 'The state when asked; it becomes finished once the game server has stopped' }),
    endReason: t.String({ description: '`admin_ended` (a round already finished keeps `round_over`)' }),
  },
  { examples: [{ gameId: EXAMPLE_GAME, state: 'in_progress', endReason: 'admin_ended' }] },
);

export const EndGameBody = t.Object({}, { additionalProperties: false, description: 'Empty: the game is named in the path', examples: [{}] });

export const AdminGameParams = t.Object({ id: t.String({ maxLength: 64, description: 'Game id', examples: [EXAMPLE_GAME] }) });
