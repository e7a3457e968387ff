/**
 * Any node answers (issue #10): the routes ask the front, the front answers from this node when it can and
 * otherwise forwards to the node the directory names. Rules:
 *
 * - A request this node can answer (its own game, passcode or key; a stored result) never touches the directory,
 *   so joins and rejoins of its own games keep working from memory while Redis is down.
 * - A request forwarded by another node is always answered here (FORWARDED_BY): never forwarded twice.
 * - A passcode, invite, rejoin or watch key another live node issued is forwarded there and is not a wrong guess
 *   here; one nobody knows falls through to this node's own path, which counts the miss against the asking
 *   address's guess budget as it always did. A passcode from an address whose budget is spent is never looked up.
 * - Create starts here while this node has a free slot, else on the live node with the most free slots.
 * - Status and results of a game whose node is gone answer from the directory: its copy of the results, or the
 *   game's summary (`failed`, `node_lost`).
 * - The shared store unreachable: creates and lookups of what this node does not know get 503 cluster_unavailable.
 */
import type { Difficulty } from '../../game/lobby.ts';
import type { Logger } from '../../log.ts';
import { GameError } from '../errors.ts';
import { normalizePasscode } from '../passcodes.ts';
import { errorMessage } from '../registry/lifecycle.ts';
import type { GameRegistry, GameStatus } from '../registry.ts';
import { statusFromStored } from '../registry/read-model.ts';
import { type LeaderboardEntry, type ResultsStore, type StoredGame, withRanks } from '../results-store.ts';
import type { ClusterMetrics, ForwardRoute } from './cluster-metrics.ts';
import { ClusterUnavailableError, type ClusterDirectory, type GameSummary, keyRoute, type NodeInfo } from './directory.ts';
import { FORWARDED_BY, type Forwarder } from './forwarder.ts';
import { clusterUnavailable } from './publisher.ts';

/** What a seat request names: the ref the registry knows it by. */
export type SeatRef = { passcode: string } | { invite: string } | { rejoinKey: string } | { watchKey: string };

export interface FrontDeps {
  directory: ClusterDirectory;
  registry: GameRegistry;
  store: ResultsStore;
  forwarder: Forwarder;
  metrics: ClusterMetrics;
  log: Logger;
  /** How long a forwarded join, rejoin, watch, status or results may take. */
  forwardTimeoutMs: number;
  /** How long a forwarded create or play again may take (the peer waits for its worker to start). */
  createTimeoutMs: number;
}

/** Live states: a game in one of these whose node is gone was lost with it. */
const LIVE_STATES: ReadonlySet<GameSummary['state']> = new Set(['starting', 'lobby', 'in_progress']);

export class ClusterFront {
  /** The directory's leaderboard failing for another reason than an outage: logged when it starts, not per request. */
  private leaderboardFailing = false;

  constructor(private readonly deps: FrontDeps) {}

  get nodeId(): string {
    return this.deps.directory.nodeId;
  }

  /** Sent by another node: answer here, whatever happens. */
  isForwarded(request: Request): boolean {
    return request.headers.has(FORWARDED_BY);
  }

  /**
   * Join (passcode or invite), rejoin, watch and play again. `guessBlocked` says whether the asking address may
   * not try a passcode now (its budget is spent): then the local path answers 429 without a lookup.
   */
  async seat<T>(
    route: Extract<ForwardRoute, 'join' | 'invite' | 'rejoin' | 'watch' | 'again'>,
    request: Request,
    ref: SeatRef,
    body: unknown,
    clientAddress: string,
    local: () => T | Promise<T>,
    guessBlocked: () => boolean = () => false,
  ): Promise<T | Response> {
    if (this.isForwarded(request) || this.deps.registry.knows(ref)) return local();
    if ('passcode' in ref && guessBlocked()) return local();
    const route$ = await this.ask(() => this.routeOf(ref));
    if (!route$ || route$.nodeId === this.nodeId) return local();
    const node = await this.ask(() => this.deps.directory.node(route$.nodeId));
    // Its node is gone: the passcode or key admits nowhere now, as if unknown.
    if (!node) return local();
    const timeoutMs = route === 'again' ? this.deps.createTimeoutMs : this.deps.forwardTimeoutMs;
    return this.forward(route, node, request, 'POST', body, clientAddress, timeoutMs);
  }

  /** Create: here while this node has a free slot, else on the live node with the most; else this node's refusal. */
  async create<T>(request: Request, body: unknown, clientAddress: string, local: () => Promise<T>): Promise<T | Response> {
    if (this.isForwarded(request)) return local();
    if (!this.deps.directory.available) throw clusterUnavailable();
    if (this.deps.registry.hasFreeSlot) return local();
    const nodes = await this.ask(() => this.deps.directory.nodes());
    const candidates = nodes
      .filter((n) => n.nodeId !== this.nodeId && !n.draining && n.live < n.maxGames)
      .sort((a, b) => b.maxGames - b.live - (a.maxGames - a.live));
    let unreachable: GameError | undefined;
    // Two tries: one node that died since its last heartbeat must not fail the create.
    for (const node of candidates.slice(0, 2)) {
      try {
        return await this.forward('create', node, request, 'POST', body, clientAddress, this.deps.createTimeoutMs);
      } catch (error) {
        if (!(error instanceof GameError) || error.code !== 'node_unreachable') throw error;
        unreachable = error;
      }
    }
    if (unreachable) throw unreachable;
    return local();
  }

  /** Public status: this node's own games and stored rounds, else the hosting node's answer, else the directory's. */
  async status(request: Request, gameId: string, local: () => GameStatus): Promise<GameStatus | Response> {
    const { registry, store, directory } = this.deps;
    if (registry.knows({ gameId }) || store.getGame(gameId)) return local();
    // Forwarded here as the game's host, which no longer knows it (it restarted without it): what the directory
    // kept about a game of this node answers (e.g. failed / node_restarted), never forwarded again.
    const forwarded = this.isForwarded(request);
    const summary = forwarded ? await directory.game(gameId).catch(() => undefined) : await this.ask(() => directory.game(gameId));
    if (!summary || (forwarded && summary.nodeId !== this.nodeId)) return local();
    if (summary.nodeId !== this.nodeId) {
      const node = await this.ask(() => directory.node(summary.nodeId));
      if (node) return this.forward('status', node, request, 'GET', undefined, '', this.deps.forwardTimeoutMs);
    }
    // The hosting node is gone (or is this node, restarted without the game): what the directory kept.
    this.deps.metrics.answeredFromDirectory++;
    const copy = await this.ask(() => directory.results(gameId));
    // A still-live summary of this node's own game it does not know: it restarted without it (reconcile ends it so).
    return copy ? statusFromStored(copy) : statusFromSummary(summary, summary.nodeId === this.nodeId ? 'node_restarted' : 'node_lost');
  }

  /** Stored results: this node's store, else the directory's copy of another node's. */
  async results(request: Request, gameId: string, local: () => StoredGame): Promise<StoredGame> {
    const { registry, store, directory } = this.deps;
    // A game of this node is answered here (stored, or not finished yet), with or without Redis.
    if (this.isForwarded(request) || store.getGame(gameId) || registry.knows({ gameId })) return local();
    const copy = await this.ask(() => directory.results(gameId));
    if (copy) {
      this.deps.metrics.answeredFromDirectory++;
      return copy;
    }
    if (await this.ask(() => directory.game(gameId))) throw new GameError('not_finished', 'that game has no results (it has not finished a round)');
    return local();
  }

  /**
   * The cluster's best scores: this node's store merged with the directory's copy of everyone's (its own rounds
   * are in both). The shared store unreachable: this node's own board, rather than none.
   */
  async leaderboard(difficulty: Difficulty, limit: number): Promise<LeaderboardEntry[]> {
    const own = this.deps.store.leaderboard(difficulty, limit);
    let shared: LeaderboardEntry[] = [];
    if (this.deps.directory.available) {
      try {
        shared = await this.deps.directory.leaderboard(difficulty, limit);
        this.leaderboardFailing = false;
      } catch (error) {
        // Once when it starts failing, not once per request: anyone can ask for the leaderboard.
        if (!(error instanceof ClusterUnavailableError) && !this.leaderboardFailing) this.deps.log.error('cluster.leaderboard_failed', { message: errorMessage(error) });
        this.leaderboardFailing = !(error instanceof ClusterUnavailableError);
      }
    }
    return mergeBoards(own, shared, limit);
  }

  private routeOf(ref: SeatRef): Promise<{ gameId: string; nodeId: string } | undefined> {
    const { directory } = this.deps;
    if ('passcode' in ref) {
      const code = normalizePasscode(ref.passcode);
      return code === null ? Promise.resolve(undefined) : directory.passcodeRoute(code);
    }
    const key = 'invite' in ref ? ref.invite : 'rejoinKey' in ref ? ref.rejoinKey : ref.watchKey;
    return directory.keyRoute(keyRoute(key));
  }

  private async forward(
    route: ForwardRoute,
    node: NodeInfo,
    request: Request,
    method: 'GET' | 'POST',
    body: unknown,
    clientAddress: string,
    timeoutMs: number,
  ): Promise<Response> {
    const url = new URL(request.url);
    try {
      const { response, outcome } = await this.deps.forwarder.forward({
        apiUrl: node.apiUrl,
        method,
        path: `${url.pathname}${url.search}`,
        body,
        clientAddress,
        authorization: route === 'create' ? request.headers.get('authorization') : null,
        timeoutMs,
      });
      this.deps.metrics.forwarded(route, outcome);
      return response;
    } catch (error) {
      this.deps.metrics.forwarded(route, 'unreachable');
      // Sampled by the logger like every line a client can cause; the node is named, never what was presented.
      this.deps.log.warn('http.forward_unreachable', { code: route, reason: node.nodeId });
      throw error;
    }
  }

  /** A directory read; unreachable becomes 503 cluster_unavailable. */
  private async ask<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof ClusterUnavailableError) throw clusterUnavailable();
      throw error;
    }
  }
}

/** A game lost with its node, as a status: `failed` / `node_lost` (or `lostReason`) unless it had already ended. */
export function statusFromSummary(summary: GameSummary, lostReason: 'node_lost' | 'node_restarted' = 'node_lost'): GameStatus {
  const extra = summary as GameSummary & { maxPlayers?: unknown; difficulty?: unknown };
  const lost = LIVE_STATES.has(summary.state);
  return {
    gameId: summary.gameId,
    state: lost ? 'failed' : summary.state,
    players: 0,
    spectators: 0,
    maxPlayers: typeof extra.maxPlayers === 'number' && extra.maxPlayers >= 1 ? extra.maxPlayers : 1,
    difficulty: extra.difficulty === 'easy' || extra.difficulty === 'normal' || extra.difficulty === 'hard' ? extra.difficulty : null,
    createdAt: Number.isFinite(summary.createdAt) ? new Date(summary.createdAt).toISOString() : null,
    endReason: lost ? lostReason : summary.endReason,
    next: null,
  };
}

/** Two best-first boards as one (entries in both counted once), re-ranked 1, 2, 2, 4. */
export function mergeBoards(a: readonly LeaderboardEntry[], b: readonly LeaderboardEntry[], limit: number): LeaderboardEntry[] {
  const seen = new Set<string>();
  const merged: LeaderboardEntry[] = [];
  for (const entry of [...a, ...b]) {
    const id = `${entry.gameId}\0${entry.name}\0${entry.score}`;
    if (seen.has(id)) continue;
    seen.add(id);
    merged.push(entry);
  }
  merged.sort((x, y) => y.score - x.score || x.finishedAt - y.finishedAt);
  return withRanks(merged.slice(0, limit));
}
