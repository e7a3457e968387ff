/**
 * Lobby, chat, start and results messages: rare, so structured JSON on the reliable channel, each validated
 * against its TypeBox schema (message-schemas.ts, compiled ahead of time into validators.generated.ts) on
 * receipt. The hot-path game messages (inputs, snapshots) have binary codecs.
 */
import type { ClientMessage, ServerMessage } from './message-schemas.ts';
import { MAX_CHAT_CHARS, MAX_NAME_CHARS } from './message-limits.ts';
import { checkClientMessage, checkServerMessage } from './validators.generated.ts';

export type { ClientMessage, ServerMessage } from './message-schemas.ts';
export { MAX_CHAT_CHARS, MAX_NAME_CHARS } from './message-limits.ts';

export const CHANNEL_RELIABLE = 0;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(message: ClientMessage | ServerMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** Decodes and validates; undefined for anything that is not exactly a message of the schema. */
function makeDecoder<T>(check: (value: unknown) => boolean): (bytes: Uint8Array) => T | undefined {
  return (bytes) => {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(bytes));
    } catch {
      return undefined;
    }
    return check(value) ? (value as T) : undefined;
  };
}

export const decodeClientMessage = makeDecoder<ClientMessage>(checkClientMessage);
export const decodeServerMessage = makeDecoder<ServerMessage>(checkServerMessage);

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
