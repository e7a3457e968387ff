/**
 * Durable results: every finished or abandoned round with its players' scores, in SQLite (WAL, synchronous=FULL so a commit
 * that returned survives a power cut — the worker is acknowledged only after it). Schema changes are migrations
 * keyed by `PRAGMA user_version`, applied in order at open.
 */
import { Database } from 'bun:sqlite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Difficulty } from '../game/lobby.ts';

export const RESULTS_FILE = 'results.sqlite';

const MIGRATIONS: readonly string[] = [
  // 1: games and their scores.
  `CREATE TABLE games (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     difficulty TEXT NOT NULL,
     max_players INTEGER NOT NULL,
     finished_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE scores (
     game_id TEXT NOT NULL REFERENCES games(id) ON DELETE CASCADE,
     position INTEGER NOT NULL,
     player TEXT NOT NULL,
     score INTEGER NOT NULL,
     PRIMARY KEY (game_id, position)
   ) STRICT;
   CREATE INDEX games_by_difficulty ON games(difficulty, finished_at);`,
  // 2: abandoned rounds (kept, never ranked) and players who left before the end. Rows from before were all
  // rounds played to the end by players who stayed, hence the defaults.
  `ALTER TABLE games ADD COLUMN outcome TEXT NOT NULL DEFAULT 'finished' CHECK (outcome IN ('finished', 'abandoned'));
   ALTER TABLE scores ADD COLUMN left_early INTEGER NOT NULL DEFAULT 0 CHECK (left_early IN (0, 1));`,
];

/** How a stored round ended: played to the end, or every player gone (never ranked). */
export type RoundOutcome = 'finished' | 'abandoned';

export interface PlayerScore {
  name: string;
  score: number;
  /** Left (or did not come back in time) before the round ended. */
  left?: boolean;
}

export interface StoredGame {
  gameId: string;
  name: string;
  difficulty: Difficulty;
  maxPlayers: number;
  /** Unix milliseconds. */
  finishedAt: number;
  outcome: RoundOutcome;
  /** Best first; equal scores share a rank. */
  players: { rank: number; name: string; score: number; left: boolean }[];
}

export interface LeaderboardEntry {
  rank: number;
  name: string;
  score: number;
  gameId: string;
  finishedAt: number;
}

export class ResultsStore {
  private readonly db: Database;

  /** Opens (creating the directory and file if missing) and migrates. `':memory:'` for a throwaway store. */
  constructor(dataDir: string) {
    if (dataDir === ':memory:') this.db = new Database(':memory:', { strict: true });
    else {
      mkdirSync(dataDir, { recursive: true });
      this.db = new Database(join(dataDir, RESULTS_FILE), { create: true, strict: true });
    }
    this.db.run('PRAGMA journal_mode = WAL');
    this.db.run('PRAGMA synchronous = FULL');
    this.db.run('PRAGMA foreign_keys = ON');
    this.db.run('PRAGMA busy_timeout = 2000');
    this.migrate();
  }

  get schemaVersion(): number {
    return (this.db.query('PRAGMA user_version').get() as { user_version: number }).user_version;
  }

  private migrate(): void {
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) {
      throw new Error(`results store schema ${current} is newer than this huddle (${MIGRATIONS.length}); refusing to touch it`);
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.run(MIGRATIONS[version] as string);
        this.db.run(`PRAGMA user_version = ${version + 1}`);
      })();
    }
  }

  /**
   * Stores a round's results, atomically. Returns false (and changes nothing) if the game is already stored, so a
   * worker retrying a report whose acknowledgement was lost is harmless.
   */
  saveGame(game: Omit<StoredGame, 'players'> & { results: readonly PlayerScore[] }): boolean {
    const ordered = [...game.results].sort((a, b) => b.score - a.score);
    return this.db.transaction(() => {
      const inserted = this.db
        .query(
          `INSERT OR IGNORE INTO games (id, name, difficulty, max_players, finished_at, outcome)
           VALUES ($id, $name, $difficulty, $maxPlayers, $finishedAt, $outcome)`,
        )
        .run({
          id: game.gameId,
          name: game.name,
          difficulty: game.difficulty,
          maxPlayers: game.maxPlayers,
          finishedAt: game.finishedAt,
          outcome: game.outcome,
        });
      if (inserted.changes === 0) return false;
      const insertScore = this.db.query(
        'INSERT INTO scores (game_id, position, player, score, left_early) VALUES ($gameId, $position, $player, $score, $left)',
      );
      ordered.forEach((p, i) => insertScore.run({ gameId: game.gameId, position: i, player: p.name, score: p.score, left: p.left ? 1 : 0 }));
      return true;
    })();
  }

  getGame(gameId: string): StoredGame | undefined {
    const row = this.db.query('SELECT id, name, difficulty, max_players, finished_at, outcome FROM games WHERE id = $id').get({ id: gameId }) as
      | { id: string; name: string; difficulty: Difficulty; max_players: number; finished_at: number; outcome: RoundOutcome }
      | null;
    if (!row) return undefined;
    const scores = this.db
      .query('SELECT player, score, left_early FROM scores WHERE game_id = $id ORDER BY position')
      .all({ id: gameId }) as { player: string; score: number; left_early: number }[];
    return {
      gameId: row.id,
      name: row.name,
      difficulty: row.difficulty,
      maxPlayers: row.max_players,
      finishedAt: row.finished_at,
      outcome: row.outcome,
      players: withRanks(scores.map((s) => ({ name: s.player, score: s.score, left: s.left_early === 1 }))),
    };
  }

  /** Best scores per difficulty, highest first (earlier wins a tie), at most `limit` each; abandoned rounds never rank. */
  leaderboard(difficulty: Difficulty, limit: number): LeaderboardEntry[] {
    const rows = this.db
      .query(
        `SELECT s.player AS name, s.score AS score, g.id AS gameId, g.finished_at AS finishedAt
           FROM scores s JOIN games g ON g.id = s.game_id
          WHERE g.difficulty = $difficulty AND g.outcome = 'finished'
          ORDER BY s.score DESC, g.finished_at ASC, s.position ASC
          LIMIT $limit`,
      )
      .all({ difficulty, limit }) as Omit<LeaderboardEntry, 'rank'>[];
    return withRanks(rows);
  }

  /** The ids of the most recently finished rounds, newest first (what a node republishes to the cluster). */
  recentGameIds(limit: number): string[] {
    const rows = this.db.query('SELECT id FROM games ORDER BY finished_at DESC LIMIT $limit').all({ limit }) as { id: string }[];
    return rows.map((row) => row.id);
  }

  close(): void {
    this.db.close();
  }
}

/** Standard competition ranking (1, 2, 2, 4) over rows already sorted best first (also the cluster's boards). */
export function withRanks<T extends { score: number }>(rows: T[]): (T & { rank: number })[] {
  let rank = 0;
  return rows.map((row, i) => {
    if (i === 0 || row.score !== rows[i - 1]?.score) rank = i + 1;
    return { ...row, rank };
  });
}
