/**
 * What a start leaves behind: a start that fails half-way (the TCP port in use, after the store, the registry and
 * the extensions exist) closes them all; a stop (called twice) lets every fd go, the connection cap's spare fds and
 * timer included. Counted with /proc/self/fd (Linux, like the cap itself).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { ConnectionCap } from '../../src/matchmaker/edge/connection-cap.ts';
import { StartupCheckError } from '../../src/matchmaker/edge/startup-checks.ts';
import { relayExtension } from '../../src/matchmaker/relay/extension.ts';
import { startServer } from '../../src/matchmaker/server.ts';
import { FakeLauncher } from '../matchmaker/support/fake-launcher.ts';
import { freePortRange } from '../matchmaker/support/env.ts';
import { tempDir } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const openFds = () => readdirSync('/proc/self/fd').length;

async function configFor(overrides: Partial<Config>): Promise<Config> {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  return { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir.path, 'data'), gamePorts: await freePortRange(2), maxGames: 2, ...overrides };
}

/** One start and stop first, so that what Bun opens once per process (sqlite, the event loop) is not counted. */
async function warmUp(): Promise<void> {
  const server = await startServer({ config: await configFor({}), launcher: new FakeLauncher() });
  await server.stop();
}

describe('a start that fails half-way', () => {
  test('the TCP port in use: StartupCheckError, the extension is stopped, the store closed, no fd left', async () => {
    await warmUp();
    // Held without SO_REUSEPORT, so the server's listen (which sets it) is refused.
    const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    cleanups.push(() => holder.stop(true));
    const config = await configFor({ port: holder.port, maxConnectionsPerAddress: 8 });
    const before = openFds();
    let stopped = 0;
    const relay = relayExtension();
    const error = await startServer({
      config,
      launcher: new FakeLauncher(),
      extend: (context) => {
        const extension = relay(context);
        return { ...extension, stop: () => (stopped++, extension.stop?.()) };
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupCheckError);
    expect((error as Error).message).toBe(`invalid --port ${holder.port}: TCP port ${holder.port} is already in use on 127.0.0.1`);
    expect(stopped).toBe(1);
    expect(openFds()).toBe(before);
  });
});

describe('stop', () => {
  test('twice: one drain, and every fd the server opened (listener, store, the cap spares) is let go', async () => {
    await warmUp();
    const config = await configFor({ maxConnectionsPerAddress: 8 });
    const before = openFds();
    const server = await startServer({ config, launcher: new FakeLauncher(), extend: relayExtension() });
    expect(openFds()).toBeGreaterThan(before);
    const first = server.stop();
    expect(server.stop()).toBe(first);
    await first;
    await server.stop();
    expect(openFds()).toBe(before);
  });
});

describe('the connection cap', () => {
  test('stop lets its spare fds go, twice is harmless, and a tick after stop does nothing', () => {
    const before = openFds();
    const cap = new ConnectionCap({ perAddress: 1, ports: () => [1], exempt: () => false, log: silentLogger, intervalMs: 60_000 });
    expect(cap.start()).toBeUndefined();
    expect(openFds()).toBeGreaterThan(before);
    expect(cap.start()).toBeUndefined(); // a second start takes nothing more
    const started = openFds();
    cap.stop();
    cap.stop();
    expect(openFds()).toBe(before);
    cap.tick();
    expect(cap.scans).toBe(0);
    expect(openFds()).toBe(before);
    expect(started - before).toBe(4);
  });
});
