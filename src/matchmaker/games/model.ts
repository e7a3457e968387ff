/** Request and response schemas of the games controller (validation and Swagger from the same source). */
import { t } from 'elysia';
import { GAME_STATES } from '../metrics.ts';
import { PASSCODE_LENGTH } from '../passcodes.ts';
import { Difficulty, literalUnion } from '../../workers/messages.ts';

const DisplayName = t.String({
  minLength: 1,
  maxLength: 100,
  description: 'Display name; control characters are removed and it is cut to 24 characters',
  examples: ['Ada'],
});

export function CreateGameBody(maxPlayers: number) {
  return t.Object(
    {
      name: DisplayName,
      maxPlayers: t.Optional(
        t.Integer({ minimum: 1, maximum: maxPlayers, description: `Players admitted (at most ${maxPlayers}, the default)`, examples: [4] }),
      ),
    },
    { additionalProperties: false, examples: [{ name: 'Ada', maxPlayers: 4 }] },
  );
}

export const JoinGameBody = t.Object(
  {
    passcode: t.String({
      minLength: 1,
      maxLength: 32,
      description: `The ${PASSCODE_LENGTH}-character passcode; case-insensitive, I/L read as 1 and O as 0`,
      examples: ['K7M2QX'],
    }),
    name: DisplayName,
  },
  { additionalProperties: false, examples: [{ passcode: 'k7m2qx', name: 'Bob' }] },
);

const ticketFields = {
  gameId: t.String({ description: 'Game id (URL-safe, unguessable)', examples: ['q3JmX0dWm2b6yC1l8b1Q9A'] }),
  port: t.Integer({ description: "The game's UDP port", examples: [40000] }),
  serverAddress: t.String({ description: 'host:port in the connect token, for native UDP clients', examples: ['127.0.0.1:40000'] }),
  relayUrl: t.String({ description: 'WebSocket relay to the game for browsers', examples: ['ws://localhost:8080/relay?game=q3JmX0dWm2b6yC1l8b1Q9A'] }),
  connectToken: t.String({ description: 'netcode 1.02 connect token (2048 bytes, base64)', examples: ['AAEC…'] }),
  expiresAt: t.String({ format: 'date-time', description: 'When the connect token expires; ask again with the passcode after', examples: ['2025-01-01T12:00:30.000Z'] }),
};

export const PlayerTicket = t.Object(ticketFields, { description: 'A connect token for one player' });

export const CreatedGame = t.Object(
  {
    ...ticketFields,
    passcode: t.String({ description: 'Share it with friends so they can join', examples: ['K7M2QX'] }),
    maxPlayers: t.Integer({ examples: [4] }),
  },
  { description: "The game is in its lobby; here is the host's connect token" },
);

export const GameStatus = t.Object(
  {
    gameId: t.String(),
    state: literalUnion(GAME_STATES, { examples: ['lobby'] }),
    players: t.Integer({ minimum: 0, description: 'Players connected, as the game server reports' }),
    maxPlayers: t.Integer({ minimum: 1 }),
    difficulty: t.Union([Difficulty, t.Null()]),
    createdAt: t.Union([t.String({ format: 'date-time' }), t.Null()]),
    endReason: t.Union([t.String(), t.Null()], { description: 'Why the game ended (round_over, lobby_idle, crashed, …)' }),
  },
  {
    description: 'Public status of a game; never secrets',
    examples: [{ gameId: 'q3JmX0dWm2b6yC1l8b1Q9A', state: 'lobby', players: 2, maxPlayers: 8, difficulty: null, createdAt: '2025-01-01T12:00:00.000Z', endReason: null }],
  },
);

export const GameResults = t.Object(
  {
    gameId: t.String(),
    name: t.String({ description: "The host's name" }),
    difficulty: Difficulty,
    maxPlayers: t.Integer(),
    finishedAt: t.String({ format: 'date-time' }),
    players: t.Array(t.Object({ rank: t.Integer({ minimum: 1 }), name: t.String(), score: t.Integer({ minimum: 0 }) })),
  },
  {
    description: 'Final leaderboard of a finished game, best first (equal scores share a rank)',
    examples: [
      {
        gameId: 'q3JmX0dWm2b6yC1l8b1Q9A',
        name: 'Ada',
        difficulty: 'normal',
        maxPlayers: 8,
        finishedAt: '2025-01-01T12:05:00.000Z',
        players: [
          { rank: 1, name: 'Ada', score: 12 },
          { rank: 2, name: 'Bob', score: 7 },
        ],
      },
    ],
  },
);

export const GameIdParams = t.Object({ id: t.String({ maxLength: 64, description: 'Game id', examples: ['q3JmX0dWm2b6yC1l8b1Q9A'] }) });
