/**
 * Idle-connection flood: one address (127.0.0.5) opens more idle TCP connections than the server has fds while
 * /healthz from 127.0.0.1 must answer within 1 s. The server runs under a lowered fd limit (`ulimit -n`) so the
 * flood is a few hundred sockets, sized to the limit the child really has (read from /proc/<pid>/limits).
 * The first test reproduces the outage with the cap off; the second shows the cap holding.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { freePortRange } from '../matchmaker/support/env.ts';
import { type Child, spawnHuddle, tempDir, until, waitReady } from './support.ts';

const FD_LIMIT = 512;
const dir = tempDir();
afterAll(() => dir.remove());

function fdLimitOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]);
}

function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function startServer(cap: number): Promise<{ child: Child; url: string }> {
  const ports = await freePortRange(1);
  const child = spawnHuddle(
    ['--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1', '--log-format', 'json', '--max-connections-per-address', String(cap)],
    { cwd: dir.path, shellPrefix: `ulimit -n ${FD_LIMIT};` },
  );
  return { child, url: await waitReady(child) };
}

/** Opens `count` idle connections from 127.0.0.5 (nothing is ever sent on them). */
async function flood(port: number, count: number): Promise<{ sockets: Socket[]; open: () => number }> {
  const sockets: Socket[] = [];
  let open = 0;
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.5' });
    socket.on('connect', () => open++);
    socket.on('close', (hadError) => {
      if (!hadError || socket.readyState === 'closed') open--;
    });
    socket.on('error', () => {});
    sockets.push(socket);
    // Paced, so the kernel's accept queue does not overflow (an overflowed handshake would only complete later).
    if (i % 50 === 49) await Bun.sleep(5);
  }
  await until(() => sockets.every((s) => s.readyState !== 'opening'), 10_000, 'the flood to connect');
  return { sockets, open: () => sockets.filter((s) => s.readyState === 'open').length };
}

/** Milliseconds /healthz took from 127.0.0.1 on a fresh connection, or Infinity past 1 s. */
async function healthzMs(url: string): Promise<number> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000), keepalive: false, headers: { connection: 'close' } });
    if (response.status !== 200) return Infinity;
    await response.text();
    return performance.now() - started;
  } catch {
    return Infinity;
  }
}

describe('an idle-connection flood from one address', () => {
  test('reproduction: with the cap off, the flood takes every fd and /healthz from others times out', async () => {
    const { child, url } = await startServer(0);
    let sockets: Socket[] = [];
    try {
      const limit = fdLimitOf(child.proc.pid);
      expect(limit).toBe(FD_LIMIT);
      const flooded = await flood(Number(new URL(url).port), limit + 200);
      sockets = flooded.sockets;
      // The server accepts from its backlog until it is out of fds.
      await until(() => fdsOf(child.proc.pid) >= limit - 2, 10_000, 'the server to run out of fds');
      expect(await healthzMs(url)).toBe(Infinity);
    } finally {
      for (const s of sockets) s.destroy();
      await child.stop();
    }
  }, 30_000);

  test('with --max-connections-per-address 64, the flood keeps at most 64 and /healthz answers within 1 s throughout', async () => {
    const { child, url } = await startServer(64);
    let sockets: Socket[] = [];
    try {
      const limit = fdLimitOf(child.proc.pid);
      const flooded = await flood(Number(new URL(url).port), limit + 200);
      sockets = flooded.sockets;
      const timings: number[] = [];
      for (let i = 0; i < 5; i++) {
        timings.push(await healthzMs(url));
        await Bun.sleep(100);
      }
      expect(Math.max(...timings)).toBeLessThan(1000);
      // The server shut the surplus down: what stays open from 127.0.0.5 is at most the cap.
      await until(() => flooded.open() <= 64, 15_000, 'the flood to be cut to the cap');
      expect(fdsOf(child.proc.pid)).toBeLessThan(limit / 2);
      expect(flooded.open()).toBeGreaterThan(0);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const shed = Number(/^huddle_connections_shed_total (\d+)$/m.exec(metrics)?.[1]);
      expect(shed).toBeGreaterThanOrEqual(limit + 200 - 64 - 50);
      // Sampled, not one line per shed connection.
      const lines = child.stdout().split('\n').filter((l) => l.includes('"conn.shed"'));
      expect(lines.length).toBeLessThan(50);
    } finally {
      for (const s of sockets) s.destroy();
      await child.stop();
    }
  }, 30_000);
});
