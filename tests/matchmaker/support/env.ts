import { HUDDLE_PROTOCOL_ID } from '../../../src/protocol/constants.ts';
import type { WorkerEnv } from '../../../src/workers/worker-env.ts';

/** Asks the OS for a UDP port that is free right now. */
export async function freeUdpPort(): Promise<number> {
  const probe = await Bun.udpSocket({ hostname: '127.0.0.1', port: 0 });
  const port = probe.port;
  probe.close();
  return port;
}

export function testWorkerEnv(port: number, overrides: Partial<WorkerEnv> = {}): WorkerEnv {
  return {
    gameId: 'testgame0000000000000A',
    port,
    bindHost: '127.0.0.1',
    publicHost: '127.0.0.1',
    privateKey: crypto.getRandomValues(new Uint8Array(32)),
    reportToken: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
    reportUrl: 'http://127.0.0.1:1/internal/games/testgame0000000000000A/report',
    maxPlayers: 8,
    lobbyTimeoutSeconds: 300,
    roundSeconds: 120,
    protocolId: HUDDLE_PROTOCOL_ID,
    heartbeatIntervalMs: 25,
    hostClientId: 1n,
    rejoinGraceSeconds: 60,
    maxSpectators: 16,
    ...overrides,
  };
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs` so a broken test cannot hang. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** A run of `count` consecutive UDP ports that are free right now. */
export async function freePortRange(count: number): Promise<{ first: number; last: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20000 + Math.floor(Math.random() * 20000);
    const sockets = [];
    try {
      for (let p = first; p < first + count; p++) sockets.push(await Bun.udpSocket({ hostname: '127.0.0.1', port: p }));
      return { first, last: first + count - 1 };
    } catch {
      // taken: try elsewhere
    } finally {
      for (const s of sockets) s.close();
    }
  }
  throw new Error('no free port range');
}

/** Reads a `huddle serve` child's stdout until its ready line and returns the URL in it. */
export async function readyUrl(stdout: ReadableStream<Uint8Array>, timeoutMs = 15000): Promise<string> {
  const reader = stdout.getReader();
  const ready = /listening on (https?:\/\/\S+)\n/;
  let out = '';
  const deadline = Date.now() + timeoutMs;
  let timer: Timer | undefined;
  try {
    while (!ready.test(out)) {
      // A server that prints nothing and stays alive must not hang the test: each read races the deadline.
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now()));
      });
      const next = await Promise.race([reader.read(), late]);
      clearTimeout(timer);
      if (next === 'late') {
        await reader.cancel().catch(() => {});
        throw new Error(`no ready line within ${timeoutMs} ms: ${out}`);
      }
      if (next.done) throw new Error(`the server ended before its ready line: ${out}`);
      out += new TextDecoder().decode(next.value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return ready.exec(out)?.[1] ?? '';
}

/** Proves a UDP port is free by binding it (a worker's port must be, once its exit was reported). */
export async function portIsFree(port: number): Promise<boolean> {
  try {
    const socket = await Bun.udpSocket({ hostname: '127.0.0.1', port });
    socket.close();
    return true;
  } catch {
    return false;
  }
}
