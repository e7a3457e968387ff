/**
 * An in-memory cluster directory shared by several in-process nodes (test code): what RedisDirectory keeps, in
 * Maps, with the faults a test needs at hand. `FakeCluster` is the shared store ("Redis"); `cluster.directory(id)`
 * is one node's view of it. A node's directory can be cut off (`setDown`: every call throws
 * ClusterUnavailableError, `available` is false) and reconnected (lost-games notice first, then onReconnect, as
 * the contract says); a node can stop beating without leaving (`crash`); `reap` declares the nodes whose beat is
 * stale lost (their live games' summaries become failed/node_lost, their passcodes and routes go); `reconcile`
 * fails a restarted node's games it no longer runs (failed/node_restarted); `wipe` is a
 * Redis restarted empty. Every write is also kept in `writes`, so a test can scan all that was ever stored.
 */
import { ClusterUnavailableError, type ClusterDirectory, type GameSummary, type NodeInfo } from '../../src/matchmaker/cluster/directory.ts';
import type { LeaderboardEntry, StoredGame } from '../../src/matchmaker/results-store.ts';

type Route = { gameId: string; nodeId: string };

export class FakeCluster {
  readonly beats = new Map<string, { info: NodeInfo; at: number }>();
  readonly passcodes = new Map<string, Route>();
  readonly routes = new Map<string, Route>();
  readonly games = new Map<string, GameSummary>();
  readonly results = new Map<string, StoredGame>();
  /** Node id → games declared lost while it was away (its mailbox). */
  readonly lost = new Map<string, string[]>();
  /** Everything ever written, as text, for the secret scans. */
  readonly writes: string[] = [];
  private readonly views = new Map<string, FakeDirectory>();

  constructor(
    readonly options: { beatMs: number; ttlMs: number } = { beatMs: 50, ttlMs: 300 },
  ) {}

  directory(nodeId: string): FakeDirectory {
    const view = new FakeDirectory(this, nodeId);
    this.views.set(nodeId, view);
    return view;
  }

  view(nodeId: string): FakeDirectory | undefined {
    return this.views.get(nodeId);
  }

  liveNode(nodeId: string): NodeInfo | undefined {
    const beat = this.beats.get(nodeId);
    return beat && performance.now() - beat.at <= this.options.ttlMs ? beat.info : undefined;
  }

  /** Declares every node with a stale beat lost, as the other nodes' reaper would. Returns their ids. */
  reap(): string[] {
    const reaped: string[] = [];
    for (const [nodeId] of this.beats) {
      if (this.liveNode(nodeId)) continue;
      this.beats.delete(nodeId);
      const ids: string[] = [];
      for (const summary of this.games.values()) {
        if (summary.nodeId !== nodeId || summary.state === 'finished' || summary.state === 'failed') continue;
        this.games.set(summary.gameId, { ...summary, state: 'failed', endReason: 'node_lost' });
        ids.push(summary.gameId);
      }
      for (const [code, route] of this.passcodes) if (route.nodeId === nodeId) this.passcodes.delete(code);
      for (const [hash, route] of this.routes) if (route.nodeId === nodeId) this.routes.delete(hash);
      this.lost.set(nodeId, [...(this.lost.get(nodeId) ?? []), ...ids]);
      reaped.push(nodeId);
    }
    return reaped;
  }

  /** Redis restarted with nothing in it. */
  wipe(): void {
    for (const map of [this.beats, this.passcodes, this.routes, this.games, this.results, this.lost]) map.clear();
  }

  record(...parts: unknown[]): void {
    this.writes.push(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
  }
}

export class FakeDirectory implements ClusterDirectory {
  private down = false;
  private self: (() => NodeInfo) | undefined;
  private timer: Timer | undefined;
  private beating = false;
  private readonly reconnects: (() => void)[] = [];
  private readonly lostListeners: ((gameIds: string[]) => void)[] = [];
  /** Calls made to this view, by method (for the "never touched the directory" checks). */
  readonly calls = new Map<string, number>();

  constructor(
    private readonly cluster: FakeCluster,
    readonly nodeId: string,
  ) {}

  get available(): boolean {
    return !this.down && this.self !== undefined;
  }

  async start(self: () => NodeInfo): Promise<void> {
    this.self = self;
    this.beating = true;
    this.timer = setInterval(() => this.beat(), this.cluster.options.beatMs);
    if (this.down) throw new ClusterUnavailableError('fake: down at start');
    this.beat();
    for (const listener of this.reconnects) listener();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.beating = false;
    if (!this.down) this.cluster.beats.delete(this.nodeId);
  }

  /** Stops beating without leaving: what kill -9 looks like to the others. */
  crash(): void {
    clearInterval(this.timer);
    this.beating = false;
  }

  /** Cuts this node off from the shared store, or brings it back (then: lost notice, then onReconnect). */
  setDown(down: boolean): void {
    const was = this.down;
    this.down = down;
    if (was && !down && this.self) {
      this.beat();
      const lost = this.cluster.lost.get(this.nodeId);
      if (lost?.length) {
        this.cluster.lost.delete(this.nodeId);
        for (const listener of this.lostListeners) listener(lost);
      }
      for (const listener of this.reconnects) listener();
    }
  }

  onReconnect(listener: () => void): void {
    this.reconnects.push(listener);
  }

  onGamesLost(listener: (gameIds: string[]) => void): void {
    this.lostListeners.push(listener);
  }

  /** As RECONCILE: this node's unended games not in the list become failed/node_restarted, their routes go. */
  async reconcile(liveGameIds: readonly string[]): Promise<number> {
    this.check('reconcile');
    const live = new Set(liveGameIds);
    const mine = new Set<string>();
    for (const summary of this.cluster.games.values()) if (summary.nodeId === this.nodeId) mine.add(summary.gameId);
    for (const routes of [this.cluster.passcodes, this.cluster.routes]) for (const route of routes.values()) if (route.nodeId === this.nodeId) mine.add(route.gameId);
    let failed = 0;
    for (const gameId of mine) {
      const summary = this.cluster.games.get(gameId);
      if (live.has(gameId) || summary?.state === 'finished' || summary?.state === 'failed') continue;
      if (summary) this.cluster.games.set(gameId, { ...summary, state: 'failed', endReason: 'node_restarted' });
      for (const routes of [this.cluster.passcodes, this.cluster.routes]) {
        for (const [key, route] of routes) if (route.gameId === gameId && route.nodeId === this.nodeId) routes.delete(key);
      }
      failed++;
    }
    return failed;
  }

  async nodes(): Promise<NodeInfo[]> {
    this.check('nodes');
    return [...this.cluster.beats.keys()].flatMap((id) => {
      const info = this.cluster.liveNode(id);
      return info ? [info] : [];
    });
  }

  async node(nodeId: string): Promise<NodeInfo | undefined> {
    this.check('node');
    return this.cluster.liveNode(nodeId);
  }

  async reservePasscode(code: string, gameId: string): Promise<boolean> {
    this.check('reservePasscode');
    const held = this.cluster.passcodes.get(code);
    if (held && held.gameId !== gameId) return false;
    this.cluster.passcodes.set(code, { gameId, nodeId: this.nodeId });
    this.cluster.record('passcode', code, gameId);
    return true;
  }

  async releasePasscode(code: string, gameId: string): Promise<void> {
    this.check('releasePasscode');
    if (this.cluster.passcodes.get(code)?.gameId === gameId) this.cluster.passcodes.delete(code);
  }

  async passcodeRoute(code: string): Promise<Route | undefined> {
    this.check('passcodeRoute');
    return this.cluster.passcodes.get(code);
  }

  async publishKeyRoutes(gameId: string, keyHashes: readonly string[]): Promise<void> {
    this.check('publishKeyRoutes');
    for (const hash of keyHashes) this.cluster.routes.set(hash, { gameId, nodeId: this.nodeId });
    this.cluster.record('routes', gameId, keyHashes);
  }

  async keyRoute(keyHash: string): Promise<Route | undefined> {
    this.check('keyRoute');
    return this.cluster.routes.get(keyHash);
  }

  async publishGame(summary: GameSummary): Promise<void> {
    this.check('publishGame');
    this.cluster.games.set(summary.gameId, { ...summary });
    this.cluster.record('game', summary);
  }

  async game(gameId: string): Promise<GameSummary | undefined> {
    this.check('game');
    return this.cluster.games.get(gameId);
  }

  async publishResults(game: StoredGame): Promise<void> {
    this.check('publishResults');
    this.cluster.results.set(game.gameId, structuredClone(game));
    this.cluster.record('results', game);
  }

  async results(gameId: string): Promise<StoredGame | undefined> {
    this.check('results');
    return this.cluster.results.get(gameId);
  }

  async leaderboard(difficulty: StoredGame['difficulty'], limit: number): Promise<LeaderboardEntry[]> {
    this.check('leaderboard');
    const rows: Omit<LeaderboardEntry, 'rank'>[] = [];
    for (const game of this.cluster.results.values()) {
      if (game.difficulty !== difficulty || game.outcome !== 'finished') continue;
      for (const p of game.players) rows.push({ name: p.name, score: p.score, gameId: game.gameId, finishedAt: game.finishedAt });
    }
    rows.sort((a, b) => b.score - a.score || a.finishedAt - b.finishedAt);
    return rows.slice(0, limit).map((row, i) => ({ ...row, rank: i + 1 }));
  }

  private beat(): void {
    if (!this.beating || this.down || !this.self) return;
    this.cluster.beats.set(this.nodeId, { info: { ...this.self(), nodeId: this.nodeId }, at: performance.now() });
  }

  private check(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    if (this.down) throw new ClusterUnavailableError('fake: the shared store is down');
  }
}
