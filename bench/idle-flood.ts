/**
 * Idle-connection flood against `huddle serve` with its defaults (logging on, --max-connections-per-address 256)
 * and the fd limit the process really has: two flooder processes open FLOOD idle TCP connections from 127.0.0.5
 * (two, because one process cannot hold more sockets than its own fd limit) while /healthz is asked from
 * 127.0.0.1 every 100 ms. Prints the server's fd limit, its peak fd count, the connections shed and the /healthz
 * latencies. Usage: npx bun bench/idle-flood.ts [FLOOD=20400] [SECONDS=10] [CAP=256]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentileOfSorted } from '../src/stats/percentile.ts';
import { benchArgs, toNumber, usageError } from './args.ts';

const COMMAND = 'npx bun bench/idle-flood.ts';
const { positionals } = benchArgs({
  command: COMMAND,
  positionals: '[FLOOD=20400] [SECONDS=10] [CAP=256]',
  summary: 'FLOOD idle TCP connections from 127.0.0.5 against `huddle serve` for SECONDS, --max-connections-per-address CAP.',
  flags: {},
});
if (positionals.length > 3) usageError(COMMAND, `at most 3 arguments, got ${positionals.length}`);
/** Positional `index` as a whole number ≥ 1, or `fallback` when absent. */
function positional(index: number, name: string, fallback: number): number {
  const raw = positionals[index];
  if (raw === undefined) return fallback;
  const n = toNumber(name, { integer: true, min: 1 }, raw);
  if (typeof n !== 'number') usageError(COMMAND, n.error);
  return n;
}
const FLOOD = positional(0, 'FLOOD', 20400);
const SECONDS = positional(1, 'SECONDS', 10);
const CAP = String(positional(2, 'CAP', 256));
const root = join(import.meta.dir, '..');
const dir = mkdtempSync(join(tmpdir(), 'huddle-flood-'));

const server = Bun.spawn([process.execPath, join(root, 'src/index.ts'), '--port', '0', '--host', '127.0.0.1', '--game-ports', '47000-47003', '--max-games', '2', '--log-format', 'json', '--max-connections-per-address', CAP], {
  cwd: dir,
  stdout: 'pipe',
  stderr: 'inherit',
});
let out = '';
const reader = server.stdout.getReader();
while (!/listening on (http:\/\/\S+)\n/.test(out)) {
  const { done, value } = await reader.read();
  if (done) {
    // It exited before listening (a game port in use, a bad flag): say so instead of reading an ended pipe forever.
    rmSync(dir, { recursive: true, force: true });
    console.error(`huddle serve exited with code ${await server.exited} before its ready line:\n${out}`);
    process.exit(1);
  }
  out += new TextDecoder().decode(value);
}
const url = /listening on (http:\/\/\S+)\n/.exec(out)![1]!;
let logLines = 0;
void (async () => {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    logLines += new TextDecoder().decode(value).split('\n').length - 1;
  }
})();
const port = new URL(url).port;
let flooders: Bun.Subprocess[] = [];
const latencies: number[] = [];
let failures = 0;
let peakFds = 0;
let limit: string | undefined;
let shed: string | undefined;
try {
  limit = readFileSync(`/proc/${server.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!.split(/\s+/)[3];

  const flooder = `
  const net = require('node:net'); let open = 0;
  for (let i = 0; i < ${Math.ceil(FLOOD / 2)}; i++) {
    const s = net.connect({ host: '127.0.0.1', port: ${port}, localAddress: '127.0.0.5' });
    s.on('connect', () => open++); s.on('error', () => {});
    if (i % 200 === 199) await Bun.sleep(2);
  }
  setInterval(() => {}, 1000);`;
  flooders = [0, 1].map(() => Bun.spawn([process.execPath, '-e', flooder], { stdout: 'ignore', stderr: 'ignore' }));

  const until = Date.now() + SECONDS * 1000;
  while (Date.now() < until) {
    peakFds = Math.max(peakFds, readdirSync(`/proc/${server.pid}/fd`).length);
    const started = performance.now();
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000), headers: { connection: 'close' } });
      await response.text();
      latencies.push(performance.now() - started);
    } catch {
      failures++;
    }
    await Bun.sleep(100);
  }
  const metrics = await (await fetch(`${url}/metrics`)).text();
  shed = /^huddle_connections_shed_total (\d+)$/m.exec(metrics)?.[1];
} finally {
  // Also when a step above throws: no flooder, server or temp directory outlives the bench.
  for (const f of flooders) f.kill('SIGKILL');
  server.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
latencies.sort((a, b) => a - b);
const pct = (p: number) => percentileOfSorted(latencies, p * 100).toFixed(1);
console.log(`fd limit ${limit}, flood ${FLOOD} idle connections from 127.0.0.5 for ${SECONDS} s, cap ${CAP}`);
console.log(`server peak fds ${peakFds}, connections shed ${shed}, log lines ${logLines}`);
console.log(`/healthz from 127.0.0.1: ${latencies.length} answered (median ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1)?.toFixed(1)} ms), ${failures} over 1 s or failed`);
