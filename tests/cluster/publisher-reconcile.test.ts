/**
 * The publisher's republish after a restart (in memory, the shared FakeCluster): it fails the games the store
 * still lists for this node that the registry no longer has (node_restarted), spares the ones it runs (re-adopted
 * ones), and a failing reconcile is logged once and retried with the rest of the republish, never thrown.
 */
import { afterEach, expect, test } from 'bun:test';
import { ClusterMetrics } from '../../src/matchmaker/cluster/cluster-metrics.ts';
import type { NodeInfo } from '../../src/matchmaker/cluster/directory.ts';
import { ClusterPublisher } from '../../src/matchmaker/cluster/publisher.ts';
import type { ObservedGame } from '../../src/matchmaker/registry/observer.ts';
import type { Logger } from '../../src/log.ts';
import { FakeCluster, FakeDirectory } from '../support/fake-directory.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function recordingLogger(): Logger & { events: string[] } {
  const events: string[] = [];
  const keep = (event: string) => void events.push(event);
  return { events, debug: keep, info: keep, warn: keep, error: keep, protect() {}, unprotect() {} };
}

function observed(id: string, passcode: string, state: ObservedGame['state']): ObservedGame {
  return {
    id,
    passcode,
    state,
    endReason: undefined,
    createdAt: 1_733_000_000_000,
    maxPlayers: 4,
    difficulty: undefined,
    chain: { gameId: id, watchHashes: new Set(), inviteHashes: new Set() },
    slotHeld: true,
  };
}

/** What node `a` left in the shared store before it was killed: two games it lost, one it re-adopts. */
function leftBehind(cluster: FakeCluster): void {
  for (const [gameId, state] of [['gone-lobby', 'lobby'], ['gone-playing', 'in_progress'], ['adopted', 'in_progress']] as const) {
    cluster.games.set(gameId, { gameId, nodeId: 'a', state, endReason: null, createdAt: 1 });
  }
  cluster.passcodes.set('GONE01', { gameId: 'gone-lobby', nodeId: 'a' });
  cluster.passcodes.set('ADOPT1', { gameId: 'adopted', nodeId: 'a' });
  cluster.routes.set('f'.repeat(64), { gameId: 'gone-playing', nodeId: 'a' });
  cluster.games.set('b-game', { gameId: 'b-game', nodeId: 'b', state: 'lobby', endReason: null, createdAt: 1 });
  cluster.passcodes.set('BBBBBB', { gameId: 'b-game', nodeId: 'b' });
}

function publisherFor(directory: FakeDirectory, live: ObservedGame[], log: Logger): ClusterPublisher {
  const publisher = new ClusterPublisher({
    directory,
    liveGames: () => live,
    storedGame: () => undefined,
    recentGameIds: () => [],
    metrics: new ClusterMetrics(),
    log,
    shared: true,
  });
  cleanups.push(async () => {
    await publisher.stop(100);
    await directory.stop();
  });
  return publisher;
}

const self = (): NodeInfo => ({ nodeId: 'a', apiUrl: 'http://127.0.0.1:1', live: 1, maxGames: 4, draining: false });

test('the republish after a restart fails only the games the node no longer runs, before writing the ones it runs', async () => {
  const cluster = new FakeCluster();
  leftBehind(cluster);
  const log = recordingLogger();
  const directory = cluster.directory('a');
  const publisher = publisherFor(directory, [observed('adopted', 'ADOPT1', 'in_progress')], log);
  await directory.start(self); // onReconnect → republishAll
  await publisher.idle();

  expect(cluster.games.get('gone-lobby')).toMatchObject({ state: 'failed', endReason: 'node_restarted' });
  expect(cluster.games.get('gone-playing')).toMatchObject({ state: 'failed', endReason: 'node_restarted' });
  expect(cluster.passcodes.has('GONE01')).toBe(false);
  expect(cluster.routes.has('f'.repeat(64))).toBe(false);
  expect(cluster.games.get('adopted')).toMatchObject({ state: 'in_progress', endReason: null });
  expect(cluster.passcodes.get('ADOPT1')).toEqual({ gameId: 'adopted', nodeId: 'a' });
  expect(cluster.games.get('b-game')?.state).toBe('lobby');
  expect(cluster.passcodes.get('BBBBBB')).toEqual({ gameId: 'b-game', nodeId: 'b' });
  expect(log.events.filter((e) => e === 'cluster.games_restarted')).toHaveLength(1);
  expect(directory.calls.get('reconcile')).toBe(1);
});

/** A directory whose reconcile fails its first `failures` calls (a script error, not an outage). */
class FlakyDirectory extends FakeDirectory {
  constructor(cluster: FakeCluster, nodeId: string, private failures: number) {
    super(cluster, nodeId);
  }
  override async reconcile(liveGameIds: readonly string[]): Promise<number> {
    if (this.failures-- > 0) throw new Error('ERR script failed');
    return super.reconcile(liveGameIds);
  }
}

test('a failing reconcile is logged once and retried with the rest of the republish, never thrown', async () => {
  const cluster = new FakeCluster();
  leftBehind(cluster);
  const log = recordingLogger();
  const directory = new FlakyDirectory(cluster, 'a', 3);
  const publisher = publisherFor(directory, [observed('adopted', 'ADOPT1', 'in_progress')], log);
  await directory.start(self);
  const started = performance.now();
  await publisher.idle();
  // Retried with backoff (500, 1000, 2000 ms) until it went through; the rest was written meanwhile.
  expect(performance.now() - started).toBeLessThan(5000);
  expect(cluster.games.get('gone-lobby')).toMatchObject({ state: 'failed', endReason: 'node_restarted' });
  expect(cluster.passcodes.has('GONE01')).toBe(false);
  expect(cluster.games.get('adopted')).toMatchObject({ state: 'in_progress' });
  expect(cluster.passcodes.get('ADOPT1')).toEqual({ gameId: 'adopted', nodeId: 'a' });
  expect(log.events.filter((e) => e === 'cluster.reconcile_failed')).toHaveLength(1);
  expect(log.events.filter((e) => e === 'cluster.games_restarted')).toHaveLength(1);
  expect(directory.calls.get('reconcile')).toBe(1); // the fourth try, the one that reached the store
  expect(publisher.backlog).toBe(0);
}, 10_000);

test('stop waits for a write already under way (a drain\'s last states and releases), not only for queued ones', async () => {
  const cluster = new FakeCluster();
  const log = recordingLogger();
  const directory = cluster.directory('a');
  const publisher = publisherFor(directory, [], log);
  await directory.start(self);
  await publisher.idle();
  // A slow store: each summary takes 150 ms to write.
  const publishGame = directory.publishGame.bind(directory);
  let written = 0;
  directory.publishGame = async (summary) => {
    await Bun.sleep(150);
    await publishGame(summary);
    written++;
  };
  publisher.gameReleased({ ...observed('ending', 'ENDING', 'finished'), slotHeld: false });
  // The flush takes the batch at once: nothing is queued any more, but the write is still on its way.
  await Bun.sleep(20);
  expect(publisher.backlog).toBe(0);
  expect(written).toBe(0);
  await publisher.stop(2000);
  expect(written).toBe(1);
  expect(cluster.games.get('ending')).toMatchObject({ state: 'finished' });
  expect(cluster.passcodes.has('ENDING')).toBe(false);
});
