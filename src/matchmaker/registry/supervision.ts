/**
 * What the launcher's supervision events (ready, heartbeats, seat changes, exit) do to a game, and what a game
 * becomes when its worker exits. The authenticated HTTP report (reports.ts) is what moves a round on; these events
 * only start a game, keep its counts and end it.
 */
import type { Logger } from '../../log.ts';
import { FAILURE_CAUSES, type LauncherEvent } from '../../workers/launcher.ts';
import { GameError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { EndState, GameRecord } from './game-record.ts';
import type { GameLifecycle } from './lifecycle.ts';

type ExitEvent = Extract<LauncherEvent, { type: 'exit' }>;

export interface SupervisionDeps {
  lifecycle: GameLifecycle;
  metrics: Metrics;
  log: Logger;
  /** Monotonic ms. */
  clock: () => number;
  workerStartTimeoutMs: number;
}

export function applyLauncherEvent(deps: SupervisionDeps, record: GameRecord, event: LauncherEvent): void {
  if (!record.slotHeld) return;
  const { lifecycle, metrics, log, clock } = deps;
  switch (event.type) {
    case 'standby':
      // A warm game's, which registry/warm.ts answers with `begin` before its record sees any event.
      return;
    case 'ready': {
      if (record.state !== 'starting') return;
      const seconds = (clock() - record.launchedAt) / 1000;
      metrics.workerStarted(seconds);
      metrics.gamesStarted++;
      record.emptySince = clock();
      lifecycle.transition(record, 'lobby');
      log.info('game.ready', { gameId: record.id, port: record.port, durationMs: Math.round(seconds * 1000) });
      record.local.started.resolve();
      return;
    }
    case 'heartbeat':
      if (event.tick) record.tick = event.tick;
      if (event.seats) record.seatStates = event.seats;
      setPlayers(record, event.players, record.playerNames, clock);
      return;
    case 'players':
      setPlayers(record, event.count, event.names, clock);
      if (event.spectators !== undefined) record.spectators = event.spectators;
      return;
    case 'seat_released':
      // Unknown ids are ignored: the worker may release a seat we never issued only if it is broken, and then
      // there is nothing of ours to close.
      if (record.seats.release(event.clientId)) lifecycle.changed(record);
      return;
    case 'log':
      // The logger's secret guard applies here too; the game id is added by us, not trusted from the worker.
      log.info(`game.${event.event}`, { ...event.fields, gameId: record.id });
      return;
    case 'report':
      // Informational: the HTTP report with the bearer token is what changes state.
      log.info('worker.report', { gameId: record.id, status: event.report.status });
      return;
    case 'exit': {
      const wasStarting = record.state === 'starting';
      const end = endStateFor(record, event);
      lifecycle.release(record, end);
      const fields = { gameId: record.id, state: record.state, reason: end.reason, message: event.detail };
      if (end.state === 'failed') log.warn('game.failed', fields);
      else log.info('game.ended', fields);
      if (wasStarting) {
        const message =
          event.cause === 'start_timeout'
            ? `the game server did not start within ${deps.workerStartTimeoutMs} ms`
            : 'the game server failed to start';
        record.local.started.reject(new GameError('start_failed', message));
      }
      return;
    }
  }
}

function setPlayers(record: GameRecord, count: number, names: string[] | undefined, clock: () => number): void {
  if (count === 0 && record.players !== 0) record.emptySince = clock();
  if (count !== 0) record.emptySince = undefined;
  record.players = count;
  record.playersReported = true;
  record.playerNames = names;
}

/** What a game becomes when its worker exits, from what we know of why. */
export function endStateFor(record: Pick<GameRecord, 'state' | 'endReason' | 'local'>, event: ExitEvent): EndState {
  if (record.state === 'finished') return { state: 'finished', reason: record.endReason ?? 'round_over' };
  if (record.local.stopIntent) return record.local.stopIntent;
  if (FAILURE_CAUSES.has(event.cause)) return { state: 'failed', reason: event.cause };
  // Every seat was given up (or nobody was there when the timer ran out): over, but never ranked.
  if (event.cause === 'exiting' && event.reason === 'round_abandoned' && (record.state === 'in_progress' || record.state === 'lobby')) {
    return { state: 'finished', reason: 'abandoned' };
  }
  if (event.cause === 'exiting' && record.state === 'lobby' && (event.reason === 'lobby_idle' || event.reason === 'lobby_empty')) {
    return { state: 'finished', reason: event.reason };
  }
  // Ending a round without reporting results, or saying "shutdown" when nobody asked, is not a normal end.
  return { state: 'failed', reason: event.reason ? `exited_${event.reason}` : event.cause };
}
