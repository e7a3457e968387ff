/**
 * Keeps the cluster directory in step with this node's registry (the registry's observer). Every write is queued
 * and retried, so a slow or unreachable Redis never blocks or fails a game's own path: the latest summary of each
 * game wins, key routes and results accumulate until written, and a passcode's release follows its game's end.
 * When the directory reconnects (Redis came back, maybe empty after a restart) the node republishes everything it
 * owns: its live games' summaries, passcodes and key routes, and its recent stored results. A republish first
 * fails the games the store still lists for this node that it no longer runs (it restarted before the cluster
 * noticed: `node_restarted`, ClusterDirectory.reconcile).
 *
 * The one awaited write is the passcode claim: create answers only with a passcode no other node holds.
 */
import { errorMessage } from '../registry/lifecycle.ts';
import type { Logger } from '../../log.ts';
import { GameError } from '../errors.ts';
import type { ObservedGame, RegistryObserver } from '../registry/observer.ts';
import type { Chain } from '../seats.ts';
import type { StoredGame } from '../results-store.ts';
import type { ClusterMetrics } from './cluster-metrics.ts';
import { ClusterUnavailableError, type ClusterDirectory, type GameSummary, keyRoute } from './directory.ts';

/** Tries before a create gives up drawing passcodes (each clash is one chance in a billion per live game). */
const PASSCODE_DRAWS = 8;
/** Stored results republished after an outage (the newest first): the leaderboard's and recent games' worth. */
export const REPUBLISHED_RESULTS = 500;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;

export const CLUSTER_UNAVAILABLE_MESSAGE = 'the shared state store is unreachable; try again shortly';
export const CLUSTER_RETRY_AFTER_SECONDS = 5;

export function clusterUnavailable(): GameError {
  return new GameError('cluster_unavailable', CLUSTER_UNAVAILABLE_MESSAGE, { 'Retry-After': String(CLUSTER_RETRY_AFTER_SECONDS) });
}

export interface PublisherDeps {
  directory: ClusterDirectory;
  /** The registry's live games, walked on republish (games re-adopted after a restart included). */
  liveGames: () => ObservedGame[];
  /** A stored round by id, and the newest stored rounds' ids. */
  storedGame: (gameId: string) => StoredGame | undefined;
  recentGameIds: (limit: number) => string[];
  metrics: ClusterMetrics;
  log: Logger;
  /** False on a single node: its directory keeps nothing, so there is nothing to republish (or log about). */
  shared: boolean;
}

interface Pending {
  summaries: Map<string, GameSummary>;
  /** Live games' passcodes to take again (republish), by game id. */
  claims: Map<string, string>;
  releases: Map<string, string>;
  routes: Map<string, Set<string>>;
  results: Set<string>;
  /** A republish asked for the games this node no longer runs to be failed (ClusterDirectory.reconcile). */
  reconcile: boolean;
}

function emptyPending(): Pending {
  return { summaries: new Map(), claims: new Map(), releases: new Map(), routes: new Map(), results: new Set(), reconcile: false };
}

export class ClusterPublisher implements RegistryObserver {
  private pending = emptyPending();
  /** The routes every group's keys were published under, for the republish (hashes, never keys). */
  private readonly chainRoutes = new WeakMap<Chain, Set<string>>();
  private flushing: Promise<void> | undefined;
  private retryTimer: Timer | undefined;
  private retryMs = RETRY_FIRST_MS;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** A failed reconcile was logged: its retries are not, until one succeeds. */
  private reconcileFailureLogged = false;

  constructor(private readonly deps: PublisherDeps) {
    deps.directory.onReconnect(() => this.republishAll());
  }

  /** Writes waiting (or being retried). */
  get backlog(): number {
    const p = this.pending;
    let routes = 0;
    for (const set of p.routes.values()) routes += set.size;
    return p.summaries.size + p.claims.size + p.releases.size + routes + p.results.size + (p.reconcile ? 1 : 0);
  }

  async claimPasscode(game: ObservedGame, redraw: () => string): Promise<void> {
    const { directory } = this.deps;
    if (!directory.available) throw clusterUnavailable();
    let code = game.passcode;
    for (let draw = 0; draw < PASSCODE_DRAWS; draw++) {
      let taken: boolean;
      try {
        taken = await directory.reservePasscode(code, game.id);
      } catch (error) {
        if (!(error instanceof ClusterUnavailableError)) this.deps.log.error('cluster.claim_failed', { gameId: game.id, message: errorMessage(error) });
        throw clusterUnavailable();
      }
      if (taken) {
        // The game may have ended while the claim was on its way; then its release must follow the claim.
        if (!game.slotHeld) this.gameReleased(game);
        return;
      }
      this.deps.log.info('cluster.passcode_clash', { gameId: game.id });
      code = redraw();
    }
    throw new GameError('start_failed', 'no free passcode could be found in the cluster; try again');
  }

  gameChanged(game: ObservedGame): void {
    this.pending.summaries.set(game.id, this.summary(game));
    this.schedule();
  }

  keysIssued(game: ObservedGame, keys: { rejoinKey: string; watchKey: string; inviteKey: string }): void {
    const hashes = [keyRoute(keys.rejoinKey), keyRoute(keys.watchKey), keyRoute(keys.inviteKey)];
    let chain = this.chainRoutes.get(game.chain);
    if (!chain) this.chainRoutes.set(game.chain, (chain = new Set()));
    const pending = this.pending.routes.get(game.id) ?? new Set<string>();
    for (const hash of hashes) {
      chain.add(hash);
      pending.add(hash);
    }
    this.pending.routes.set(game.id, pending);
    this.schedule();
  }

  gameReleased(game: ObservedGame): void {
    this.pending.summaries.set(game.id, this.summary(game));
    this.pending.claims.delete(game.id);
    this.pending.releases.set(game.id, game.passcode);
    this.schedule();
  }

  resultsStored(gameId: string): void {
    this.pending.results.add(gameId);
    this.schedule();
  }

  /** Everything this node owns, written again: the shared store may have come back empty. */
  republishAll(): void {
    if (this.stopped || !this.deps.shared) return;
    this.deps.metrics.republishes++;
    this.pending.reconcile = true;
    const games = this.deps.liveGames();
    for (const game of games) {
      this.pending.summaries.set(game.id, this.summary(game));
      this.pending.claims.set(game.id, game.passcode);
      const routes = this.chainRoutes.get(game.chain);
      if (routes?.size) this.pending.routes.set(game.chain.gameId, new Set([...(this.pending.routes.get(game.chain.gameId) ?? []), ...routes]));
    }
    let results = 0;
    try {
      for (const id of this.deps.recentGameIds(REPUBLISHED_RESULTS)) {
        this.pending.results.add(id);
        results++;
      }
    } catch (error) {
      this.deps.log.error('cluster.republish_results_failed', { message: errorMessage(error) });
    }
    this.deps.log.info('cluster.republish', { live: games.length, count: results });
    this.retryMs = RETRY_FIRST_MS;
    this.schedule(true);
  }

  /** Resolves once nothing is waiting to be written (or the publisher stopped). For stop and tests. */
  idle(): Promise<void> {
    if (this.backlog === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what it can within `timeoutMs`, then stops retrying. */
  async stop(timeoutMs: number): Promise<void> {
    // A flush already under way holds the last writes (a drain's final states, its passcode releases): wait for
    // it too, or the link closes under it.
    if ((this.backlog > 0 || this.flushing) && this.deps.directory.available) {
      this.schedule(true);
      let timer: Timer | undefined;
      await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private summary(game: ObservedGame): GameSummary & { maxPlayers: number; difficulty: ObservedGame['difficulty'] | null } {
    return {
      gameId: game.id,
      nodeId: this.deps.directory.nodeId,
      state: game.state,
      endReason: game.endReason ?? null,
      createdAt: game.createdAt,
      maxPlayers: game.maxPlayers,
      difficulty: game.difficulty ?? null,
    };
  }

  /** Starts a flush soon (on the next turn, so a burst of changes is one batch), or now after a reconnect. */
  private schedule(now = false): void {
    if (this.stopped || this.flushing) return;
    if (now) clearTimeout(this.retryTimer);
    else if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.flushing = this.flush().finally(() => {
          this.flushing = undefined;
          if (this.backlog > 0) this.schedule();
          else for (const wake of this.idleWaiters.splice(0)) wake();
        });
      },
      now ? 0 : this.backlog > 0 && this.retryMs > RETRY_FIRST_MS ? this.retryMs : 0,
    );
    this.retryTimer.unref?.();
  }

  /** One batch, written in parallel (the client pipelines them); what fails goes back unless something newer came. */
  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = emptyPending();
    const { directory, log } = this.deps;
    let failed = 0;
    // First, before any republished summary: games the store lists for this node that it no longer knows are failed.
    if (batch.reconcile && !(await this.reconcile(batch))) failed++;
    const attempt = async (write: () => Promise<unknown>, putBack: () => void): Promise<void> => {
      try {
        await write();
      } catch (error) {
        failed++;
        putBack();
        if (!(error instanceof ClusterUnavailableError)) log.error('cluster.publish_failed', { message: errorMessage(error) });
      }
    };
    // Claims before routes and summaries; a release only after the game's final summary is written.
    await Promise.all(
      [...batch.claims].map(([gameId, code]) =>
        attempt(
          async () => {
            if (!(await directory.reservePasscode(code, gameId))) log.warn('cluster.passcode_taken', { gameId });
          },
          () => {
            if (!this.pending.releases.has(gameId)) this.pending.claims.set(gameId, code);
          },
        ),
      ),
    );
    await Promise.all([
      ...[...batch.routes].map(([gameId, hashes]) =>
        attempt(
          () => directory.publishKeyRoutes(gameId, [...hashes]),
          () => {
            const again = this.pending.routes.get(gameId) ?? new Set<string>();
            for (const hash of hashes) again.add(hash);
            this.pending.routes.set(gameId, again);
          },
        ),
      ),
      ...[...batch.summaries].map(([gameId, summary]) =>
        attempt(
          () => directory.publishGame(summary),
          () => {
            if (!this.pending.summaries.has(gameId)) this.pending.summaries.set(gameId, summary);
          },
        ),
      ),
      ...[...batch.results].map((gameId) =>
        attempt(
          async () => {
            const stored = this.deps.storedGame(gameId);
            if (stored) await directory.publishResults(stored);
          },
          () => this.pending.results.add(gameId),
        ),
      ),
    ]);
    await Promise.all(
      [...batch.releases].map(([gameId, code]) =>
        attempt(
          () => directory.releasePasscode(code, gameId),
          () => this.pending.releases.set(gameId, code),
        ),
      ),
    );
    if (failed > 0) {
      this.deps.metrics.publishFailures += failed;
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    } else this.retryMs = RETRY_FIRST_MS;
  }

  /**
   * Fails this node's games the store still lists as live but the registry no longer has (ClusterDirectory.reconcile).
   * "Still has" is read at the call, synchronously before the script is sent: a game created meanwhile claims its
   * passcode after the script ran, so it is never failed; a game whose summary is still to be written is known
   * here too (its own summary says how it ended). False if it failed: it is put back, to go with the next retry.
   */
  private async reconcile(batch: Pending): Promise<boolean> {
    const known = new Set(this.deps.liveGames().map((game) => game.id));
    for (const pending of [batch.summaries, this.pending.summaries]) for (const gameId of pending.keys()) known.add(gameId);
    try {
      const failed = await this.deps.directory.reconcile([...known]);
      this.reconcileFailureLogged = false;
      if (failed > 0) this.deps.log.warn('cluster.games_restarted', { count: failed, message: 'games this node no longer runs after its restart were failed (node_restarted)' });
      return true;
    } catch (error) {
      this.pending.reconcile = true;
      if (!this.reconcileFailureLogged) {
        this.reconcileFailureLogged = true;
        this.deps.log.warn('cluster.reconcile_failed', { message: errorMessage(error) });
      }
      return false;
    }
  }
}

