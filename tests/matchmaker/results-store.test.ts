import { Database } from 'bun:sqlite';
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULTS_FILE, ResultsStore } from '../../src/matchmaker/results-store.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const game = (
  gameId: string,
  difficulty: 'easy' | 'normal' | 'hard',
  results: { name: string; score: number; left?: boolean }[],
  finishedAt = 1000,
  outcome: 'finished' | 'abandoned' = 'finished',
) => ({
  gameId,
  name: 'host',
  difficulty,
  maxPlayers: 8,
  finishedAt,
  outcome,
  results,
});

describe('ResultsStore', () => {
  test('creates its directory, uses WAL, and is at the latest schema', () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = new ResultsStore(dir);
    expect(store.schemaVersion).toBe(2);
    store.close();
    const db = new Database(join(dir, RESULTS_FILE), { readonly: true });
    expect((db.query('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    db.close();
  });

  test('stores a game once, with ranks; a repeated save changes nothing', () => {
    const store = new ResultsStore(':memory:');
    expect(store.saveGame(game('g1', 'easy', [{ name: 'b', score: 5, left: true }, { name: 'a', score: 9 }, { name: 'c', score: 5, left: false }]))).toBe(true);
    expect(store.saveGame(game('g1', 'hard', [{ name: 'z', score: 99 }]))).toBe(false);
    expect(store.getGame('g1')).toEqual({
      gameId: 'g1',
      name: 'host',
      difficulty: 'easy',
      maxPlayers: 8,
      finishedAt: 1000,
      outcome: 'finished',
      players: [
        { rank: 1, name: 'a', score: 9, left: false },
        { rank: 2, name: 'b', score: 5, left: true },
        { rank: 2, name: 'c', score: 5, left: false },
      ],
    });
    expect(store.getGame('nope')).toBeUndefined();
    store.close();
  });

  test('leaderboard: best scores per difficulty, earlier game wins a tie, limited', () => {
    const store = new ResultsStore(':memory:');
    store.saveGame(game('g1', 'normal', [{ name: 'a', score: 5 }, { name: 'b', score: 7 }], 1000));
    store.saveGame(game('g2', 'normal', [{ name: 'c', score: 7 }, { name: 'd', score: 1 }], 2000));
    store.saveGame(game('g3', 'hard', [{ name: 'e', score: 100 }], 3000));
    expect(store.leaderboard('normal', 3)).toEqual([
      { rank: 1, name: 'b', score: 7, gameId: 'g1', finishedAt: 1000 },
      { rank: 1, name: 'c', score: 7, gameId: 'g2', finishedAt: 2000 },
      { rank: 3, name: 'a', score: 5, gameId: 'g1', finishedAt: 1000 },
    ]);
    expect(store.leaderboard('hard', 10).map((e) => e.name)).toEqual(['e']);
    expect(store.leaderboard('easy', 10)).toEqual([]);
    store.close();
  });

  test('an abandoned round is stored with its outcome and never ranked', () => {
    const store = new ResultsStore(':memory:');
    store.saveGame(game('g1', 'hard', [{ name: 'alice', score: 0, left: true }, { name: 'bob', score: 0, left: true }], 1000, 'abandoned'));
    store.saveGame(game('g2', 'hard', [{ name: 'carol', score: 2 }], 2000));
    expect(store.getGame('g1')).toMatchObject({ outcome: 'abandoned', players: [{ rank: 1, name: 'alice', left: true }, { rank: 1, name: 'bob', left: true }] });
    expect(store.leaderboard('hard', 10).map((e) => [e.name, e.gameId])).toEqual([['carol', 'g2']]);
    store.close();
  });

  test('a data dir from before outcomes and "left" is migrated: its rows read as finished, nobody left, still ranked', () => {
    const dir = tempDir();
    // The version-1 schema and a row, exactly as an older huddle wrote them.
    const old = new Database(join(dir, RESULTS_FILE), { create: true, strict: true });
    old.run(`CREATE TABLE games (id TEXT PRIMARY KEY, name TEXT NOT NULL, difficulty TEXT NOT NULL, max_players INTEGER NOT NULL, finished_at INTEGER NOT NULL) STRICT;
      CREATE TABLE scores (game_id TEXT NOT NULL REFERENCES games(id) ON DELETE CASCADE, position INTEGER NOT NULL, player TEXT NOT NULL, score INTEGER NOT NULL, PRIMARY KEY (game_id, position)) STRICT;
      CREATE INDEX games_by_difficulty ON games(difficulty, finished_at);`);
    old.run("INSERT INTO games VALUES ('old1', 'host', 'normal', 4, 500)");
    old.run("INSERT INTO scores VALUES ('old1', 0, 'ada', 7), ('old1', 1, 'bob', 3)");
    old.run('PRAGMA user_version = 1');
    old.close();

    const store = new ResultsStore(dir);
    expect(store.schemaVersion).toBe(2);
    expect(store.getGame('old1')).toEqual({
      gameId: 'old1',
      name: 'host',
      difficulty: 'normal',
      maxPlayers: 4,
      finishedAt: 500,
      outcome: 'finished',
      players: [
        { rank: 1, name: 'ada', score: 7, left: false },
        { rank: 2, name: 'bob', score: 3, left: false },
      ],
    });
    expect(store.leaderboard('normal', 5).map((e) => e.name)).toEqual(['ada', 'bob']);
    // New rows go in beside the old ones.
    expect(store.saveGame(game('new1', 'normal', [{ name: 'cy', score: 9, left: true }], 600, 'abandoned'))).toBe(true);
    expect(store.leaderboard('normal', 5).map((e) => e.name)).toEqual(['ada', 'bob']);
    store.close();
  });

  test('results survive a restart (close and reopen the same directory)', () => {
    const dir = tempDir();
    const first = new ResultsStore(dir);
    first.saveGame(game('g1', 'hard', [{ name: 'a', score: 3 }]));
    first.close();
    const second = new ResultsStore(dir);
    expect(second.getGame('g1')?.players).toEqual([{ rank: 1, name: 'a', score: 3, left: false }]);
    expect(second.leaderboard('hard', 5)).toHaveLength(1);
    expect(second.schemaVersion).toBe(2);
    second.close();
  });

  test('refuses a store from a newer huddle instead of damaging it', () => {
    const dir = tempDir();
    new ResultsStore(dir).close();
    const db = new Database(join(dir, RESULTS_FILE));
    db.run('PRAGMA user_version = 99');
    db.close();
    expect(() => new ResultsStore(dir)).toThrow('newer than this huddle');
  });
});
