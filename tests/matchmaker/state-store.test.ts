import { describe, expect, test } from 'bun:test';
import { GameRegistry, MemoryGameStateStore } from '../../src/matchmaker/registry.ts';
import { ResultsStore } from '../../src/matchmaker/results-store.ts';
import { keyHash } from '../../src/matchmaker/seats.ts';
import { FakeLauncher } from './support/fake-launcher.ts';
import { testSettings } from './support/registry.ts';

/** A registry over a state store the test holds, so it can read what the registry wrote there. */
function withStore(historyLimit = 1000) {
  const launcher = new FakeLauncher();
  const state = new MemoryGameStateStore();
  const clock = { now: 1000 };
  const registry = new GameRegistry({
    settings: testSettings(),
    launcher,
    store: new ResultsStore(':memory:'),
    state,
    historyLimit,
    reportUrl: (id) => `http://127.0.0.1:9/internal/games/${id}/report`,
    clock: () => clock.now,
  });
  return { registry, launcher, state };
}

describe('GameStateStore (in memory)', () => {
  test('the registry keeps its games, passcodes, key hashes and counts in the store it is given', async () => {
    const { registry, launcher, state } = withStore();
    const host = await registry.create({ name: 'ada' });
    const bob = registry.join({ passcode: host.passcode, name: 'bob' });
    expect(state.live).toBe(1);
    expect(state.gameForPasscode(host.passcode.toLowerCase())).toBe(host.gameId);
    expect(state.game(host.gameId)?.state).toBe('lobby');
    expect(state.seatKey(bob.rejoinKey)?.gameId).toBe(host.gameId);
    expect(state.watchChain(bob.watchKey)?.gameId).toBe(host.gameId);
    expect(state.inviteChain(host.inviteKey)?.gameId).toBe(host.gameId);
    expect(state.liveGames().map((g) => g.id)).toEqual([host.gameId]);

    launcher.last.exit('crashed');
    expect(state.live).toBe(0);
    expect(state.liveGames()).toEqual([]);
    expect(state.gameForPasscode(host.passcode)).toBeUndefined();
    expect(state.game(host.gameId)?.state).toBe('failed');
  });

  test('moving a seat and a group leads their keys to the new game; unknown hashes are refused', async () => {
    const { registry, state } = withStore();
    const host = await registry.create({ name: 'ada' });
    const record = state.game(host.gameId);
    if (!record) throw new Error('no record');
    expect(state.moveSeat(keyHash(host.rejoinKey), 'next-game', 7n)).toBe(true);
    expect(state.seatKey(host.rejoinKey)).toMatchObject({ gameId: 'next-game', clientId: 7n });
    expect(state.moveSeat(keyHash('not-a-key'), 'next-game', 7n)).toBe(false);
    state.moveChain(record.chain, 'next-game');
    expect(state.watchChain(host.watchKey)?.gameId).toBe('next-game');
    expect(state.inviteChain(host.inviteKey)?.gameId).toBe('next-game');
  });

  test('pruning forgets the oldest dead games beyond the limit and the keys that led only to them', async () => {
    const { registry, launcher, state } = withStore(1);
    const first = await registry.create({ name: 'a' });
    launcher.last.exit('crashed');
    const second = await registry.create({ name: 'b' });
    launcher.last.exit('crashed');
    const live = await registry.create({ name: 'c' });
    registry.sweep();
    expect(state.game(first.gameId)).toBeUndefined();
    expect(state.seatKey(first.rejoinKey)).toBeUndefined();
    expect(state.watchChain(first.watchKey)).toBeUndefined();
    expect(state.game(second.gameId)?.state).toBe('failed');
    expect(state.seatKey(second.rejoinKey)?.gameId).toBe(second.gameId);
    expect(state.game(live.gameId)?.state).toBe('lobby');
    expect([...state.games()].map((g) => g.id)).toEqual([second.gameId, live.gameId]);
  });
});
