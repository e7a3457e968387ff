import { describe, expect, test } from 'bun:test';
import { encodeWorkerEnv, parseWorkerEnv, WORKER_ENV_NAMES } from '../../src/workers/worker-env.ts';
import { parseMatchmakerMessage } from '../../src/workers/matchmaker-message.ts';
import { parseWorkerMessage } from '../../src/workers/messages.ts';
import { testWorkerEnv } from './support/env.ts';

describe('worker env contract', () => {
  test('round-trips through strings, with exactly the documented names', () => {
    const env = testWorkerEnv(40001);
    const encoded = encodeWorkerEnv(env);
    expect(Object.keys(encoded).sort()).toEqual([...WORKER_ENV_NAMES].sort());
    expect(encoded.HUDDLE_PROTOCOL_ID).toMatch(/^0x[0-9a-f]{16}$/);
    expect(parseWorkerEnv(encoded)).toEqual(env);
  });

  test('bad or missing values are named, secrets never echoed', () => {
    const encoded = encodeWorkerEnv(testWorkerEnv(40001));
    const { HUDDLE_REPORT_URL: _, ...missing } = encoded;
    expect(() => parseWorkerEnv(missing)).toThrow('HUDDLE_REPORT_URL is missing');
    const shortKey = Buffer.alloc(16, 1).toString('base64');
    try {
      parseWorkerEnv({ ...encoded, HUDDLE_PRIVATE_KEY: shortKey });
      throw new Error('expected an error');
    } catch (error) {
      expect(String(error)).toContain('HUDDLE_PRIVATE_KEY must be 32 bytes');
      expect(String(error)).not.toContain(shortKey);
    }
    expect(() => parseWorkerEnv({ ...encoded, HUDDLE_REPORT_TOKEN: 'short' })).toThrow('HUDDLE_REPORT_TOKEN');
    expect(() => parseWorkerEnv({ ...encoded, HUDDLE_GAME_PORT: '70000' })).toThrow('HUDDLE_GAME_PORT');
    expect(() => parseWorkerEnv({ ...encoded, HUDDLE_PROTOCOL_ID: '12' })).toThrow('HUDDLE_PROTOCOL_ID');
  });
});

describe('supervision messages', () => {
  test('valid messages pass, anything else is refused', () => {
    expect(parseWorkerMessage({ type: 'ready', port: 40000 })).toEqual({ type: 'ready', port: 40000 });
    expect(parseWorkerMessage({ type: 'heartbeat', players: 2, phase: 'playing' })).not.toBeNull();
    expect(parseWorkerMessage({ type: 'players', count: 1, names: ['ada'] })).not.toBeNull();
    expect(parseWorkerMessage({ type: 'report', report: { status: 'finished', results: [{ name: 'a', score: 1 }] } })).not.toBeNull();
    expect(parseWorkerMessage({ type: 'exiting', reason: 'lobby_idle' })).not.toBeNull();
    expect(parseWorkerMessage({ type: 'fatal', message: 'port in use' })).not.toBeNull();
    for (const bad of [null, 'ready', { type: 'ready' }, { type: 'heartbeat', players: -1, phase: 'lobby' }, { type: 'ready', port: 1, extra: true }, { type: 'report', report: { status: 'in_progress', difficulty: 'insane' } }]) {
      expect(parseWorkerMessage(bad)).toBeNull();
    }
    expect(parseMatchmakerMessage({ type: 'shutdown', reason: 'bye' })).toEqual({ type: 'shutdown', reason: 'bye' });
    expect(parseMatchmakerMessage({ type: 'shutdown' })).toBeNull();
  });
});
