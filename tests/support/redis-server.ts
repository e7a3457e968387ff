/**
 * A real redis-server for tests: Debian's /usr/bin/redis-server on a free 127.0.0.1 port, no persistence (so a
 * restart comes back empty, the worst case a node must survive), with the faults the cluster tests need: stop,
 * kill -9, restart on the same port, pause and resume (SIGSTOP / SIGCONT, a frozen server that keeps its sockets).
 *
 * Every server started here is killed by `stopAll()` (call it in afterAll/afterEach) and, as a last resort, when
 * the test process exits. When redis-server is missing the suites skip and say so; with HUDDLE_REQUIRE_REDIS=1
 * (CI, which installs it) its absence fails instead — the pattern of tests/interop/support.ts.
 */
import { describe, test } from 'bun:test';
import { RedisClient } from 'bun';
import { existsSync } from 'node:fs';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const redisAvailable = existsSync(REDIS_SERVER);

/** `describe`, or a loud skip when redis-server is not installed (a failure with HUDDLE_REQUIRE_REDIS=1). */
export function describeRedis(name: string, body: () => void): void {
  if (redisAvailable) return describe(name, body);
  const why = `redis-server is not installed (no ${REDIS_SERVER}); apt-get install redis-server`;
  if (process.env.HUDDLE_REQUIRE_REDIS === '1') {
    describe(name, () => test('redis-server is installed (HUDDLE_REQUIRE_REDIS=1)', () => {
      throw new Error(why);
    }));
    return;
  }
  console.warn(`SKIPPED "${name}": ${why}`);
  describe.skip(name, body);
}

const running = new Set<RedisServer>();

process.on('exit', () => {
  for (const server of running) server.killNow();
});

/** Kills every server this module started and is still running. */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...running].map((server) => server.kill()));
}

export class RedisServer {
  private child: Bun.Subprocess<'ignore', 'pipe', 'pipe'> | undefined;
  private output: string[] = [];

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts one on a free port (retrying elsewhere if another process took the port first). */
  static async start(): Promise<RedisServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(freeTcpPort());
      try {
        await server.launch();
        return server;
      } catch (error) {
        lastError = error;
        await server.kill();
      }
    }
    throw new Error(`could not start redis-server: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }

  /** Starts it again on the same port, empty (no persistence). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** SIGTERM, as an operator's stop, waiting for the exit (bounded: SIGKILL after 3 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!exited) child.kill('SIGKILL');
    await child.exited;
    this.forget(child);
  }

  /** kill -9: the server vanishes, its clients see their sockets closed. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGCONT'); // a paused server must not stay a stopped zombie
    child.kill('SIGKILL');
    await child.exited;
    this.forget(child);
  }

  /** SIGSTOP: sockets stay open, nothing answers; when resumed, every TTL that passed meanwhile expires at once. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Runs one command on a short-lived client of its own (for tests that inspect or change what is stored). */
  async command(command: string, args: string[] = []): Promise<unknown> {
    const client = new RedisClient(this.url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2000 });
    try {
      await client.connect();
      return await client.send(command, args);
    } finally {
      client.close();
    }
  }

  /** Every key and its value (strings, and the members of sets, hashes and sorted sets), for secret scans. */
  async dump(): Promise<Map<string, string>> {
    const client = new RedisClient(this.url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2000 });
    const all = new Map<string, string>();
    try {
      await client.connect();
      let cursor = '0';
      for (let round = 0; round < 10_000; round++) {
        const [next, keys] = (await client.send('SCAN', [cursor, 'COUNT', '500'])) as [string, string[]];
        for (const key of keys) all.set(key, JSON.stringify(await readAny(client, key)));
        cursor = next;
        if (cursor === '0') break;
      }
    } finally {
      client.close();
    }
    return all;
  }

  killNow(): void {
    this.child?.kill('SIGCONT');
    this.child?.kill('SIGKILL');
  }

  private async launch(): Promise<void> {
    this.output = [];
    const child = Bun.spawn(
      [REDIS_SERVER, '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    this.child = child;
    running.add(this);
    void this.collect(child.stdout);
    void this.collect(child.stderr);
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        if ((await this.command('PING')) === 'PONG') return;
      } catch {
        // not listening yet
      }
      await Bun.sleep(20);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within 5 s (exit ${child.exitCode}); output:\n${this.output.join('')}`);
  }

  private forget(child: Bun.Subprocess): void {
    if (this.child === child) {
      this.child = undefined;
      running.delete(this);
    }
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) if (this.output.length < 200) this.output.push(decoder.decode(chunk));
  }
}

async function readAny(client: RedisClient, key: string): Promise<unknown> {
  const type = (await client.send('TYPE', [key])) as string;
  switch (type) {
    case 'string':
      return client.send('GET', [key]);
    case 'set':
      return client.send('SMEMBERS', [key]);
    case 'hash':
      return client.send('HGETALL', [key]);
    case 'zset':
      return client.send('ZRANGE', [key, '0', '-1', 'WITHSCORES']);
    case 'list':
      return client.send('LRANGE', [key, '0', '-1']);
    default:
      return type;
  }
}

/** A TCP port nobody listens on right now (the OS picks it). */
function freeTcpPort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
