/** NodeLiveness: when a missing heartbeat means a lost node (pure timing logic; the Redis side is in redis-directory.test.ts). */
import { expect, test } from 'bun:test';
import { NodeLiveness } from '../../src/matchmaker/cluster/node-liveness.ts';

const timing = { confirmMs: 1500, settleMs: 5000 };

test('missing on two checks at least confirmMs apart, with our link up long enough: lost, once', () => {
  const liveness = new NodeLiveness(timing);
  const up = 0;
  expect(liveness.observe(['b'], 10_000, up)).toEqual([]);
  expect(liveness.observe(['b'], 11_000, up)).toEqual([]);
  expect(liveness.observe(['b'], 11_500, up)).toEqual(['b']);
  // Reported once; a new streak starts if the node is still listed.
  expect(liveness.observe(['b'], 12_000, up)).toEqual([]);
});

test('a heartbeat seen again ends the streak', () => {
  const liveness = new NodeLiveness(timing);
  expect(liveness.observe(['b', 'c'], 10_000, 0)).toEqual([]);
  expect(liveness.observe(['c'], 11_000, 0)).toEqual([]);
  expect(liveness.observe(['b', 'c'], 11_600, 0)).toEqual(['c']);
  expect(liveness.observe(['b'], 13_000, 0)).toEqual([]); // its new streak began at 11 600
  expect(liveness.observe(['b'], 13_100, 0)).toEqual(['b']);
});

test('a streak begun before our link last came up proves nothing', () => {
  const liveness = new NodeLiveness(timing);
  expect(liveness.observe(['b'], 10_000, 0)).toEqual([]);
  // Our link went down and came back at 10 500: the earlier sighting is discarded.
  expect(liveness.observe(['b'], 16_000, 10_500)).toEqual([]);
  expect(liveness.observe(['b'], 17_500, 10_500)).toEqual(['b']);
});

test('after an outage, nothing is lost until our link has been back for settleMs', () => {
  const liveness = new NodeLiveness(timing);
  const up = 10_000;
  expect(liveness.observe(['b'], 10_100, up)).toEqual([]);
  expect(liveness.observe(['b'], 12_000, up)).toEqual([]);
  expect(liveness.observe(['b'], 14_900, up)).toEqual([]);
  expect(liveness.observe(['b'], 15_000, up)).toEqual(['b']);
});

test('without an outage to come back from (settleFrom -Infinity) no settling time applies', () => {
  const liveness = new NodeLiveness(timing);
  expect(liveness.observe(['b'], 10_100, 10_000, Number.NEGATIVE_INFINITY)).toEqual([]);
  expect(liveness.observe(['b'], 11_600, 10_000, Number.NEGATIVE_INFINITY)).toEqual(['b']);
});

test('reset forgets every streak', () => {
  const liveness = new NodeLiveness(timing);
  liveness.observe(['b'], 10_000, 0);
  liveness.reset();
  expect(liveness.observe(['b'], 12_000, 0)).toEqual([]);
  expect(liveness.observe(['b'], 13_500, 0)).toEqual(['b']);
});
