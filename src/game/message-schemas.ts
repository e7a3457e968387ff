/**
 * TypeBox schemas of the lobby, chat, start and results messages: the single source of their shape. They are not
 * loaded at run time by game workers or browsers: `npm run generate` compiles them ahead of time into
 * `validators.generated.ts` (TypeBox's own compiler output), which `messages.ts` uses, so a worker does not pay
 * TypeBox's import and compile cost on every game start. A test fails if the generated file is stale.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DIFFICULTIES } from './lobby.ts';
import { MAX_CHAT_CHARS, MAX_NAME_CHARS } from './message-limits.ts';

const Difficulty = Type.Union(DIFFICULTIES.map((d) => Type.Literal(d)));
const PlayerIndex = Type.Integer({ minimum: 0, maximum: 255 });
const Name = Type.String({ maxLength: MAX_NAME_CHARS * 4 });
const strict = { additionalProperties: false } as const;

export const ClientMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('chat'), text: Type.String({ minLength: 1, maxLength: MAX_CHAT_CHARS }) }, strict),
  Type.Object({ type: Type.Literal('start'), difficulty: Difficulty }, strict),
  /** The host's current pick, before starting: shown to everyone in the lobby. */
  Type.Object({ type: Type.Literal('difficulty'), difficulty: Difficulty }, strict),
  /** Leaving on purpose ("Leave game"): the seat is given up at once instead of being held for a rejoin. */
  Type.Object({ type: Type.Literal('leave') }, strict),
]);
export type ClientMessage = Static<typeof ClientMessageSchema>;

/** `index` is the seat (the ship's slot): it stays the same across a player's reconnections. */
const LobbyPlayer = Type.Object(
  {
    index: PlayerIndex,
    name: Name,
    host: Type.Boolean(),
    pingMs: Type.Integer({ minimum: 0 }),
    /** False while the player is dropped and their seat is held for a rejoin. */
    connected: Type.Boolean(),
  },
  strict,
);
const ScoreLine = Type.Object(
  {
    index: PlayerIndex,
    name: Name,
    score: Type.Integer({ minimum: 0 }),
    /** The player left the game (or did not come back in time): still listed, marked "left". */
    left: Type.Optional(Type.Boolean()),
    /** False while the player is dropped and may still come back. */
    connected: Type.Optional(Type.Boolean()),
  },
  strict,
);
const Role = Type.Union([Type.Literal('player'), Type.Literal('spectator')]);

export const ServerMessageSchema = Type.Union([
  /**
   * First message on every connection. `you` is the player's seat (absent for a spectator); `rejoined` is true when
   * the connection took back a seat that was already the player's (after a drop, a reload, or from another tab).
   */
  Type.Object(
    {
      type: Type.Literal('welcome'),
      you: Type.Optional(PlayerIndex),
      maxPlayers: Type.Integer({ minimum: 1 }),
      role: Role,
      rejoined: Type.Boolean(),
      /** Seconds a dropped seat is held. */
      rejoinGraceSeconds: Type.Number({ minimum: 0 }),
    },
    strict,
  ),
  Type.Object(
    {
      type: Type.Literal('lobby'),
      players: Type.Array(LobbyPlayer, { maxItems: 256 }),
      hostIndex: Type.Optional(PlayerIndex),
      secondsLeft: Type.Number({ minimum: 0 }),
      /** The host's current pick (what the start will use unless they change it). */
      difficulty: Difficulty,
      /** Names of who is watching. */
      spectators: Type.Array(Name, { maxItems: 256 }),
    },
    strict,
  ),
  Type.Object({ type: Type.Literal('chat'), from: PlayerIndex, name: Name, text: Type.String({ maxLength: MAX_CHAT_CHARS }) }, strict),
  Type.Object({ type: Type.Literal('notice'), code: Type.String({ maxLength: 64 }), message: Type.String({ maxLength: 500 }) }, strict),
  Type.Object({ type: Type.Literal('countdown'), difficulty: Difficulty, seconds: Type.Number({ minimum: 0 }) }, strict),
  Type.Object(
    {
      type: Type.Literal('round'),
      secondsLeft: Type.Number({ minimum: 0 }),
      scores: Type.Array(ScoreLine, { maxItems: 256 }),
      /** The host's seat now (it moves when the host leaves mid-round): who may start the next game. */
      hostIndex: Type.Optional(PlayerIndex),
    },
    strict,
  ),
  Type.Object(
    {
      type: Type.Literal('results'),
      difficulty: Difficulty,
      scores: Type.Array(ScoreLine, { maxItems: 256 }),
      /** Every player left before the end: the round is recorded as abandoned and not ranked. */
      abandoned: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
  /**
   * The server is closing this connection. `code`: `seat-taken` (the same seat connected from elsewhere),
   * `lobby-idle`, `shutdown` (the server is stopping), `game-over`; `reason` is a sentence for a player.
   */
  Type.Object(
    { type: Type.Literal('closing'), reason: Type.String({ maxLength: 200 }), code: Type.Optional(Type.String({ maxLength: 32 })) },
    strict,
  ),
]);
export type ServerMessage = Static<typeof ServerMessageSchema>;
