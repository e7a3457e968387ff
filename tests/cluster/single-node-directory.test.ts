/** SingleNodeDirectory: the embedded default answers at once, shares nothing, and lists only its own node. */
import { expect, test } from 'bun:test';
import { keyRoute, type NodeInfo } from '../../src/matchmaker/cluster/directory.ts';
import { SingleNodeDirectory } from '../../src/matchmaker/cluster/single-node-directory.ts';

test('one node, always available; every reservation succeeds; lookups find nothing (the node answers for itself)', async () => {
  const directory = new SingleNodeDirectory('solo');
  let reconnects = 0;
  directory.onReconnect(() => reconnects++);
  expect(await directory.nodes()).toEqual([]);
  const load = { live: 2 };
  const self = (): NodeInfo => ({ nodeId: 'ignored', apiUrl: 'http://127.0.0.1:8080', live: load.live, maxGames: 4, draining: false });
  await directory.start(self);
  expect(reconnects).toBe(1);
  expect(directory.available).toBe(true);
  expect(await directory.nodes()).toEqual([{ nodeId: 'solo', apiUrl: 'http://127.0.0.1:8080', live: 2, maxGames: 4, draining: false }]);
  load.live = 3;
  expect((await directory.node('solo'))?.live).toBe(3);
  expect(await directory.node('other')).toBeUndefined();

  expect(await directory.reservePasscode('ABCDEF', 'g1')).toBe(true);
  expect(await directory.reservePasscode('ABCDEF', 'g2')).toBe(true);
  expect(await directory.passcodeRoute('ABCDEF')).toBeUndefined();
  await directory.publishKeyRoutes('g1', [keyRoute('k')]);
  expect(await directory.keyRoute(keyRoute('k'))).toBeUndefined();
  await directory.publishGame({ gameId: 'g1', nodeId: 'solo', state: 'lobby', endReason: null, createdAt: 1 });
  expect(await directory.game('g1')).toBeUndefined();
  await directory.publishResults({ gameId: 'g1', name: 'n', difficulty: 'easy', maxPlayers: 2, finishedAt: 1, outcome: 'finished', players: [] });
  expect(await directory.results('g1')).toBeUndefined();
  expect(await directory.leaderboard('easy', 10)).toEqual([]);
  await directory.releasePasscode('ABCDEF', 'g1');
  await directory.stop();
  expect(await directory.nodes()).toEqual([]);
});
