/**
 * The logger's per-event sampler for client-caused lines (src/log.ts), on a hand clock: the first N lines of a
 * window are written, the rest counted, one summary per window; other events are never sampled; the secret guards
 * hold for every line, summaries included.
 */
import { describe, expect, test } from 'bun:test';
import { createLogger, isClientEvent, renderSuppressedLines } from '../../src/log.ts';

function capture(lines = 3, windowMs = 10_000) {
  const out: Record<string, unknown>[] = [];
  const clock = { now: 0 };
  const log = createLogger({ format: 'json', write: (line) => out.push(JSON.parse(line) as Record<string, unknown>), clientLines: { lines, windowMs }, clock: () => clock.now });
  return { log, out, clock };
}

describe('client-event sampler', () => {
  test('N lines per event per window, then one summary line with the count when the next line comes after it', () => {
    const { log, out, clock } = capture(3);
    for (let i = 0; i < 1000; i++) log.warn('join.rate_limited', { address: '192.0.2.1', count: 5 });
    expect(out).toHaveLength(3);
    expect(log.suppressedCounts?.().get('join.rate_limited')).toBe(997);
    clock.now = 10_000;
    log.warn('join.rate_limited', { address: '192.0.2.1', count: 5 });
    expect(out).toHaveLength(5);
    expect(out[3]).toMatchObject({ level: 'warn', event: 'join.rate_limited', suppressed: 997, durationMs: 10_000 });
    expect(out[4]).toMatchObject({ event: 'join.rate_limited', address: '192.0.2.1' });
    expect(out[4]).not.toHaveProperty('suppressed');
  });

  test('per event name: one flooded event does not silence another', () => {
    const { log, out } = capture(2);
    for (let i = 0; i < 100; i++) log.warn('report.unauthorized', { gameId: 'g' });
    log.info('join.refused', { code: 'wrong_passcode' });
    log.info('rejoin.refused', { code: 'unknown_seat' });
    expect(out.map((l) => l.event)).toEqual(['report.unauthorized', 'report.unauthorized', 'join.refused', 'rejoin.refused']);
  });

  test('events clients cannot repeat at will are never sampled', () => {
    const { log, out } = capture(1);
    for (let i = 0; i < 50; i++) log.info('game.state', { gameId: `g${i}` });
    expect(out).toHaveLength(50);
    expect(isClientEvent('game.state')).toBe(false);
    for (const event of ['join.ok', 'rejoin.rate_limited', 'watch.refused', 'again.refused', 'invite.refused', 'report.unauthorized', 'relay.refused', 'conn.capped', 'http.error']) {
      expect(isClientEvent(event)).toBe(true);
    }
  });

  test('the summary is written by a timer when the flood stops, and counted for /metrics', async () => {
    const out: Record<string, unknown>[] = [];
    const log = createLogger({ format: 'json', write: (line) => out.push(JSON.parse(line) as Record<string, unknown>), clientLines: { lines: 1, windowMs: 50 } });
    for (let i = 0; i < 10; i++) log.info('watch.refused', { code: 'unknown_game' });
    expect(out).toHaveLength(1);
    await Bun.sleep(120);
    expect(out).toHaveLength(2);
    expect(out[1]).toMatchObject({ level: 'info', event: 'watch.refused', suppressed: 9 });
    const metrics = renderSuppressedLines(log);
    expect(metrics).toContain('# TYPE huddle_log_lines_suppressed_total counter');
    expect(metrics).toContain('huddle_log_lines_suppressed_total{event="watch.refused"} 9\n');
  });

  test('the secret guards still apply: allow-listed fields only, registered secrets redacted', () => {
    const { log, out } = capture(5);
    const secret = 'S3cr3tS3cr3tS3cr3tS3cr3t';
    log.protect(secret);
    const leaky = { message: `token ${secret}`, reportToken: secret } as unknown as Parameters<typeof log.warn>[1];
    log.warn('report.unauthorized', leaky);
    expect(JSON.stringify(out)).not.toContain(secret);
    expect(out[0]).toMatchObject({ message: 'token [redacted]', dropped: 1 });
  });
});
