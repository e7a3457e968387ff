/**
 * The read layer: a game's public status, its stored results, the counts for /metrics and the operator's view,
 * over the game state store (and the results store for games no longer in it). Never a secret.
 */
import type { TickStats } from '../../contract/worker-messages.ts';
import { GameError } from '../errors.ts';
import { GAME_STATES, type GameState, type LiveSnapshot } from '../metrics.ts';
import type { ResultsStore, StoredGame } from '../results-store.ts';
import { seatsTaken } from './game-record.ts';
import type { GameStateStore } from './state-store.ts';
import type { AdminGame, GameStatus } from './types.ts';

export class GameReads {
  constructor(
    private readonly state: GameStateStore,
    private readonly results: ResultsStore,
    /** Wall clock, unix ms. */
    private readonly now: () => number,
  ) {}

  /** Public status. Games no longer in the state store are looked up in the results store. */
  status(gameId: string): GameStatus {
    const record = this.state.game(gameId);
    if (record) {
      return {
        gameId,
        state: record.state,
        players: record.players,
        spectators: record.spectators,
        maxPlayers: record.maxPlayers,
        difficulty: record.difficulty ?? null,
        createdAt: new Date(record.createdAt).toISOString(),
        endReason: record.endReason ?? null,
        next: record.next ? { state: record.next.state, gameId: record.next.gameId, message: record.next.message } : null,
      };
    }
    const stored = this.results.getGame(gameId);
    if (!stored) throw new GameError('not_found', 'no such game');
    return statusFromStored(stored);
  }

  /** Stored results of a finished game. Throws `not_found`, or `not_finished` for a game without results. */
  stored(gameId: string): StoredGame {
    const stored = this.results.getGame(gameId);
    if (stored) return stored;
    if (this.state.game(gameId)) throw new GameError('not_finished', 'that game has no results (it has not finished a round)');
    throw new GameError('not_found', 'no such game');
  }

  /** Counts for /metrics, and the worst live game loop's tick lateness and work p99 (ms, last heartbeat each). */
  snapshot(): Required<Omit<LiveSnapshot, 'warm'>> {
    const gamesByState = Object.fromEntries(GAME_STATES.map((s) => [s, 0])) as Record<GameState, number>;
    let playersConnected = 0;
    let worstTickLatenessP99Ms = 0;
    let worstTickWorkP99Ms = 0;
    for (const record of this.state.liveGames()) {
      gamesByState[record.state]++;
      playersConnected += record.players;
      worstTickLatenessP99Ms = Math.max(worstTickLatenessP99Ms, record.tick?.lateness.p99Ms ?? 0);
      worstTickWorkP99Ms = Math.max(worstTickWorkP99Ms, record.tick?.work.p99Ms ?? 0);
    }
    return { gamesByState, playersConnected, worstTickLatenessP99Ms, worstTickWorkP99Ms };
  }

  /** The live games for the admin view, oldest first. */
  adminGames(): AdminGame[] {
    const now = this.now();
    return this.state.liveGames().map((record) => ({
      gameId: record.id,
      name: record.name,
      state: record.state,
      difficulty: record.difficulty ?? null,
      createdAt: new Date(record.createdAt).toISOString(),
      ageSeconds: Math.max(0, Math.round((now - record.createdAt) / 1000)),
      maxPlayers: record.maxPlayers,
      seatsTaken: seatsTaken(record),
      players:
        record.seatStates?.map((s) => ({ name: s.name, connected: s.connected, pingMs: s.pingMs })) ??
        (record.playerNames ?? record.seats.players().map((s) => s.name)).map((name) => ({ name, connected: null, pingMs: null })),
      spectators: record.spectators,
      tick: record.tick ?? null,
      ending: record.local.stopIntent !== undefined,
    }));
  }

  /** Latest tick statistics of each live game, for load benchmarks. */
  tickStats(): { gameId: string; players: number; tick: TickStats }[] {
    const out: { gameId: string; players: number; tick: TickStats }[] = [];
    for (const record of this.state.liveGames()) if (record.tick) out.push({ gameId: record.id, players: record.players, tick: record.tick });
    return out;
  }
}

/** A round known only from its stored results (the game itself is forgotten, or on a node that is gone), as a status. */
export function statusFromStored(stored: StoredGame): GameStatus {
  return {
    gameId: stored.gameId,
    state: 'finished',
    players: stored.players.length,
    spectators: 0,
    maxPlayers: stored.maxPlayers,
    difficulty: stored.difficulty,
    createdAt: null,
    endReason: stored.outcome === 'abandoned' ? 'abandoned' : 'round_over',
    next: null,
  };
}
