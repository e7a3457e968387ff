import { describe, expect, test } from 'bun:test';
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeMessage,
  sanitizeChat,
  sanitizeName,
  MAX_NAME_CHARS,
  type ServerMessage,
} from '../../src/game/messages.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('lobby message codecs', () => {
  test('round-trip client and server messages', () => {
    const chat = { type: 'chat', text: 'hello' } as const;
    expect(decodeClientMessage(encodeMessage(chat))).toEqual(chat);
    const lobby: ServerMessage = { type: 'lobby', players: [{ index: 0, name: 'ann', host: true, pingMs: 3 }], hostIndex: 0, secondsLeft: 12 };
    expect(decodeServerMessage(encodeMessage(lobby))).toEqual(lobby);
  });

  test('reject garbage, unknown types, extra fields and out-of-range values', () => {
    for (const input of [
      new Uint8Array([0xff, 0xfe, 0x00]),
      bytes(''),
      bytes('null'),
      bytes('{"type":"chat"}'),
      bytes('{"type":"chat","text":""}'),
      bytes(`{"type":"chat","text":"${'x'.repeat(201)}"}`),
      bytes('{"type":"start","difficulty":"insane"}'),
      bytes('{"type":"tap","extra":1}'),
      bytes('{"type":"welcome","you":0,"maxPlayers":8}'),
    ]) {
      expect(decodeClientMessage(input)).toBeUndefined();
    }
    expect(decodeServerMessage(bytes('{"type":"tap"}'))).toBeUndefined();
  });

  test('names and chat are sanitised', () => {
    expect(sanitizeName('  ann\u0000\u202e  smith\n ')).toBe('ann smith');
    expect([...sanitizeName('é'.repeat(100))].length).toBe(MAX_NAME_CHARS);
    expect(sanitizeName('\u200b\u200b')).toBe('');
    expect(sanitizeChat('hi\u0007there')).toBe('hi there');
  });
});
