/**
 * Reports from a game to the matchmaker: `POST HUDDLE_REPORT_URL` with the bearer reporting token (the
 * authenticated contract, which also works when the game runs out of process), mirrored on the message channel
 * for supervision. The game acts only on the HTTP answer.
 */
import type { ReportOutcome } from '../game/session.ts';
import type { GameReport, WorkerToMatchmaker } from '../contract/worker-messages.ts';
import type { WorkerEnv } from './worker-env.ts';

export const REPORT_TIMEOUT_MS = 3000;
/** Results are worth retrying (a restart of the matchmaker's store, a lost connection); a start is not. */
const FINISHED_ATTEMPTS = 3;
const RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 2000;

export interface ReporterOptions {
  /**
   * Keep retrying a finished or abandoned report this long instead of three tries: a `huddle game` process
   * outlives a matchmaker restart, and the next matchmaker stores what it reports (bounded all the same).
   */
  retryForMs?: number;
  /** Where to report now, when the matchmaker's address may change between its starts (the locator file). */
  reportUrl?: () => string;
}

export function createSessionHostReporter(
  env: Pick<WorkerEnv, 'reportUrl' | 'reportToken'>,
  post: (message: WorkerToMatchmaker) => void,
  fetchImpl: typeof fetch = fetch,
  options: ReporterOptions = {},
): (report: GameReport) => Promise<ReportOutcome> {
  const target = (): Pick<WorkerEnv, 'reportUrl' | 'reportToken'> =>
    options.reportUrl ? { reportUrl: options.reportUrl(), reportToken: env.reportToken } : env;
  return async (report) => {
    post({ type: 'report', report });
    // An abandoned round is a result too: kept (never ranked), so worth the same retries.
    const once = report.status === 'in_progress';
    const attempts = once ? 1 : FINISHED_ATTEMPTS;
    const deadline = Date.now() + (once ? 0 : (options.retryForMs ?? 0));
    let outcome: ReportOutcome & { retry?: boolean } = { ok: false, reason: 'not sent' };
    for (let attempt = 1; ; attempt++) {
      outcome = await sendOnce(target(), report, fetchImpl);
      if (outcome.ok || !outcome.retry) break;
      if (attempt >= attempts && Date.now() >= deadline) break;
      await Bun.sleep(Math.min(RETRY_DELAY_MS * attempt, MAX_RETRY_DELAY_MS));
    }
    return outcome.ok ? { ok: true } : { ok: false, reason: outcome.reason };
  };
}

async function sendOnce(
  env: Pick<WorkerEnv, 'reportUrl' | 'reportToken'>,
  report: GameReport,
  fetchImpl: typeof fetch,
): Promise<{ ok: true } | { ok: false; reason: string; retry: boolean }> {
  let response: Response;
  try {
    response = await fetchImpl(env.reportUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.reportToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { ok: false, reason: timedOut ? 'the matchmaker did not answer in time' : 'the matchmaker could not be reached', retry: true };
  }
  if (response.ok) return { ok: true };
  const body: unknown = await response.json().catch(() => null);
  const message = errorMessage(body) ?? `the matchmaker answered ${response.status}`;
  return { ok: false, reason: message, retry: response.status >= 500 };
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null || !('message' in error)) return undefined;
  const message = (error as { message: unknown }).message;
  return typeof message === 'string' ? message.slice(0, 200) : undefined;
}
