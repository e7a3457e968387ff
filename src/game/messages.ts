import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DIFFICULTIES } from './lobby.ts';

/**
 * Lobby, chat, start and results messages: rare, so structured JSON on the reliable channel, each validated
 * against its TypeBox schema on receipt. The hot-path game messages (inputs, snapshots) have binary codecs.
 */
export const CHANNEL_RELIABLE = 0;
export const MAX_CHAT_CHARS = 200;
export const MAX_NAME_CHARS = 24;

const Difficulty = Type.Union(DIFFICULTIES.map((d) => Type.Literal(d)));
const PlayerIndex = Type.Integer({ minimum: 0, maximum: 255 });
const Name = Type.String({ maxLength: MAX_NAME_CHARS * 4 });
const strict = { additionalProperties: false } as const;

export const ClientMessage = Type.Union([
  Type.Object({ type: Type.Literal('chat'), text: Type.String({ minLength: 1, maxLength: MAX_CHAT_CHARS }) }, strict),
  Type.Object({ type: Type.Literal('start'), difficulty: Difficulty }, strict),
  /** The minimal round's scoring action; the real game replaces it with binary inputs. */
  Type.Object({ type: Type.Literal('tap') }, strict),
]);
export type ClientMessage = Static<typeof ClientMessage>;

const LobbyPlayer = Type.Object(
  { index: PlayerIndex, name: Name, host: Type.Boolean(), pingMs: Type.Integer({ minimum: 0 }) },
  strict,
);
const ScoreLine = Type.Object({ index: PlayerIndex, name: Name, score: Type.Integer({ minimum: 0 }) }, strict);

export const ServerMessage = Type.Union([
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
export type ServerMessage = Static<typeof ServerMessage>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(message: ClientMessage | ServerMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** Decodes and validates; undefined for anything that is not exactly a message of the schema. */
function makeDecoder<T extends TSchema>(schema: T): (bytes: Uint8Array) => Static<T> | undefined {
  const check = TypeCompiler.Compile(schema);
  return (bytes) => {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(bytes));
    } catch {
      return undefined;
    }
    return check.Check(value) ? value : undefined;
  };
}

export const decodeClientMessage = makeDecoder(ClientMessage);
export const decodeServerMessage = makeDecoder(ServerMessage);

/**
 * Display names arrive from players: drop control and format characters (bidi overrides and isolates, zero-width
 * characters: they would let a name rewrite the line it is shown in or fake another player's chat) and line
 * separators, fold whitespace runs, trim, cap the length. Empty if nothing is left (callers refuse it).
 */
export function sanitizeName(raw: string): string {
  const cleaned = raw
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  return [...cleaned].slice(0, MAX_NAME_CHARS).join('').trim();
}

export function sanitizeChat(raw: string): string {
  return [...raw.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ').trim()].slice(0, MAX_CHAT_CHARS).join('');
}
