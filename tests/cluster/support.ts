/**
 * Real `huddle serve` nodes and `huddle bot` players for the cluster's end-to-end tests: each node its own HTTP
 * port, UDP game-port range, data directory and --node-url, all on 127.0.0.1 and one Redis. Every child started
 * here is killed by `killAll()` (afterEach), and as a last resort when the test process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange, readyUrl } from '../matchmaker/support/env.ts';
import { collectBotLines } from '../support/bot-lines.ts';

const ENTRY = join(import.meta.dir, '../../src/index.ts');
const BUN = process.execPath;
const children = new Set<Bun.Subprocess>();
const dirs: string[] = [];

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function killAll(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...children].map((c) => c.exited));
  children.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function freeTcpPort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export interface ServeNode {
  url: string;
  child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  dataDir: string;
  kill9(): Promise<void>;
}

export async function serveNode(redisUrl: string, extra: string[] = []): Promise<ServeNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'huddle-node-'));
  dirs.push(dataDir);
  const games = await freePortRange(4);
  const port = freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const child = Bun.spawn(
    [BUN, ENTRY, 'serve', '--host', '127.0.0.1', '--port', String(port), '--game-ports', `${games.first}-${games.last}`, '--data-dir', dataDir,
      '--redis-url', redisUrl, '--node-url', url, '--max-games', '4', '--log-format', 'json', ...extra],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { PATH: process.env.PATH ?? '' } },
  );
  children.add(child);
  await readyUrl(child.stdout, 20_000);
  return {
    url,
    child,
    dataDir,
    async kill9() {
      child.kill('SIGKILL');
      await child.exited;
    },
  };
}

/** `huddle bot … --json`; `next(event)` waits for one of its lines. */
export function bot(url: string, args: string[]) {
  const child = Bun.spawn([BUN, ENTRY, 'bot', '--server', url, '--json', '--timeout', '50', ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { PATH: process.env.PATH ?? '' } });
  children.add(child);
  return { ...collectBotLines(child.stdout), exited: child.exited, kill: () => child.kill('SIGKILL') };
}

export async function api(url: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  const response = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` naming `what`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await Bun.sleep(100);
  }
}
