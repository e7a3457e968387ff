/**
 * Real `huddle serve` nodes and `huddle bot` players for the cluster's end-to-end tests: each node its own HTTP
 * port, UDP game-port range, data directory and --node-url, all on 127.0.0.1 and one Redis. A node keeps its ports
 * and data directory across `start()`s, so it can be killed and started again as the same node. Every child, game
 * process (`trackGame`) and directory started here is removed by `killAll()` (afterEach), and children and game
 * processes as a last resort when the test process exits.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange } from '../matchmaker/support/env.ts';
import { collectBotLines } from '../support/bot-lines.ts';

const ENTRY = join(import.meta.dir, '../../src/index.ts');
const BUN = process.execPath;
const children = new Set<Bun.Subprocess>();
const dirs: string[] = [];
/** `huddle game` processes (detached: their own process group), killed by group. */
const gamePids = new Set<number>();

function killGames(): void {
  for (const pid of gamePids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  gamePids.clear();
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  killGames();
});

export async function killAll(): Promise<void> {
  killGames();
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

/** One `huddle serve` on fixed ports and data dir; its stdout (JSON log lines) is read to the end and kept. */
export class ServeNode {
  readonly url: string;
  readonly dataDir: string;
  private readonly port = freeTcpPort();
  private child: Bun.Subprocess<'ignore', 'pipe', 'pipe'> | undefined;
  /** The current run's stdout. */
  log = '';

  private constructor(
    private readonly redisUrl: string,
    private readonly games: { first: number; last: number },
    private readonly extra: readonly string[],
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'huddle-node-'));
    dirs.push(this.dataDir);
    this.url = `http://127.0.0.1:${this.port}`;
  }

  static async create(redisUrl: string, extra: readonly string[] = []): Promise<ServeNode> {
    return new ServeNode(redisUrl, await freePortRange(4), extra);
  }

  /** Starts it (again) and resolves once it listens. */
  async start(timeoutMs = 20_000): Promise<this> {
    const child = Bun.spawn(
      [BUN, ENTRY, 'serve', '--host', '127.0.0.1', '--port', String(this.port), '--game-ports', `${this.games.first}-${this.games.last}`,
        '--data-dir', this.dataDir, '--redis-url', this.redisUrl, '--node-url', this.url, '--max-games', '4', '--log-format', 'json', ...this.extra],
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { PATH: process.env.PATH ?? '' } },
    );
    this.child = child;
    children.add(child);
    this.log = '';
    const ready = Promise.withResolvers<void>();
    void (async () => {
      for await (const chunk of child.stdout as unknown as AsyncIterable<Uint8Array>) {
        this.log += new TextDecoder().decode(chunk);
        if (/listening on https?:\/\/\S+\n/.test(this.log)) ready.resolve();
      }
      ready.reject(new Error(`the node ended before its ready line: ${this.log}`));
    })();
    let timer: Timer | undefined;
    try {
      await Promise.race([ready.promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms: ${this.log}`)), timeoutMs)))]);
    } finally {
      clearTimeout(timer);
    }
    return this;
  }

  nodeId(): string {
    return readFileSync(join(this.dataDir, 'node-id'), 'utf8').trim();
  }

  async kill9(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.child?.exited;
  }

  /** SIGTERM, and waits for the exit code. */
  async term(): Promise<number | undefined> {
    this.child?.kill('SIGTERM');
    return this.child?.exited;
  }

  /** The pid of a game's `huddle game` process (from its adoption record), killed with the rest by killAll(). */
  trackGame(gameId: string): number {
    const record = JSON.parse(readFileSync(join(this.dataDir, 'games', `${gameId}.json`), 'utf8')) as { process: { pid: number } };
    gamePids.add(record.process.pid);
    return record.process.pid;
  }
}

/** A node with its own ports and data dir, started. */
export async function serveNode(redisUrl: string, extra: string[] = []): Promise<ServeNode> {
  return (await ServeNode.create(redisUrl, extra)).start();
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
