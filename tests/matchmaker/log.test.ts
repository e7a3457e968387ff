import { describe, expect, test } from 'bun:test';
import { createLogger, resolveLogFormat } from '../../src/log.ts';

function capture(format: 'json' | 'text') {
  const lines: string[] = [];
  const log = createLogger({ format, write: (line) => lines.push(line), now: () => new Date('2025-01-01T00:00:00Z'), minLevel: 'debug' });
  return { log, lines };
}

describe('log', () => {
  test('JSON lines with the game id', () => {
    const { log, lines } = capture('json');
    log.info('game.ready', { gameId: 'abc', port: 40000 });
    expect(JSON.parse(lines[0] ?? '')).toEqual({ time: '2025-01-01T00:00:00.000Z', level: 'info', event: 'game.ready', gameId: 'abc', port: 40000 });
  });

  test('text lines for a terminal', () => {
    const { log, lines } = capture('text');
    log.warn('game.failed', { gameId: 'abc', message: 'worker error: boom' });
    expect(lines[0]).toBe('2025-01-01T00:00:00.000Z WARN  game.failed gameId=abc message="worker error: boom"');
  });

  test('fields outside the allow-list are dropped, whatever they hold', () => {
    const { log, lines } = capture('json');
    const leaky = { gameId: 'abc', privateKey: 'AAAA', reportToken: 'BBBB', env: { HUDDLE_PRIVATE_KEY: 'CCCC' }, connectToken: 'DDDD' } as unknown as Parameters<typeof log.info>[1];
    log.info('oops', leaky);
    const line = lines[0] ?? '';
    expect(JSON.parse(line)).toEqual({ time: '2025-01-01T00:00:00.000Z', level: 'info', event: 'oops', gameId: 'abc', dropped: 4 });
    for (const secret of ['AAAA', 'BBBB', 'CCCC', 'DDDD']) expect(line).not.toContain(secret);
  });

  test('protected values are redacted anywhere in the line, until unprotected', () => {
    const { log, lines } = capture('json');
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');
    log.protect(key);
    log.error('worker.error', { gameId: 'abc', message: `failed to parse ${key} in env` });
    log.info(`event-with-${key}`);
    expect(lines.join('\n')).not.toContain(key);
    expect(lines[0]).toContain('[redacted]');
    log.unprotect(key);
    log.info('after', { message: key });
    expect(lines[2]).toContain(key);
  });

  test('JSON unless stdout is a terminal', () => {
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('auto', true)).toBe('text');
    expect(resolveLogFormat('json', true)).toBe('json');
  });
});
