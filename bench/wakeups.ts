/**
 * What one wake of an idle event loop costs on this machine: the floor under every game's CPU figure. A game's
 * thread sleeps between its loop's due times (30 Hz steps, 20 Hz snapshots, 10 Hz idle) and the datagrams that
 * arrive, and each wake is paid for whatever it then does.
 *
 * A child process does nothing but wake HZ times a second for --seconds: Bun with an empty setInterval (the
 * runtime's whole loop: timers, microtasks, its housekeeping), and its peer in the same invocation, a C loop
 * sleeping in epoll_wait (bench/wakeups.c, compiled with `cc` when there is one; skipped with a note if not).
 * Each child reports its own CPU (user + system) per wake; runs alternate Bun, C, Bun, C, …, and the table shows
 * each one's median over --runs and their ratio.
 *
 *   node_modules/.bin/bun bench/wakeups.ts [--runs 5] [--seconds 5] [--hz 10,30,300]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '../src/stats/percentile.ts';
import { benchArgs } from './args.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/wakeups.ts',
  summary: 'CPU per wake of an idle event loop: Bun (empty setInterval) against C (epoll_wait) in the same invocation.',
  flags: {
    runs: { type: 'number', integer: true, min: 1, default: 5, help: 'runs per rate and side; medians are shown' },
    seconds: { type: 'number', integer: true, min: 1, default: 5, help: 'length of one run' },
    hz: { type: 'numbers', integer: true, min: 1, max: 1000, default: [10, 30, 300], help: 'wake rates to measure' },
  },
});

// The Bun side: a script of its own, written to a temporary file, so the child loads nothing but it (this module's
// imports are not part of a wake).
const BUN_CHILD = `
const [hz, seconds] = process.argv.slice(-2).map(Number);
let wakes = 0;
const timer = setInterval(() => { wakes++; }, 1000 / hz);
const before = process.cpuUsage();
setTimeout(() => {
  const used = process.cpuUsage(before);
  clearInterval(timer);
  console.log(JSON.stringify({ wakes, cpuUs: used.user + used.system }));
}, seconds * 1000);
`;

interface Run {
  wakes: number;
  cpuUs: number;
}

function run(cmd: string, args: string[]): Run {
  const out = spawnSync(cmd, args, { encoding: 'utf8', timeout: (flags.seconds + 20) * 1000 });
  if (out.status !== 0) throw new Error(`${cmd} failed: ${out.stderr || out.error?.message}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Run;
}

const dir = mkdtempSync(join(tmpdir(), 'huddle-wakeups-'));
let cBinary: string | undefined = join(dir, 'wakeups');
const cc = spawnSync('cc', ['-O2', '-o', cBinary, new URL('./wakeups.c', import.meta.url).pathname], { encoding: 'utf8' });
if (cc.status !== 0) {
  console.log(`no C peer: cc ${cc.error ? 'not found' : `failed: ${cc.stderr.trim()}`}`);
  cBinary = undefined;
}
const script = join(dir, 'child.ts');
await Bun.write(script, BUN_CHILD);

console.log(`${new Date().toISOString()} · ${flags.runs} runs × ${flags.seconds} s per rate and side · load ${(await Bun.file('/proc/loadavg').text()).trim()}`);
console.log('| wakes/s | Bun µs CPU per wake | C µs CPU per wake | Bun / C | Bun ms CPU/s at this rate |');
console.log('| --- | --- | --- | --- | --- |');
try {
  for (const hz of flags.hz) {
    const bun: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < flags.runs; i++) {
      const b = run(process.execPath, [script, String(hz), String(flags.seconds)]);
      bun.push(b.cpuUs / b.wakes);
      if (cBinary) {
        const n = run(cBinary, [String(hz), String(flags.seconds)]);
        c.push(n.cpuUs / n.wakes);
      }
    }
    const bunUs = median(bun);
    const cUs = c.length ? median(c) : NaN;
    console.log(`| ${hz} | ${bunUs.toFixed(1)} | ${c.length ? cUs.toFixed(1) : '—'} | ${c.length ? `${(bunUs / cUs).toFixed(2)}x` : '—'} | ${((bunUs * hz) / 1000).toFixed(2)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
