/**
 * Backstops for workers that outstay their welcome; the worker itself is expected to end well before. The sweep
 * decides which games to stop and why; the state machine (lifecycle.ts) stops them.
 */
import type { EndState, GameRecord } from './game-record.ts';
import type { RegistrySettings } from './types.ts';

export const BACKSTOP = {
  /** An empty lobby is ended this long after the worker's own lobby timeout would have. */
  emptyLobbyGraceMs: 30_000,
  /** A round is ended this long after its nominal length (countdown and reporting included). */
  roundGraceMs: 60_000,
  /** A finished game's worker is stopped this long after its results were stored. */
  finishedGraceMs: 30_000,
} as const;

/** The games among `games` to stop now (monotonic `now`), each with what it then becomes. */
export function overstayed(
  games: Iterable<GameRecord>,
  now: number,
  settings: Pick<RegistrySettings, 'lobbyTimeoutSeconds' | 'roundSeconds'>,
): [GameRecord, EndState][] {
  const lobbyLimit = settings.lobbyTimeoutSeconds * 1000 + BACKSTOP.emptyLobbyGraceMs;
  const roundLimit = settings.roundSeconds * 1000 + BACKSTOP.roundGraceMs;
  const out: [GameRecord, EndState][] = [];
  for (const record of games) {
    if (!record.slotHeld || record.local.stopIntent) continue;
    if (record.state === 'lobby' && record.players === 0 && record.emptySince !== undefined && now - record.emptySince > lobbyLimit) {
      out.push([record, { state: 'finished', reason: 'lobby_idle' }]);
    } else if (record.state === 'in_progress' && now - record.stateSince > roundLimit) {
      out.push([record, { state: 'failed', reason: 'round_overrun' }]);
    } else if (record.state === 'finished' && now - record.stateSince > BACKSTOP.finishedGraceMs) {
      out.push([record, { state: 'finished', reason: 'round_over' }]);
    }
  }
  return out;
}
