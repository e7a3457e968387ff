/**
 * Joins per second through a node that does not host the game (it looks the passcode up in Redis and forwards
 * the request to the hosting node) against the node that does (it answers from memory), alternating run by run in
 * the same invocation. Two real `huddle serve` processes with the product's defaults (logging on, JSON to a
 * file), one real redis-server, all on 127.0.0.1. A join is `POST /api/games/join` answered 200 with a ticket.
 *
 * Each run sends `--joins` joins with `--concurrency` in flight, spread over the games created on A (one game
 * admits 60 new tickets a minute by default, so the joins are spread to stay inside every game's budget).
 *
 *   node_modules/.bin/bun bench/cluster-join.ts [--runs 5] [--joins 150] [--concurrency 8] [--games 30]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '../src/stats/percentile.ts';
import { benchArgs } from './args.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/cluster-join.ts',
  summary: 'Joins/s through a node that does not host the game vs the node that does (Redis, two huddle serve processes).',
  flags: {
    runs: { type: 'number', integer: true, min: 1, default: 5, help: 'pairs of runs (forwarded, then local); medians are shown' },
    joins: { type: 'number', integer: true, min: 1, default: 150, help: 'joins per run' },
    concurrency: { type: 'number', integer: true, min: 1, max: 64, default: 8, help: 'joins in flight' },
    games: { type: 'number', integer: true, min: 1, max: 32, default: 30, help: 'games created on the hosting node' },
  },
});

const BUN = process.execPath;
const ENTRY = join(import.meta.dir, '../src/index.ts');
const root = mkdtempSync(join(tmpdir(), 'huddle-bench-cluster-'));
const children: Bun.Subprocess[] = [];
const cleanup = () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function freeTcpPort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function waitForText(path: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {}
    if (pattern.test(text)) return;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${path} within ${timeoutMs} ms: ${text.slice(-500)}`);
    await Bun.sleep(50);
  }
}

async function startRedis(): Promise<string> {
  const port = freeTcpPort();
  const log = join(root, 'redis.log');
  children.push(Bun.spawn(['/usr/bin/redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root], { stdout: Bun.file(log), stderr: 'ignore' }));
  await waitForText(log, /Ready to accept connections/, 10_000);
  return `redis://127.0.0.1:${port}`;
}

async function startNode(name: string, redisUrl: string, gamePorts: string): Promise<string> {
  const port = freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const out = join(root, `${name}.log`);
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--game-ports', gamePorts, '--data-dir', join(root, name), '--redis-url', redisUrl, '--node-url', url, '--log-format', 'json'];
  children.push(Bun.spawn([BUN, ENTRY, ...args], { stdout: Bun.file(out), stderr: Bun.file(`${out}.err`), env: { PATH: process.env.PATH ?? '' } }));
  await waitForText(out, /listening on http/, 20_000);
  return url;
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** `count` joins with `concurrency` in flight, round-robin over the passcodes; joins/s, and any non-200. */
async function joinRun(url: string, passcodes: string[], count: number, concurrency: number, offset: number): Promise<{ rate: number; failures: Map<string, number> }> {
  let next = 0;
  const failures = new Map<string, number>();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const answer = await post(url, '/api/games/join', { passcode: passcodes[(offset + i) % passcodes.length], name: 'bench' });
        if (answer.status !== 200 || typeof answer.body.connectToken !== 'string') {
          const code = String((answer.body.error as { code?: string } | undefined)?.code ?? answer.status);
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
      }
    }),
  );
  return { rate: count / ((performance.now() - started) / 1000), failures };
}

try {
  const redisUrl = await startRedis();
  // The default range's size (100 ports) for each node, somewhere other benches and tests are unlikely to be.
  const base = 42000 + 200 * Math.floor(Math.random() * 50);
  const host = await startNode('a', redisUrl, `${base}-${base + 99}`);
  const other = await startNode('b', redisUrl, `${base + 100}-${base + 199}`);
  const passcodes: string[] = [];
  for (let i = 0; i < flags.games; i++) {
    const created = await post(host, '/api/games', { name: `g${i}` });
    if (created.status !== 201) throw new Error(`create ${i}: ${created.status} ${JSON.stringify(created.body)}`);
    passcodes.push(String(created.body.passcode));
  }
  // Warm both paths (JIT, connections), inside the games' budgets.
  await joinRun(other, passcodes, 20, flags.concurrency, 0);
  await joinRun(host, passcodes, 20, flags.concurrency, 0);
  const forwarded: number[] = [];
  const local: number[] = [];
  const ratios: number[] = [];
  let offset = 0;
  for (let run = 0; run < flags.runs; run++) {
    const f = await joinRun(other, passcodes, flags.joins, flags.concurrency, (offset += flags.joins));
    const l = await joinRun(host, passcodes, flags.joins, flags.concurrency, (offset += flags.joins));
    for (const [label, r] of [['forwarded', f], ['local', l]] as const) {
      if (r.failures.size) throw new Error(`${label} run ${run}: failed joins ${JSON.stringify([...r.failures])} (raise --games or lower --joins/--runs)`);
    }
    forwarded.push(f.rate);
    local.push(l.rate);
    ratios.push(f.rate / l.rate);
    console.log(`run ${run + 1}: through the other node ${f.rate.toFixed(0)} joins/s, on the hosting node ${l.rate.toFixed(0)} joins/s, ratio ${(f.rate / l.rate).toFixed(2)}`);
  }
  console.log(
    `median over ${flags.runs} pairs (${flags.joins} joins, ${flags.concurrency} in flight): through the other node ${median(forwarded).toFixed(0)} joins/s, on the hosting node ${median(local).toFixed(0)} joins/s, ratio ${median(ratios).toFixed(2)}`,
  );
} finally {
  cleanup();
}
