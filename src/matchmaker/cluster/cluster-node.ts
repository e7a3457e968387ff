/**
 * One node's part of the cluster, assembled: the directory (SingleNodeDirectory, or RedisDirectory with
 * --redis-url), the publisher that keeps it in step with the registry, the front the routes ask, and the metrics.
 * Starting never fails for want of Redis: the directory retries on its own, and the node serves its own games
 * meanwhile (creates get 503 cluster_unavailable until it is reachable).
 */
import type { Logger } from '../../log.ts';
import type { GameRegistry } from '../registry.ts';
import type { ResultsStore } from '../results-store.ts';
import { ClusterMetrics } from './cluster-metrics.ts';
import { ClusterUnavailableError, type ClusterDirectory, type NodeInfo } from './directory.ts';
import { Forwarder } from './forwarder.ts';
import { ClusterFront } from './front.ts';
import { ClusterPublisher } from './publisher.ts';

/** What players of a game this node ends as lost are told. */
export const NODE_LOST_MESSAGE = 'This game server lost contact with the others and was stopped; start a new game.';
/** A forwarded join, rejoin, watch, status or results gets this long; a create its worker's start time on top. */
export const FORWARD_TIMEOUT_MS = 5000;

export interface ClusterNodeOptions {
  directory: ClusterDirectory;
  /** The registry's live games (read lazily: the registry is built with the publisher as its observer). */
  registry: () => GameRegistry;
  store: ResultsStore;
  log: Logger;
  workerStartTimeoutMs: number;
  /** Whether the directory is shared (Redis), for /metrics. */
  shared: boolean;
}

export class ClusterNode {
  readonly metrics = new ClusterMetrics();
  readonly publisher: ClusterPublisher;
  private front$: ClusterFront | undefined;
  private started = false;

  constructor(private readonly options: ClusterNodeOptions) {
    const { directory, store, log } = options;
    this.publisher = new ClusterPublisher({
      directory,
      liveGames: () => options.registry().observedGames(),
      storedGame: (gameId) => store.getGame(gameId),
      recentGameIds: (limit) => store.recentGameIds(limit),
      metrics: this.metrics,
      log,
      shared: options.shared,
    });
    directory.onGamesLost((gameIds) => {
      const ended = options.registry().endLost(gameIds, NODE_LOST_MESSAGE);
      this.metrics.gamesLost += ended;
      log.warn('cluster.games_lost', { count: ended });
    });
  }

  get directory(): ClusterDirectory {
    return this.options.directory;
  }

  /** The routes' entry point (built once the registry exists). */
  get front(): ClusterFront {
    this.front$ ??= new ClusterFront({
      directory: this.options.directory,
      registry: this.options.registry(),
      store: this.options.store,
      forwarder: new Forwarder(this.options.directory.nodeId),
      metrics: this.metrics,
      log: this.options.log,
      forwardTimeoutMs: FORWARD_TIMEOUT_MS,
      createTimeoutMs: this.options.workerStartTimeoutMs + FORWARD_TIMEOUT_MS,
    });
    return this.front$;
  }

  /** Registers this node (heartbeat `self()`); an unreachable store is logged, not fatal: the directory retries. */
  async start(self: () => NodeInfo): Promise<void> {
    this.started = true;
    try {
      await this.options.directory.start(self);
      if (this.options.shared) this.options.log.info('cluster.joined', { reason: this.options.directory.nodeId });
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) throw error;
      this.options.log.warn('cluster.unavailable', { message: `${error.message}; serving this node's games and retrying` });
    }
  }

  /**
   * Writes what is pending (bounded), then leaves the cluster; with `restartWindowMs` (games detached for the next
   * start) the cluster keeps this node's games for that long.
   */
  async stop(timeoutMs = 2000, restartWindowMs?: number): Promise<void> {
    await this.publisher.stop(timeoutMs);
    if (this.started) await this.options.directory.stop(restartWindowMs === undefined ? {} : { restartWindowMs });
  }

  renderMetrics(): string {
    return this.metrics.render({ available: this.options.directory.available, pending: this.publisher.backlog, redis: this.options.shared });
  }
}
