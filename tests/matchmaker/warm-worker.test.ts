/**
 * A warm game server (HUDDLE_STANDBY=1) as the real game worker runs it, and the supervisor's rules for one: it
 * stands by bound to its port, `begin` opens its lobby, and it is held to the same start, stop and port guarantees
 * as a game started cold. tests/e2e/hosting.test.ts plays whole games through warm workers (the server's default).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { MatchmakerToWorker } from '../../src/contract/worker-messages.ts';
import { BunWorkerLauncher, type GameHandle, type LauncherEvent } from '../../src/workers/launcher.ts';
import { Supervisor } from '../../src/workers/supervisor.ts';
import { encodeWorkerEnv, parseWorkerEnv, WorkerEnvError } from '../../src/workers/worker-env.ts';
import { freeUdpPort, portIsFree, testWorkerEnv, waitFor } from './support/env.ts';

type Exit = Extract<LauncherEvent, { type: 'exit' }>;
const launcher = new BunWorkerLauncher({ stopGraceMs: 500 });
const running: { handle: GameHandle; events: LauncherEvent[] }[] = [];

async function launchWarm(overrides: Parameters<typeof testWorkerEnv>[1] = {}, startTimeoutMs = 5000) {
  const port = await freeUdpPort();
  const events: LauncherEvent[] = [];
  const handle = launcher.launch({ env: testWorkerEnv(port, { standby: true, ...overrides }), startTimeoutMs, heartbeatTimeoutMs: 2000 }, (event) => events.push(event));
  running.push({ handle, events });
  const exit = () => events.find((e): e is Exit => e.type === 'exit');
  return { port, events, handle, exit, has: (type: LauncherEvent['type']) => events.some((e) => e.type === type) };
}

afterEach(async () => {
  for (const run of running.splice(0)) {
    run.handle.stop('test over', 0);
    await waitFor(() => run.events.some((e) => e.type === 'exit'), 5000, 'worker exit in cleanup');
  }
});

describe('a warm game worker', () => {
  test('stands by with its port bound and no lobby; begin opens it: ready, heartbeats, and a clean stop', async () => {
    const run = await launchWarm({}, 300);
    await waitFor(() => run.has('standby'), 5000, 'standby');
    expect(await portIsFree(run.port)).toBe(false);
    // Standing by has no deadline: well past the 300 ms start timeout, it is still there, and not ready.
    await Bun.sleep(500);
    expect(run.events.map((e) => e.type)).toEqual(['standby']);
    expect(run.handle.begin?.(4)).toBe(true);
    // Only once: a second begin finds it no longer standing by.
    expect(run.handle.begin?.(4)).toBe(false);
    await waitFor(() => run.has('heartbeat'), 3000, 'ready and a heartbeat');
    expect(run.events[1]).toEqual({ type: 'ready', port: run.port });
    run.handle.stop('the test is over');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.exit()?.cause).toBe('exiting');
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('stopped while it stands by: it ends at once and frees its port', async () => {
    const run = await launchWarm();
    await waitFor(() => run.has('standby'), 5000, 'standby');
    run.handle.stop('the server is shutting down');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.exit()?.cause).toBe('stopped');
    expect(run.has('ready')).toBe(false);
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('a begin asking for more players than its environment allows is fatal, and names no secret', async () => {
    const run = await launchWarm({ maxPlayers: 4 });
    await waitFor(() => run.has('standby'), 5000, 'standby');
    run.handle.begin?.(5);
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.exit()).toMatchObject({ cause: 'fatal' });
    expect(run.exit()?.detail).toContain('more than HUDDLE_MAX_PLAYERS (4)');
    expect(run.has('ready')).toBe(false);
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('begun but never ready: the start timeout runs again from begin', async () => {
    // A host that delivers `begin` nowhere: the game never hears it, as a wedged one would not answer.
    const events: LauncherEvent[] = [];
    const delivered: MatchmakerToWorker[] = [];
    let terminated = false;
    const supervisor = new Supervisor({ port: 1, startTimeoutMs: 80, heartbeatTimeoutMs: 1000, stopGraceMs: 100, closeBackstopMs: 1000, standby: true, noun: 'worker' }, (e) => events.push(e), {
      deliver: (message) => (delivered.push(message), true),
      terminate: () => {
        terminated = true;
        queueMicrotask(() => supervisor.gone());
      },
    });
    expect(supervisor.begin(2)).toBe(false);
    supervisor.message({ type: 'standby' });
    await Bun.sleep(150);
    expect(terminated).toBe(false);
    // What is left of the create's own deadline, not a whole new start timeout.
    expect(supervisor.begin(2, 40)).toBe(true);
    expect(delivered).toEqual([{ type: 'begin', maxPlayers: 2 }]);
    await waitFor(() => terminated, 1000, 'start timeout');
    await waitFor(() => events.some((e) => e.type === 'exit'), 1000, 'exit');
    expect(events.at(-1)).toEqual({ type: 'exit', cause: 'start_timeout', detail: 'not ready within 40 ms of begin' });
  });

  test('the supervisor refuses standby from a cold game, standby twice, and ready before begin', () => {
    const cases: [boolean, unknown[], string][] = [
      [false, [{ type: 'standby' }], 'standby from a game that was not started warm'],
      [true, [{ type: 'standby' }, { type: 'standby' }], 'standby twice'],
      [true, [{ type: 'standby' }, { type: 'ready', port: 1 }], 'ready before begin'],
      [true, [{ type: 'ready', port: 1 }], 'ready before begin'],
    ];
    for (const [standby, messages, detail] of cases) {
      const events: LauncherEvent[] = [];
      const supervisor = new Supervisor({ port: 1, startTimeoutMs: 1000, heartbeatTimeoutMs: 1000, stopGraceMs: 100, closeBackstopMs: 1000, standby, noun: 'worker' }, (e) => events.push(e), {
        deliver: () => true,
        terminate: () => queueMicrotask(() => supervisor.gone()),
      });
      for (const message of messages) supervisor.message(message);
      supervisor.gone();
      expect(events.at(-1)).toEqual({ type: 'exit', cause: 'protocol_violation', detail });
    }
  });
});

describe('HUDDLE_STANDBY in the environment contract', () => {
  test('encoded only for a warm game; parsed as 1 or 0, anything else is refused', () => {
    const env = testWorkerEnv(40000);
    expect(encodeWorkerEnv(env)).not.toHaveProperty('HUDDLE_STANDBY');
    const warm = encodeWorkerEnv({ ...env, standby: true });
    expect(warm.HUDDLE_STANDBY).toBe('1');
    expect(parseWorkerEnv(warm).standby).toBe(true);
    expect(parseWorkerEnv({ ...warm, HUDDLE_STANDBY: '0' }).standby).toBeUndefined();
    expect(() => parseWorkerEnv({ ...warm, HUDDLE_STANDBY: 'yes' })).toThrow(WorkerEnvError);
  });
});
