/**
 * The cluster directory: what several huddle nodes share so that any node can answer for any game (DESIGN.md
 * section 9, issue #10). Each game lives on exactly one node, whose registry (and its in-memory GameStateStore)
 * stays authoritative and synchronous for that game: the directory is the shared index in front of the nodes, not
 * a second copy of their state machines. It answers "which node hosts the game this passcode / key / id names",
 * keeps passcodes unique cluster-wide, lists the live nodes with their free slots, keeps each game's public
 * summary (so a status still answers `failed` / `node_lost` once its node is gone) and a copy of every node's
 * stored results (so results and the leaderboard span the cluster; each node's SQLite store stays authoritative
 * for its own games: a result is acknowledged to the game only once its own node stored it, whatever Redis does).
 *
 * Nothing secret ever enters it: keys (rejoin, watch, invite) are named by their SHA-256 hash (`keyRoute`), and
 * private keys and reporting tokens stay on the hosting node. Implementations: `SingleNodeDirectory` (the embedded
 * default: one node, nothing shared, every method answers at once) and `RedisDirectory` (`--redis-url`).
 *
 * Asynchronous, unlike GameStateStore: every call may be a network round trip. Calls fail with
 * `ClusterUnavailableError` when the shared store cannot be reached; callers turn that into 503
 * `cluster_unavailable` for new games and keep serving their own games from memory.
 */
import type { GameState } from '../metrics.ts';
import type { LeaderboardEntry, StoredGame } from '../results-store.ts';

/** Shared state cannot be reached right now (Redis down or unreachable). */
export class ClusterUnavailableError extends Error {
  override readonly name = 'ClusterUnavailableError';
}

/** A node as the others see it. */
export interface NodeInfo {
  /** Stable across restarts of the same node (kept in its data directory), so a restarted node re-adopts its own games. */
  nodeId: string;
  /** Where other nodes reach this node's HTTP API to forward a request (e.g. http://10.0.0.2:8080). */
  apiUrl: string;
  /** Games holding a slot on the node, and its --max-games. */
  live: number;
  maxGames: number;
  /** The node takes no new games (it is shutting down). */
  draining: boolean;
}

/** The public part of a game that any node may answer with when the hosting node cannot (it is gone). */
export interface GameSummary {
  gameId: string;
  nodeId: string;
  state: GameState;
  endReason: string | null;
  /** Unix ms. */
  createdAt: number;
  /** For a status answered from the summary once the node is gone (optional: a summary without them still works). */
  maxPlayers?: number;
  difficulty?: 'easy' | 'normal' | 'hard' | null;
}

export interface ClusterDirectory {
  /** This node. */
  readonly nodeId: string;
  /** False while the shared store cannot be reached (then new games are refused; running ones go on). */
  readonly available: boolean;

  /**
   * Starts heartbeating this node (`self()` is read at every beat) and watching the others. Resolves once this
   * node is registered, or rejects with ClusterUnavailableError (a node may still start then: it retries and
   * serves its own games meanwhile).
   */
  start(self: () => NodeInfo): Promise<void>;
  /**
   * Stops heartbeating and removes this node's heartbeat (its games end through their own summaries). With
   * `restartWindowMs` (games left playing for the next start to adopt) the heartbeat stays that long instead, so
   * the cluster waits that long for the node to come back before it declares the games lost.
   */
  stop(options?: { restartWindowMs?: number }): Promise<void>;
  /**
   * Registers what to call when the shared store is reachable again after an outage, or reachable for the
   * first time: the node then publishes again everything it owns (games, passcodes, key routes, results), since a
   * restarted Redis may have lost it all. Also called once after start.
   */
  onReconnect(listener: () => void): void;
  /**
   * Registers what to call when the cluster declared games of this node lost (its heartbeat was missed while it
   * was cut off): the node must end them, since their passcodes and routes are gone for everyone else.
   */
  onGamesLost(listener: (gameIds: string[]) => void): void;

  /**
   * Ends this node's games the shared store still lists as live but the node no longer runs, and answers how many.
   * Why: a node restarted quickly (kill -9, then started again on the same data dir within the few seconds before
   * the others would reap it) comes back under the same node id, so nobody reaps it, yet its worker games died with
   * it (and with `--launcher process` some may be lost in the restart). Without this their summaries stay
   * `lobby` / `in_progress` and their passcodes and key routes keep sending players to a node that does not know
   * them. Every game of this node not in `liveGameIds` and not already ended becomes `failed` / `node_restarted`,
   * its passcode and key routes go (each only if it still names that game on this node) and it leaves the node's
   * games, all in one step. Called with every game the node still knows (re-adopted ones included) before the
   * republish writes their summaries; idempotent.
   */
  reconcile(liveGameIds: readonly string[]): Promise<number>;

  /** The live nodes (heartbeat fresh), this one included. */
  nodes(): Promise<NodeInfo[]>;
  node(nodeId: string): Promise<NodeInfo | undefined>;

  /** Takes a passcode for a game cluster-wide. False if another game holds it (pick another). */
  reservePasscode(code: string, gameId: string): Promise<boolean>;
  /** Gives a passcode back, only if `gameId` still holds it. */
  releasePasscode(code: string, gameId: string): Promise<void>;
  /** Which game (and node) a passcode admits to. */
  passcodeRoute(code: string): Promise<{ gameId: string; nodeId: string } | undefined>;

  /** Routes for key hashes (hex SHA-256 of a rejoin, watch or invite key) to the node that issued them. */
  publishKeyRoutes(gameId: string, keyHashes: readonly string[]): Promise<void>;
  keyRoute(keyHash: string): Promise<{ gameId: string; nodeId: string } | undefined>;

  /** Writes a game's summary (at create, on every state change, at its end). */
  publishGame(summary: GameSummary): Promise<void>;
  game(gameId: string): Promise<GameSummary | undefined>;

  /** A copy of a stored round's results, for the other nodes' results and leaderboard routes. Idempotent. */
  publishResults(game: StoredGame): Promise<void>;
  results(gameId: string): Promise<StoredGame | undefined>;
  /** The cluster's best scores for a difficulty, best first (the same shape as ResultsStore.leaderboard). */
  leaderboard(difficulty: StoredGame['difficulty'], limit: number): Promise<LeaderboardEntry[]>;
}

/** The hash a key is routed by: hex SHA-256 of its text. Never the key itself. */
export function keyRoute(key: string): string {
  return new Bun.CryptoHasher('sha256').update(key).digest('hex');
}
