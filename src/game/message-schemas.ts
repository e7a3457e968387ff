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
  /** The minimal round's scoring action; the real game replaces it with binary inputs. */
  Type.Object({ type: Type.Literal('tap') }, strict),
]);
export type ClientMessage = Static<typeof ClientMessageSchema>;

const LobbyPlayer = Type.Object(
  { index: PlayerIndex, name: Name, host: Type.Boolean(), pingMs: Type.Integer({ minimum: 0 }) },
  strict,
);
const ScoreLine = Type.Object({ index: PlayerIndex, name: Name, score: Type.Integer({ minimum: 0 }) }, strict);

export const ServerMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('welcome'), you: PlayerIndex, maxPlayers: Type.Integer({ minimum: 1 }) }, strict),
  Type.Object(
    {
      type: Type.Literal('lobby'),
      players: Type.Array(LobbyPlayer, { maxItems: 256 }),
      hostIndex: Type.Optional(PlayerIndex),
      secondsLeft: Type.Number({ minimum: 0 }),
    },
    strict,
  ),
  Type.Object({ type: Type.Literal('chat'), from: PlayerIndex, name: Name, text: Type.String({ maxLength: MAX_CHAT_CHARS }) }, strict),
  Type.Object({ type: Type.Literal('notice'), code: Type.String({ maxLength: 64 }), message: Type.String({ maxLength: 500 }) }, strict),
  Type.Object({ type: Type.Literal('countdown'), difficulty: Difficulty, seconds: Type.Number({ minimum: 0 }) }, strict),
  Type.Object(
    { type: Type.Literal('round'), secondsLeft: Type.Number({ minimum: 0 }), scores: Type.Array(ScoreLine, { maxItems: 256 }) },
    strict,
  ),
  Type.Object({ type: Type.Literal('results'), difficulty: Difficulty, scores: Type.Array(ScoreLine, { maxItems: 256 }) }, strict),
  Type.Object({ type: Type.Literal('closing'), reason: Type.String({ maxLength: 200 }) }, strict),
]);
export type ServerMessage = Static<typeof ServerMessageSchema>;
