/**
 * Request and response schemas of the games controller (validation and Swagger from the same source).
 *
 * Integers are TypeBox's plain `Type.Integer`, not Elysia's `t.Integer`: Elysia's is a string-or-integer union
 * with a decode step (meant for query strings), which Swagger showed as "Any of string · integer" and which
 * accepted `"4"` in a JSON body. JSON bodies and answers carry real numbers.
 */
import { Type } from '@sinclair/typebox';
import { t } from 'elysia';
import { GAME_STATES } from '../metrics.ts';
import { PASSCODE_LENGTH } from '../passcodes.ts';
import { KEY_PATTERN } from '../seats.ts';
import { Difficulty, literalUnion } from '../../contract/worker-messages.ts';

const DisplayName = t.String({
  minLength: 1,
  maxLength: 100,
  description: 'Display name; control characters are removed and it is cut to 24 characters',
  examples: ['Ada'],
});

const keyDoc = { minLength: 24, maxLength: 24, pattern: KEY_PATTERN };
const RejoinKey = t.String({
  ...keyDoc,
  description: 'The rejoin key from a create, join, rejoin or again answer (18 random bytes, base64url). Keep it private: it opens your seat.',
  examples: ['mQ3v9Zt0cY2aLx8bN1sE4kPw'],
});
const WatchKey = t.String({
  ...keyDoc,
  description: 'A watch key from a create, join, rejoin, again or watch answer (18 random bytes, base64url). Share it (e.g. as /?watch=KEY) to let friends watch.',
  examples: ['Zk4rT7uWq1eYb0nC3xV8sLdA'],
});

export function CreateGameBody(maxPlayers: number) {
  return t.Object(
    {
      name: DisplayName,
      maxPlayers: t.Optional(
        Type.Integer({ minimum: 1, maximum: maxPlayers, description: `Players admitted (at most ${maxPlayers}, the default)`, examples: [4] }),
      ),
    },
    { additionalProperties: false, examples: [{ name: 'Ada', maxPlayers: 4 }] },
  );
}

const InviteKey = t.String({
  ...keyDoc,
  description: 'The key of an invite link (`/?invite=KEY`, 18 random bytes, base64url): joins without the passcode and is never held back by the guess budget.',
  examples: ['Hn2pQ5wE8rT1yU4iO7aS0dFg'],
});

/** Exactly one of passcode and invite: each form forbids the other's field. */
export const JoinGameBody = t.Union(
  [
    t.Object(
      {
        passcode: t.String({
          minLength: 1,
          maxLength: 32,
          description: `The ${PASSCODE_LENGTH}-character passcode; case-insensitive, I/L read as 1 and O as 0, spaces and dashes ignored`,
          examples: ['K7M2QX'],
        }),
        name: DisplayName,
      },
      { additionalProperties: false, title: 'By passcode', examples: [{ passcode: 'k7m2qx', name: 'Bob' }] },
    ),
    t.Object(
      { invite: InviteKey, name: DisplayName },
      { additionalProperties: false, title: 'By invite link', examples: [{ invite: 'Hn2pQ5wE8rT1yU4iO7aS0dFg', name: 'Bob' }] },
    ),
  ],
  { description: 'Join with the passcode or with the key of an invite link (exactly one of them)' },
);

export const RejoinBody = t.Object({ rejoinKey: RejoinKey }, { additionalProperties: false, examples: [{ rejoinKey: 'mQ3v9Zt0cY2aLx8bN1sE4kPw' }] });

export const WatchBody = t.Object(
  { watchKey: WatchKey, name: DisplayName },
  { additionalProperties: false, examples: [{ watchKey: 'Zk4rT7uWq1eYb0nC3xV8sLdA', name: 'Cy' }] },
);

const EXAMPLE_GAME = 'q3JmX0dWm2b6yC1l8b1Q9A';

const ticketFields = {
  gameId: t.String({ description: 'Game id (URL-safe, unguessable)', examples: [EXAMPLE_GAME] }),
  port: Type.Integer({ minimum: 1, maximum: 65535, description: "The game's UDP port", examples: [40000] }),
  serverAddress: t.String({ description: 'host:port in the connect token, for native UDP clients', examples: ['127.0.0.1:40000'] }),
  relayUrl: t.String({ description: 'WebSocket relay to the game for browsers', examples: [`ws://localhost:8080/relay?game=${EXAMPLE_GAME}`] }),
  connectToken: t.String({ description: 'netcode 1.02 connect token (2048 bytes, base64); its user data carries the name and the role', examples: ['AAEC…'] }),
  expiresAt: t.String({
    format: 'date-time',
    description: 'When the connect token expires; ask again (passcode, rejoin key or watch key) after',
    examples: ['2025-01-01T12:00:30.000Z'],
  }),
  name: t.String({ description: 'The seat\'s name as the game shows it: cleaned, and made unique in the game ("Ada (2)")', examples: ['Ada'] }),
  role: literalUnion(['player', 'spectator'], { description: 'player: a seat in the game; spectator: watches, sends no inputs', examples: ['player'] }),
};

const seatFields = {
  passcode: t.String({ description: 'Share it with friends so they can join', examples: ['K7M2QX'] }),
  rejoinKey: t.String({
    description: 'Opens this same seat again (POST /api/games/rejoin) after a reload or a lost connection, and the seat in a play-again game. Private: never share it.',
    examples: ['mQ3v9Zt0cY2aLx8bN1sE4kPw'],
  }),
  watchKey: t.String({ description: 'Lets others watch (POST /api/games/watch); this is what a watch link carries', examples: ['Zk4rT7uWq1eYb0nC3xV8sLdA'] }),
  inviteUrl: t.String({
    description:
      "The link to share: `<public base>/?invite=KEY` opens the web client's join; `POST /api/games/join {invite, name}` joins with its key. It leads to the group's newest game (after a play again, the new one).",
    examples: ['http://localhost:8080/?invite=Hn2pQ5wE8rT1yU4iO7aS0dFg'],
  }),
};

const exampleTicket = {
  gameId: EXAMPLE_GAME,
  port: 40000,
  serverAddress: '127.0.0.1:40000',
  relayUrl: `ws://localhost:8080/relay?game=${EXAMPLE_GAME}`,
  connectToken: 'AAEC…',
  expiresAt: '2025-01-01T12:00:30.000Z',
};
const exampleKeys = {
  passcode: 'K7M2QX',
  rejoinKey: 'mQ3v9Zt0cY2aLx8bN1sE4kPw',
  watchKey: 'Zk4rT7uWq1eYb0nC3xV8sLdA',
  inviteUrl: 'http://localhost:8080/?invite=Hn2pQ5wE8rT1yU4iO7aS0dFg',
};

export const SeatTicket = t.Object(
  { ...ticketFields, ...seatFields },
  { description: "A player's seat: its connect token and the keys that reopen it", examples: [{ ...exampleTicket, name: 'Bob', role: 'player', ...exampleKeys }] },
);

export const CreatedGame = t.Object(
  { ...ticketFields, ...seatFields, maxPlayers: Type.Integer({ minimum: 1, examples: [4] }) },
  {
    description: "The game is in its lobby; here is the host's seat",
    examples: [{ ...exampleTicket, name: 'Ada', role: 'player', ...exampleKeys, maxPlayers: 4 }],
  },
);

export const WatchTicket = t.Object(
  { ...ticketFields, watchKey: seatFields.watchKey },
  {
    description: 'A spectator\'s connect token; no passcode and no rejoin key (a watcher never gets a player seat)',
    examples: [{ ...exampleTicket, name: 'Cy', role: 'spectator', watchKey: exampleKeys.watchKey }],
  },
);

const NextGame = t.Union(
  [
    t.Null(),
    t.Object({
      state: literalUnion(['starting', 'ready', 'failed'], {
        description: 'starting: wait; ready: rejoin (players) or watch (spectators) with the key you hold; failed: show message',
      }),
      gameId: t.Union([t.String(), t.Null()], { description: 'The new game, once ready' }),
      message: t.Union([t.String(), t.Null()], { description: 'For players, when it failed' }),
    }),
  ],
  { description: 'The play-again game, once the host asked for one; null before' },
);

export const GameStatus = t.Object(
  {
    gameId: t.String(),
    state: literalUnion(GAME_STATES, { examples: ['lobby'] }),
    players: Type.Integer({ minimum: 0, description: 'Seats taken (connected players and dropped ones whose seat is held), as the game server reports' }),
    spectators: Type.Integer({ minimum: 0, description: 'Spectators connected, as the game server reports' }),
    maxPlayers: Type.Integer({ minimum: 1 }),
    difficulty: t.Union([Difficulty, t.Null()]),
    createdAt: t.Union([t.String({ format: 'date-time' }), t.Null()]),
    endReason: t.Union([t.String(), t.Null()], { description: 'Why the game ended (round_over, abandoned, lobby_idle, crashed, …)' }),
    next: NextGame,
  },
  {
    description: 'Public status of a game; never secrets',
    examples: [
      { gameId: EXAMPLE_GAME, state: 'lobby', players: 2, spectators: 1, maxPlayers: 8, difficulty: null, createdAt: '2025-01-01T12:00:00.000Z', endReason: null, next: null },
      {
        gameId: EXAMPLE_GAME,
        state: 'finished',
        players: 0,
        spectators: 0,
        maxPlayers: 8,
        difficulty: 'normal',
        createdAt: '2025-01-01T12:00:00.000Z',
        endReason: 'round_over',
        next: { state: 'ready', gameId: 'Xa1bC2dE3fG4hI5jK6lM7n', message: null },
      },
    ],
  },
);

export const GameResults = t.Object(
  {
    gameId: t.String(),
    name: t.String({ description: "The host's name" }),
    difficulty: Difficulty,
    maxPlayers: Type.Integer({ minimum: 1 }),
    finishedAt: t.String({ format: 'date-time' }),
    outcome: literalUnion(['finished', 'abandoned'], { description: 'abandoned: every player left (or nobody was connected at the end); never ranked' }),
    players: t.Array(
      t.Object({
        rank: Type.Integer({ minimum: 1 }),
        name: t.String(),
        score: Type.Integer({ minimum: 0 }),
        left: t.Boolean({ description: 'Left (or did not come back in time) before the round ended' }),
      }),
    ),
  },
  {
    description: 'Final leaderboard of a round, best first (equal scores share a rank)',
    examples: [
      {
        gameId: EXAMPLE_GAME,
        name: 'Ada',
        difficulty: 'normal',
        maxPlayers: 8,
        finishedAt: '2025-01-01T12:05:00.000Z',
        outcome: 'finished',
        players: [
          { rank: 1, name: 'Ada', score: 12, left: false },
          { rank: 2, name: 'Bob', score: 7, left: true },
        ],
      },
    ],
  },
);

export const GameIdParams = t.Object({ id: t.String({ maxLength: 64, description: 'Game id', examples: [EXAMPLE_GAME] }) });
