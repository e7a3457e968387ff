/**
 * What only the process launcher does (the shared guarantees are in launcher.test.ts, run against both): its
 * game's channel survives a dropped socket and a matchmaker restart, another launcher adopts a running game by pid,
 * a dead pid or a channel that never comes back is `lost_in_restart`, a wrong token never opens a channel, and
 * `detach` lets go of a game without ending it. Real child processes and a real loopback listener; every child
 * is killed after each test.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/log.ts';
import { startReportListener } from '../../src/matchmaker/edge/report-listener.ts';
import { channelUpgrade } from '../../src/matchmaker/internal/channel-routes.ts';
import { ChannelHub } from '../../src/workers/channel-hub.ts';
import { encodeWorkerEnv } from '../../src/workers/worker-env.ts';
import type { GameHandle, LauncherEvent } from '../../src/workers/launcher.ts';
import { processAlive, ProcessLauncher } from '../../src/workers/process-launcher.ts';
import { freeUdpPort, portIsFree, testWorkerEnv, waitFor } from './support/env.ts';

const UDP_WORKER = fileURLToPath(new URL('./fixtures/udp-worker.ts', import.meta.url));
const cleanups: (() => unknown)[] = [];
const pids = new Set<number>();

afterEach(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  pids.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A matchmaker's loopback listener (random port) serving one hub's channels. */
function listen(hub: ChannelHub) {
  return startReportListener(() => new Response(null, { status: 404 }), channelUpgrade(hub, silentLogger));
}

/** A loopback listener on a fixed port with the hub's channel route (what a restarted matchmaker offers). */
function listenOn(hub: ChannelHub, port: number) {
  const channels = channelUpgrade(hub, silentLogger);
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port,
    fetch: (request, s) => {
      const answer = channels.fetch(request, s as never);
      return answer === 'upgraded' ? (undefined as unknown as Response) : (answer ?? new Response(null, { status: 404 }));
    },
    websocket: channels.websocket as never,
  });
  cleanups.push(() => server.stop(true));
  return server;
}

function recorder() {
  const events: LauncherEvent[] = [];
  return { events, onEvent: (e: LauncherEvent) => events.push(e), exit: () => events.find((e): e is Extract<LauncherEvent, { type: 'exit' }> => e.type === 'exit') };
}

async function setup() {
  const logDir = mkdtempSync(join(tmpdir(), 'huddle-plaunch-'));
  cleanups.push(() => rmSync(logDir, { recursive: true, force: true }));
  const hub = new ChannelHub();
  const first = listen(hub);
  const httpPort = first.port as number;
  cleanups.push(() => first.stop(true));
  const port = await freeUdpPort();
  const env = testWorkerEnv(port, { reportUrl: `http://127.0.0.1:${httpPort}/internal/games/testgame0000000000000A/report` });
  const launcher = new ProcessLauncher({ hub, logDir, command: [process.execPath, UDP_WORKER], stopGraceMs: 500 });
  const run = recorder();
  const handle = launcher.launch({ env, startTimeoutMs: 5000, heartbeatTimeoutMs: 600 }, run.onEvent);
  pids.add(handle.process!.pid);
  cleanups.push(() => handle.stop('test over', 0));
  await waitFor(() => run.events.some((e) => e.type === 'ready'), 5000, 'ready');
  return { logDir, hub, first, httpPort, port, env, launcher, run, handle };
}

const testEnvText = () => encodeWorkerEnv(testWorkerEnv(1));

const heartbeats = (events: LauncherEvent[]) => events.filter((e) => e.type === 'heartbeat').length;

describe('ProcessLauncher', () => {
  test('the game runs detached in its own process group, and a channel that drops reconnects: no failure, heartbeats go on', async () => {
    const s = await setup();
    const stat = await Bun.file(`/proc/${s.handle.process!.pid}/stat`).text();
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 5 (pgrp) is its own pid: a Ctrl-C to the matchmaker's group does not reach it.
    expect(Number(fields[2])).toBe(s.handle.process!.pid);

    // The matchmaker's listener goes away (as in a restart) and comes back on the same port.
    s.first.stop(true);
    await Bun.sleep(300);
    listenOn(s.hub, s.httpPort);
    const before = heartbeats(s.run.events);
    await waitFor(() => heartbeats(s.run.events) > before + 3, 5000, 'heartbeats after the reconnect');
    expect(s.run.exit()).toBeUndefined();
    s.handle.stop('test');
    await waitFor(() => s.run.exit() !== undefined, 3000, 'exit');
    expect(s.run.exit()).toMatchObject({ cause: 'exiting', reason: 'shutdown' });
    expect(await portIsFree(s.port)).toBe(true);
  }, 20_000);

  test('detach lets go of a game without ending it; another launcher adopts it by pid; its stop still reaches the game', async () => {
    const s = await setup();
    const identity = s.handle.process!;
    s.handle.detach!();
    // The first matchmaker is gone: its listener stops, its hub forgets the game.
    s.first.stop(true);
    expect(s.hub.size).toBe(0);
    await Bun.sleep(200);
    expect(processAlive(identity)).toBe(true);
    expect(s.run.exit()).toBeUndefined();

    const hub = new ChannelHub();
    listenOn(hub, s.httpPort);
    const adopted = recorder();
    const launcher = new ProcessLauncher({ hub, logDir: s.logDir, stopGraceMs: 500 });
    const handle: GameHandle = launcher.adopt(
      { gameId: s.env.gameId, port: s.port, reportToken: s.env.reportToken, process: identity, reconnectTimeoutMs: 5000, heartbeatTimeoutMs: 600 },
      adopted.onEvent,
    );
    cleanups.push(() => handle.stop('test over', 0));
    await waitFor(() => heartbeats(adopted.events) >= 3, 5000, 'heartbeats from the adopted game');
    // An adopted game was ready before: no second `ready`.
    expect(adopted.events.some((e) => e.type === 'ready')).toBe(false);
    handle.stop('test');
    await waitFor(() => adopted.exit() !== undefined, 5000, 'exit');
    expect(adopted.exit()).toMatchObject({ cause: 'exiting', reason: 'shutdown' });
    expect(processAlive(identity)).toBe(false);
    expect(await portIsFree(s.port)).toBe(true);
    expect(s.run.exit()).toBeUndefined();
  }, 20_000);

  test('an adopted game that never reconnects (here: another token) is lost_in_restart and killed; a dead pid at once', async () => {
    const s = await setup();
    const identity = s.handle.process!;
    s.handle.detach!();
    s.first.stop(true);
    const hub = new ChannelHub();
    listenOn(hub, s.httpPort);
    const launcher = new ProcessLauncher({ hub, logDir: s.logDir, stopGraceMs: 500 });
    const wrong = recorder();
    const other = testWorkerEnv(s.port).reportToken;
    launcher.adopt({ gameId: s.env.gameId, port: s.port, reportToken: other, process: identity, reconnectTimeoutMs: 800, heartbeatTimeoutMs: 600 }, wrong.onEvent);
    await waitFor(() => wrong.exit() !== undefined, 5000, 'lost');
    expect(wrong.exit()).toMatchObject({ cause: 'lost_in_restart' });
    expect(wrong.events.map((e) => e.type)).toEqual(['exit']);
    expect(processAlive(identity)).toBe(false);
    expect(await portIsFree(s.port)).toBe(true);

    const dead = recorder();
    launcher.adopt({ gameId: 'gone', port: s.port, reportToken: other, process: identity, reconnectTimeoutMs: 5000, heartbeatTimeoutMs: 600 }, dead.onEvent);
    expect(dead.exit()).toMatchObject({ cause: 'lost_in_restart' });
  }, 20_000);

  test('`huddle game` typed by hand: exit 2 and one line naming the missing or bad variable, never its value', async () => {
    const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
    const run = async (env: Record<string, string>) => {
      const child = Bun.spawn([process.execPath, index, 'game'], { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
      return { code: await child.exited, stderr: await new Response(child.stderr).text() };
    };
    expect(await run({})).toEqual({ code: 2, stderr: 'huddle game: HUDDLE_GAME_ID is missing\n' });
    const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ';
    const bad = await run({ ...Object.fromEntries(Object.entries(testEnvText()).filter(([k]) => k !== 'HUDDLE_PRIVATE_KEY')), HUDDLE_PRIVATE_KEY: secret });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('huddle game: HUDDLE_PRIVATE_KEY must be 32 bytes of base64\n');
    expect(bad.stderr).not.toContain(secret);
  });

  test('the hub admits a game only with its own token, compared whole', () => {
    const hub = new ChannelHub();
    const token = testWorkerEnv(1).reportToken;
    const unregister = hub.register('g1', token, { connected: () => ({ message: () => {}, closed: () => {} }) });
    expect(hub.authorize('g1', token)).toBe(true);
    expect(hub.authorize('g1', undefined)).toBe(false);
    expect(hub.authorize('g1', `${token}x`)).toBe(false);
    expect(hub.authorize('g1', token.slice(0, -1))).toBe(false);
    expect(hub.authorize('g2', token)).toBe(false);
    unregister();
    expect(hub.authorize('g1', token)).toBe(false);
  });
});
