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
    const lobby: ServerMessage = {
      type: 'lobby',
      players: [{ index: 0, name: 'ann', host: true, pingMs: 3, connected: false }],
      hostIndex: 0,
      secondsLeft: 12,
      difficulty: 'hard',
      spectators: ['zoe'],
    };
    expect(decodeServerMessage(encodeMessage(lobby))).toEqual(lobby);
    const welcome: ServerMessage = { type: 'welcome', maxPlayers: 8, role: 'spectator', rejoined: false, rejoinGraceSeconds: 60 };
    expect(decodeServerMessage(encodeMessage(welcome))).toEqual(welcome);
    const results: ServerMessage = { type: 'results', difficulty: 'easy', scores: [{ index: 1, name: 'bob', score: 5, left: true }], abandoned: true };
    expect(decodeServerMessage(encodeMessage(results))).toEqual(results);
    for (const message of [{ type: 'leave' }, { type: 'difficulty', difficulty: 'easy' }] as const) expect(decodeClientMessage(encodeMessage(message))).toEqual(message);
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
      bytes('{"type":"tap"}'),
      bytes('{"type":"leave","seat":1}'),
      bytes('{"type":"difficulty","difficulty":"insane"}'),
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
