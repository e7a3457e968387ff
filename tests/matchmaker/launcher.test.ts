import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/log.ts';
import { startReportListener } from '../../src/matchmaker/edge/report-listener.ts';
import { channelUpgrade } from '../../src/matchmaker/internal/channel-routes.ts';
import { ChannelHub } from '../../src/workers/channel-hub.ts';
import { BunWorkerLauncher, type GameHandle, type GameLauncher, type LauncherEvent } from '../../src/workers/launcher.ts';
import { ProcessLauncher } from '../../src/workers/process-launcher.ts';
import { ENGINE_SETTINGS } from '../../src/engine-settings.ts';
import { WORKER_ENV_NAMES } from '../../src/workers/worker-env.ts';
import { freeUdpPort, portIsFree, testWorkerEnv, waitFor } from './support/env.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

/**
 * The same suite against both launchers: a Bun Worker, and a child process whose channel is a WebSocket to a
 * loopback listener serving the hub (as the matchmaker's report listener does).
 */
interface Kind {
  name: string;
  launcher(fixtureName: string): GameLauncher;
  reportUrl(): string;
  /** Names the launcher puts in the environment besides the contract. */
  extraEnv: string[];
}

let hub: ChannelHub;
let listener: ReturnType<typeof startReportListener> | undefined;
let logDir = '';

beforeAll(() => {
  hub = new ChannelHub();
  listener = startReportListener(() => Response.json({ error: { code: 'not_found', message: 'no reports here' } }, { status: 404 }), channelUpgrade(hub, silentLogger));
  logDir = mkdtempSync(join(tmpdir(), 'huddle-launcher-'));
});

afterAll(() => {
  listener?.stop(true);
  rmSync(logDir, { recursive: true, force: true });
});

const KINDS: Kind[] = [
  {
    name: 'BunWorkerLauncher',
    launcher: (name) => new BunWorkerLauncher({ entry: fixture(name).href, stopGraceMs: 500 }),
    reportUrl: () => 'http://127.0.0.1:1/internal/games/testgame0000000000000A/report',
    // A worker shares its process's engine, so it gets no engine settings of its own.
    extraEnv: [],
  },
  {
    name: 'ProcessLauncher',
    launcher: (name) => new ProcessLauncher({ hub, logDir, command: [process.execPath, fileURLToPath(fixture(name))], stopGraceMs: 500 }),
    reportUrl: () => `http://127.0.0.1:${listener?.port}/internal/games/testgame0000000000000A/report`,
    // A process reads the engine's settings at its start: they come in its environment (src/engine-settings.ts).
    extraEnv: Object.keys(ENGINE_SETTINGS),
  },
];

interface Run {
  events: LauncherEvent[];
  handle: GameHandle;
  port: number;
  exit(): Extract<LauncherEvent, { type: 'exit' }> | undefined;
}

const running: Run[] = [];

async function launchWith(kind: Kind, name: string, timeouts: { start?: number; heartbeat?: number } = {}): Promise<Run> {
  const port = await freeUdpPort();
  const launcher = kind.launcher(name);
  const events: LauncherEvent[] = [];
  const handle = launcher.launch(
    { env: testWorkerEnv(port, { reportUrl: kind.reportUrl() }), startTimeoutMs: timeouts.start ?? 3000, heartbeatTimeoutMs: timeouts.heartbeat ?? 1000 },
    (event) => events.push(event),
  );
  const run: Run = {
    events,
    handle,
    port,
    exit: () => events.find((e): e is Extract<LauncherEvent, { type: 'exit' }> => e.type === 'exit'),
  };
  running.push(run);
  return run;
}

afterEach(async () => {
  for (const run of running.splice(0)) {
    run.handle.stop('test over', 0);
    await waitFor(() => run.exit() !== undefined, 5000, 'worker exit in cleanup');
  }
});

describe.each(KINDS)('$name', (kind) => {
  const launch = (name: string, timeouts: { start?: number; heartbeat?: number } = {}) => launchWith(kind, name, timeouts);

  test('a good worker binds its port, gets ready, heartbeats, and stops on request with the port freed', async () => {
    const run = await launch('udp-worker.ts');
    await waitFor(() => run.events.some((e) => e.type === 'ready'), 3000, 'ready');
    expect(run.events[0]).toEqual({ type: 'ready', port: run.port });
    expect(await portIsFree(run.port)).toBe(false);
    await waitFor(() => run.events.filter((e) => e.type === 'heartbeat').length >= 2, 3000, 'heartbeats');

    // The port is really served: a datagram comes back.
    const echoed = Promise.withResolvers<string>();
    const client = await Bun.udpSocket({ hostname: '127.0.0.1', port: 0, socket: { data: (_s, data) => echoed.resolve(data.toString()) } });
    client.send('hello', run.port, '127.0.0.1');
    expect(await echoed.promise).toBe('hello');
    client.send('players:3', run.port, '127.0.0.1');
    await waitFor(() => run.events.some((e) => e.type === 'players'), 3000, 'players');
    expect(run.events.find((e) => e.type === 'players')).toEqual({ type: 'players', count: 3 });
    client.close();

    run.handle.stop('test');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.exit()).toMatchObject({ cause: 'exiting', reason: 'shutdown' });
    expect(await portIsFree(run.port)).toBe(true);
    expect(run.events.at(-1)?.type).toBe('exit');
  });

  test('seat messages become events: players with spectators, seat_released with a bigint client id', async () => {
    const run = await launch('udp-worker.ts');
    await waitFor(() => run.events.some((e) => e.type === 'ready'), 3000, 'ready');
    const client = await Bun.udpSocket({ hostname: '127.0.0.1', port: 0 });
    const post = (message: unknown) => client.send(`post:${JSON.stringify(message)}`, run.port, '127.0.0.1');
    post({ type: 'players', count: 2, names: ['ada', 'bob'], spectators: 3 });
    post({ type: 'seat_released', clientId: '18446744073709551615' });
    await waitFor(() => run.events.some((e) => e.type === 'seat_released'), 3000, 'seat_released');
    expect(run.events.filter((e) => e.type === 'players' || e.type === 'seat_released')).toEqual([
      { type: 'players', count: 2, names: ['ada', 'bob'], spectators: 3 },
      { type: 'seat_released', clientId: 18446744073709551615n },
    ]);
    // Twenty digits fit the schema but not a u64: the worker is broken, and is ended as such.
    post({ type: 'seat_released', clientId: '18446744073709551616' });
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    client.close();
    expect(run.exit()).toMatchObject({ cause: 'protocol_violation' });
  });

  test('a worker that ends on purpose says why before its close', async () => {
    const run = await launch('udp-worker.ts');
    await waitFor(() => run.events.some((e) => e.type === 'ready'), 3000, 'ready');
    const client = await Bun.udpSocket({ hostname: '127.0.0.1', port: 0 });
    client.send('exit:lobby_idle', run.port, '127.0.0.1');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    client.close();
    expect(run.exit()).toMatchObject({ cause: 'exiting', reason: 'lobby_idle' });
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('a worker that throws is reported crashed and its port freed', async () => {
    const run = await launch('throwing-worker.ts');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.events[0]?.type).toBe('ready');
    expect(run.exit()).toMatchObject({ cause: 'crashed' });
    expect(run.exit()?.detail).toContain('boom');
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('a worker that hangs is caught by the heartbeat timeout and terminated', async () => {
    const started = Date.now();
    const run = await launch('hanging-worker.ts', { heartbeat: 300 });
    await waitFor(() => run.exit() !== undefined, 5000, 'exit');
    expect(run.exit()).toMatchObject({ cause: 'heartbeat_timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('a worker that never gets ready is stopped at the start timeout', async () => {
    const run = await launch('never-ready-worker.ts', { start: 300 });
    await waitFor(() => run.exit() !== undefined, 5000, 'exit');
    expect(run.events.map((e) => e.type)).toEqual(['exit']);
    expect(run.exit()).toMatchObject({ cause: 'start_timeout' });
  });

  test('a worker that ends without saying why is an early close', async () => {
    const run = await launch('early-exit-worker.ts');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.exit()).toMatchObject({ cause: 'closed_early' });
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('an invalid message on the channel is a protocol violation', async () => {
    const run = await launch('garbage-worker.ts');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.exit()).toMatchObject({ cause: 'protocol_violation' });
  });

  test('a missing entry fails instead of hanging', async () => {
    const run = await launch('does-not-exist.ts', { start: 2000 });
    await waitFor(() => run.exit() !== undefined, 5000, 'exit');
    expect(run.events.map((e) => e.type)).toEqual(['exit']);
    expect(['crashed', 'closed_early', 'start_timeout']).toContain(run.exit()?.cause ?? '');
  });

  test('the worker sees exactly the env contract and nothing of the parent environment', async () => {
    const run = await launch('env-dump-worker.ts');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    const exit = run.exit();
    expect(exit?.cause).toBe('fatal');
    expect(JSON.parse(exit?.detail ?? '[]')).toEqual([...WORKER_ENV_NAMES, ...kind.extraEnv].sort());
  });
});

describe('BunWorkerLauncher workerData', () => {
  // Each worker compiles the protocol's own small SIMD module itself (crypto/simd.ts): no code is handed over.
  for (const [udpReads, expected] of [
    ['wakes', { keys: ['udpFd'], udpFdIsInteger: true }],
    ['each', { keys: [], udpFdIsInteger: false }],
  ] as const) {
    test(`hands each worker nothing but the socket it bound (udpReads ${udpReads})`, async () => {
      const launcher = new BunWorkerLauncher({ entry: fixture('worker-data-worker.ts').href, stopGraceMs: 500, udpReads });
      const port = await freeUdpPort();
      const events: LauncherEvent[] = [];
      const handle = launcher.launch({ env: testWorkerEnv(port), startTimeoutMs: 3000, heartbeatTimeoutMs: 1000 }, (event) => events.push(event));
      const exit = () => events.find((e): e is Extract<LauncherEvent, { type: 'exit' }> => e.type === 'exit');
      running.push({ events, handle, port, exit });
      await waitFor(() => exit() !== undefined, 3000, 'exit');
      expect(exit()?.cause).toBe('fatal');
      expect(JSON.parse(exit()?.detail ?? '{}')).toEqual(expected);
    });
  }
});
