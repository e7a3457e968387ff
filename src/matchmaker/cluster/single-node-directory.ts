/**
 * The embedded default directory (no `--redis-url`): one node, nothing shared, always available, no timers.
 * Passcodes are already unique in the node's own PasscodeBook, so every reservation succeeds; lookups of routes,
 * summaries, results and the leaderboard find nothing, because the node's own registry and results store answer
 * for every game there is. Publishing is a no-op.
 */
import type { LeaderboardEntry, StoredGame } from '../results-store.ts';
import type { ClusterDirectory, GameSummary, NodeInfo } from './directory.ts';

export class SingleNodeDirectory implements ClusterDirectory {
  readonly available = true;
  private self: (() => NodeInfo) | undefined;
  private readonly reconnectListeners: (() => void)[] = [];

  constructor(readonly nodeId: string) {}

  async start(self: () => NodeInfo): Promise<void> {
    this.self = self;
    // The contract calls onReconnect once after start; publishing again here changes nothing, but callers may
    // rely on the call (e.g. to mark the node ready the same way in both modes).
    for (const listener of this.reconnectListeners) listener();
  }

  async stop(): Promise<void> {
    this.self = undefined;
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** A single node is never cut off from itself: nothing is ever declared lost. */
  onGamesLost(_listener: (gameIds: string[]) => void): void {}

  /** Nothing shared outlives a restart here: there is nothing to fail. */
  async reconcile(_liveGameIds: readonly string[]): Promise<number> {
    return 0;
  }

  async nodes(): Promise<NodeInfo[]> {
    return this.self ? [{ ...this.self(), nodeId: this.nodeId }] : [];
  }

  async node(nodeId: string): Promise<NodeInfo | undefined> {
    return nodeId === this.nodeId && this.self ? { ...this.self(), nodeId: this.nodeId } : undefined;
  }

  async reservePasscode(_code: string, _gameId: string): Promise<boolean> {
    return true;
  }

  async releasePasscode(_code: string, _gameId: string): Promise<void> {}

  async passcodeRoute(_code: string): Promise<{ gameId: string; nodeId: string } | undefined> {
    return undefined;
  }

  async publishKeyRoutes(_gameId: string, _keyHashes: readonly string[]): Promise<void> {}

  async keyRoute(_keyHash: string): Promise<{ gameId: string; nodeId: string } | undefined> {
    return undefined;
  }

  async publishGame(_summary: GameSummary): Promise<void> {}

  async game(_gameId: string): Promise<GameSummary | undefined> {
    return undefined;
  }

  async publishResults(_game: StoredGame): Promise<void> {}

  async results(_gameId: string): Promise<StoredGame | undefined> {
    return undefined;
  }

  async leaderboard(_difficulty: StoredGame['difficulty'], _limit: number): Promise<LeaderboardEntry[]> {
    return [];
  }
}
