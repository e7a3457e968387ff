import type { Logger } from '../../../src/log.ts';
import { createApp } from '../../../src/matchmaker/app.ts';
import { JoinLimiter } from '../../../src/matchmaker/rate-limit.ts';
import { GameRegistry, type RegistrySettings } from '../../../src/matchmaker/registry.ts';
import { ResultsStore } from '../../../src/matchmaker/results-store.ts';
import { FakeLauncher } from './fake-launcher.ts';
import { testSettings } from './registry.ts';

export interface TestAppOptions {
  settings?: Partial<RegistrySettings>;
  createToken?: string;
  maxBodyBytes?: number;
  perAddress?: number;
  global?: number;
  dataDir?: string;
  /** Given to both the registry and the app (tests capture the lines). */
  log?: Logger;
}

/**
 * The real app over a fake launcher and an in-memory store; the client address comes from an `x-test-client`
 * header so tests can play several clients, and the limiter runs on a hand-driven clock.
 */
export function testApp(options: TestAppOptions = {}) {
  const launcher = new FakeLauncher();
  const store = new ResultsStore(options.dataDir ?? ':memory:');
  const settings = testSettings(options.settings);
  const registry = new GameRegistry({
    settings,
    launcher,
    store,
    reportUrl: (id) => `http://127.0.0.1:9/internal/games/${id}/report`,
    ...(options.log ? { log: options.log } : {}),
  });
  const clock = { now: 0 };
  const limiter = new JoinLimiter({ perAddressPerMinute: options.perAddress ?? 5, globalPerMinute: options.global ?? 50, now: () => clock.now });
  const app = createApp({
    config: {
      maxPlayers: settings.maxPlayers,
      maxBodyBytes: options.maxBodyBytes ?? 4096,
      createToken: options.createToken,
      joinFailuresPerAddress: 5,
      joinFailuresGlobal: 50,
    },
    registry,
    store,
    limiter,
    ...(options.log ? { log: options.log } : {}),
    clientAddress: (request) => request.headers.get('x-test-client') ?? '192.0.2.1',
  });
  return { app, launcher, store, registry, clock };
}

export function json(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://localhost${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
