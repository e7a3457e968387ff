/**
 * The authenticated state report of a game server (`POST /internal/games/:id/report`): the reporting token is
 * checked, then the report moves the game on. `in_progress` only from the lobby; `finished` and `abandoned` only
 * from in_progress, stored durably before the answer. Repeating the report that made the current state is
 * acknowledged again (the worker may retry after a lost answer).
 */
import type { GameReport } from '../../contract/worker-messages.ts';
import type { Logger } from '../../log.ts';
import { GameError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { ResultsStore, RoundOutcome } from '../results-store.ts';
import { secretMatches } from '../secrets.ts';
import type { GameRecord } from './game-record.ts';
import { errorMessage, type GameLifecycle } from './lifecycle.ts';
import type { RegistryObserver } from './observer.ts';
import type { GameStateStore } from './state-store.ts';
import type { ReportAck } from './types.ts';

export interface ReportDeps {
  state: GameStateStore;
  results: ResultsStore;
  lifecycle: GameLifecycle;
  metrics: Metrics;
  log: Logger;
  /** Wall clock, unix ms. */
  now: () => number;
  /** Monotonic ms. */
  clock: () => number;
  /** Told once a round's results are stored (their copy goes to the cluster; the store stays authoritative). */
  observer: RegistryObserver;
}

/**
 * Throws `not_found`, `game_over` (the game is gone), `unauthorized` (state untouched), `bad_state`, `internal`
 * (store failed; state untouched).
 */
export function handleReport(deps: ReportDeps, gameId: string, bearer: string | undefined, report: GameReport): ReportAck {
  const record = deps.state.game(gameId);
  if (!record) throw new GameError('not_found', 'no such game');
  if (!record.slotHeld) throw new GameError('game_over', `the game has ended (${record.state})`);
  if (!secretMatches(bearer, record.local.reportToken, 'base64url')) {
    deps.log.warn('report.unauthorized', { gameId });
    throw new GameError('unauthorized', 'missing or wrong reporting token', { 'WWW-Authenticate': 'Bearer' });
  }
  if (report.status === 'in_progress') {
    if (record.state === 'in_progress') {
      // A start whose acknowledgement was lost (or came after the worker's report timeout) left this game in
      // in_progress while its worker stayed in the lobby and told the host the start failed. The host's next start,
      // at whatever difficulty, is that start retried: acknowledge it, or the game is stuck until the backstop.
      record.difficulty = report.difficulty;
      record.stateSince = deps.clock();
      deps.lifecycle.changed(record);
      return { gameId, state: record.state };
    }
    if (record.state !== 'lobby') throw new GameError('bad_state', `a game in ${record.state} cannot start`);
    record.difficulty = report.difficulty;
    deps.lifecycle.transition(record, 'in_progress');
    return { gameId, state: record.state };
  }
  // finished or abandoned: the round is over, its results are stored (an abandoned round is kept, never ranked).
  if (record.state === 'finished') return { gameId, state: record.state };
  if (record.state !== 'in_progress') throw new GameError('bad_state', `a game in ${record.state} cannot finish`);
  const outcome: RoundOutcome = report.status === 'abandoned' ? 'abandoned' : 'finished';
  try {
    deps.results.saveGame({
      gameId,
      name: record.name,
      difficulty: record.difficulty ?? 'normal',
      maxPlayers: record.maxPlayers,
      finishedAt: deps.now(),
      outcome,
      results: report.results,
    });
  } catch (error) {
    deps.log.error('store.save_failed', { gameId, message: errorMessage(error) });
    throw new GameError('internal', 'the results could not be stored; report again');
  }
  deps.lifecycle.notify(record, () => deps.observer.resultsStored(gameId));
  finishRound(deps, record, outcome, report.status === 'finished' ? report.hostClientId : undefined);
  return { gameId, state: record.state };
}

function finishRound(deps: ReportDeps, record: GameRecord, outcome: RoundOutcome, hostClientId: string | undefined): void {
  record.outcome = outcome;
  if (hostClientId !== undefined) {
    // Only a seat of this game can be its host; anything else leaves play again to the creator.
    const host = BigInt(hostClientId);
    if (record.seats.get(host)?.kind === 'player') record.hostAtEnd = host;
  }
  record.endReason = outcome === 'abandoned' ? 'abandoned' : 'round_over';
  deps.lifecycle.transition(record, 'finished');
  deps.metrics.gamesFinished++;
}
