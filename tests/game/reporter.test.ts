import { describe, expect, test } from 'bun:test';
import { createSessionHostReporter } from '../../src/workers/reporter.ts';
import type { GameReport, WorkerToMatchmaker } from '../../src/workers/messages.ts';

const env = { reportUrl: 'http://127.0.0.1:9/internal/games/g/report', reportToken: 'x'.repeat(43) };

/** A fetch that answers 503 a few times, then 200, and records what it was sent. */
function flaky(failures: number) {
  const bodies: unknown[] = [];
  const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
    bodies.push(JSON.parse(String(init?.body)));
    if (bodies.length <= failures) return Response.json({ error: { code: 'store', message: 'the store is busy' } }, { status: 503 });
    return new Response(null, { status: 204 });
  }) as typeof fetch;
  return { bodies, fetchImpl };
}

describe('reporter', () => {
  test('an abandoned round is retried like a finished one, and mirrored on the channel', async () => {
    const posted: WorkerToMatchmaker[] = [];
    const { bodies, fetchImpl } = flaky(2);
    const report: GameReport = { status: 'abandoned', results: [{ name: 'ann', score: 3, left: true }] };
    expect(await createSessionHostReporter(env, (m) => posted.push(m), fetchImpl)(report)).toEqual({ ok: true });
    expect(bodies).toEqual([report, report, report]);
    expect(posted).toEqual([{ type: 'report', report }]);
  });

  test('the retries are bounded: a matchmaker that keeps failing gets three tries, then the reason; the token stays off the channel', async () => {
    const posted: WorkerToMatchmaker[] = [];
    const { bodies, fetchImpl } = flaky(10);
    const report: GameReport = { status: 'abandoned', results: [{ name: 'ann', score: 3, left: true }] };
    expect(await createSessionHostReporter(env, (m) => posted.push(m), fetchImpl)(report)).toEqual({ ok: false, reason: 'the store is busy' });
    expect(bodies).toHaveLength(3);
    expect(JSON.stringify(posted)).not.toContain(env.reportToken);
  });

  test('a start is asked once', async () => {
    const { bodies, fetchImpl } = flaky(5);
    const outcome = await createSessionHostReporter(env, () => {}, fetchImpl)({ status: 'in_progress', difficulty: 'easy' });
    expect(outcome).toEqual({ ok: false, reason: 'the store is busy' });
    expect(bodies).toHaveLength(1);
  });
});
