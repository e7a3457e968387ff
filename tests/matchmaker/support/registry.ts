import { GameError } from '../../../src/matchmaker/errors.ts';
import { GameRegistry, type RegistrySettings } from '../../../src/matchmaker/registry.ts';
import { ResultsStore } from '../../../src/matchmaker/results-store.ts';
import { FakeLauncher } from './fake-launcher.ts';

export function testSettings(overrides: Partial<RegistrySettings> = {}): RegistrySettings {
  return {
    maxGames: 4,
    maxPlayers: 8,
    gamePorts: { first: 41000, last: 41009 },
    publicHost: '127.0.0.1',
    bindHost: '127.0.0.1',
    lobbyTimeoutSeconds: 300,
    roundSeconds: 120,
    tokenExpirySeconds: 30,
    workerStartTimeoutMs: 1000,
    heartbeatTimeoutMs: 1000,
    heartbeatIntervalMs: 250,
    rejoinGraceSeconds: 60,
    maxSpectators: 16,
    ...overrides,
  };
}

/** A registry over a fake launcher and an in-memory store, with a hand-driven monotonic clock. */
export function fakeRegistry(overrides: Partial<RegistrySettings> = {}, launcherOptions: ConstructorParameters<typeof FakeLauncher>[0] = {}) {
  const launcher = new FakeLauncher(launcherOptions);
  const store = new ResultsStore(':memory:');
  const clock = { now: 1000 };
  const registry = new GameRegistry({
    settings: testSettings(overrides),
    launcher,
    store,
    reportUrl: (id) => `http://127.0.0.1:9/internal/games/${id}/report`,
    clock: () => clock.now,
  });
  return { registry, launcher, store, clock };
}

/** The GameError a call or promise fails with; fails the test if it succeeds or fails otherwise. */
export async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<GameError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof GameError) return error;
    throw error;
  }
  throw new Error('expected a GameError');
}
