/**
 * `--udp-reads wakes` with the real game worker: the launcher binds each game's UDP port before the worker runs,
 * the worker reads it at its loop's wakes, and the launcher closes it once the worker is gone, however it ended,
 * before `exit` says the port is free (the launcher guarantee the registry relies on). tests/e2e plays whole
 * games this way (the server's default); tests/protocol/udp-polled.test.ts covers the socket itself.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { polledUdpSupport, UdpBindError } from '../../src/protocol/transport/udp-polled.ts';
import { BunWorkerLauncher, type GameHandle, type LauncherEvent } from '../../src/workers/launcher.ts';
import { freeUdpPort, portIsFree, testWorkerEnv, waitFor } from './support/env.ts';

type Exit = Extract<LauncherEvent, { type: 'exit' }>;
const running: { handle: GameHandle; events: LauncherEvent[] }[] = [];

afterEach(async () => {
  for (const run of running.splice(0)) {
    run.handle.stop('test over', 0);
    await waitFor(() => run.events.some((e) => e.type === 'exit'), 5000, 'worker exit in cleanup');
  }
});

async function launch(launcher: BunWorkerLauncher, heartbeatIntervalMs?: number) {
  const port = await freeUdpPort();
  const events: LauncherEvent[] = [];
  const env = testWorkerEnv(port, heartbeatIntervalMs ? { heartbeatIntervalMs } : {});
  const handle = launcher.launch({ env, startTimeoutMs: 5000, heartbeatTimeoutMs: Math.max(2000, (heartbeatIntervalMs ?? 0) * 4) }, (event) => events.push(event));
  running.push({ handle, events });
  return {
    port,
    events,
    handle,
    exit: () => events.find((e): e is Exit => e.type === 'exit'),
    datagramsCounted: () => events.reduce((sum, e) => sum + (e.type === 'heartbeat' ? (e.tick?.datagrams ?? 0) : 0), 0),
  };
}

/** Datagrams the game reads and drops (not netcode): they show up in its heartbeats' tick statistics. */
async function sendJunk(port: number, count: number): Promise<void> {
  const socket = await Bun.udpSocket({ hostname: '127.0.0.1', port: 0 });
  for (let i = 0; i < count; i++) socket.send(new Uint8Array([0xff, i]), port, '127.0.0.1');
  socket.close();
}

describe.skipIf(!polledUdpSupport().ok)('the worker launcher with --udp-reads wakes', () => {
  const launcher = new BunWorkerLauncher({ stopGraceMs: 500 });

  test('is the default for the game worker; the port is bound at launch, read by the game, freed after a clean stop', async () => {
    expect(launcher.udpReads).toBe('wakes');
    expect(launcher.udpReadsFallback).toBeUndefined();
    const run = await launch(launcher);
    // Bound by the launcher itself, before the worker has even loaded.
    expect(await portIsFree(run.port)).toBe(false);
    await waitFor(() => run.events.some((e) => e.type === 'ready'), 5000, 'ready');
    expect(run.events.find((e) => e.type === 'ready')).toEqual({ type: 'ready', port: run.port });
    await sendJunk(run.port, 5);
    await waitFor(() => run.datagramsCounted() >= 5, 3000, 'the junk counted in tick statistics');
    run.handle.stop('the test is over');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(run.exit()?.cause).toBe('exiting');
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('an empty lobby wakes 30 times a second in its first 2 s, then 10, and junk datagrams do not keep it awake', async () => {
    const run = await launch(launcher, 1000);
    const beats = () => run.events.filter((e): e is Extract<LauncherEvent, { type: 'heartbeat' }> => e.type === 'heartbeat' && e.tick !== undefined);
    await waitFor(() => beats().length >= 1, 5000, 'the first second of the loop');
    // The first full second: fast wakes for the creator's handshake (30 Hz, less a few on a loaded machine).
    expect(beats()[0]!.tick!.ticks).toBeGreaterThanOrEqual(20);
    await waitFor(() => beats().length >= 3, 5000, 'past the first 2 s');
    // Junk all through the next second: read and dropped, but it starts no handshake, so the lobby stays at 10 Hz.
    const seen = beats().length;
    const junk = setInterval(() => void sendJunk(run.port, 2), 50);
    try {
      await waitFor(() => beats().length >= seen + 2, 5000, 'a second of junk');
    } finally {
      clearInterval(junk);
    }
    const last = beats().at(-1)!.tick!;
    expect(last.datagrams).toBeGreaterThan(0);
    expect(last.ticks).toBeLessThanOrEqual(14);
  }, 15_000);

  test('a worker terminated without a word still frees its port by the time exit is reported', async () => {
    const run = await launch(launcher);
    await waitFor(() => run.events.some((e) => e.type === 'ready'), 5000, 'ready');
    // No grace: terminate() at once, mid-loop; the worker closes nothing itself.
    run.handle.stop('now', 0);
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(await portIsFree(run.port)).toBe(true);
  });

  test('a taken port fails the launch at once (UdpBindError, EADDRINUSE), with nothing started', async () => {
    const port = await freeUdpPort();
    const holder = await Bun.udpSocket({ hostname: '127.0.0.1', port });
    try {
      const events: LauncherEvent[] = [];
      expect(() => launcher.launch({ env: testWorkerEnv(port), startTimeoutMs: 5000, heartbeatTimeoutMs: 2000 }, (e) => events.push(e))).toThrow(UdpBindError);
      await Bun.sleep(100);
      expect(events).toEqual([]);
    } finally {
      holder.close();
    }
  });

  test('with --udp-reads each the worker binds its own socket, called back per datagram, and is counted the same', async () => {
    const each = new BunWorkerLauncher({ stopGraceMs: 500, udpReads: 'each' });
    expect(each.udpReads).toBe('each');
    const run = await launch(each);
    await waitFor(() => run.events.some((e) => e.type === 'ready'), 5000, 'ready');
    await sendJunk(run.port, 5);
    await waitFor(() => run.datagramsCounted() >= 5, 3000, 'the junk counted in tick statistics');
    run.handle.stop('the test is over');
    await waitFor(() => run.exit() !== undefined, 3000, 'exit');
    expect(await portIsFree(run.port)).toBe(true);
  });
});
