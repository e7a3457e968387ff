/**
 * What receiving a datagram costs a process that wakes for each one: the other floor under every game's CPU figure
 * (bench/wakeups.ts has its loop's timer wakes). A playing 8-player game receives ~400 datagrams a second, and the
 * Bun UDP socket calls its handler once per datagram, from a wake of its own when they come spaced out.
 *
 * A sender (bench/datagrams.c `send`, paced with clock_nanosleep) sends --rates datagrams a second of --size bytes
 * over loopback to one receiver at a time, and the receiver reports its own CPU (user + system) from its first
 * datagram on, for --seconds:
 * - **Bun**: a bare process whose socket is the product's adapter (`openUdpTransport`) with a handler that only
 *   counts, run with huddle's engine settings (src/engine-settings.ts), as a game process runs;
 * - **C, per datagram**: blocking `recv`, one wake per datagram, the same pattern with no runtime on top;
 * - **Bun, at 40 Hz**: the same process reading whatever waits at each of 40 ticks a second through the product's
 *   polled socket (udp-polled.ts, `--udp-reads wakes`);
 * - **C, at 40 Hz**: sleeps to each of 40 ticks a second and reads whatever is waiting, as the netcode reference
 *   server's update does (the "datagrams read at the loop's wakes" lever in BENCHMARKS.md "Load").
 * Runs alternate the four; the table shows medians over --runs.
 *
 *   node_modules/.bin/bun bench/datagrams.ts [--runs 3] [--seconds 4] [--rates 100,400,1600] [--size 100]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineEnvironment } from '../src/engine-settings.ts';
import { median } from '../src/stats/percentile.ts';
import { freeUdpPort } from '../tests/matchmaker/support/env.ts';
import { benchArgs } from './args.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/datagrams.ts',
  summary: 'CPU per received datagram: a Bun process on the product UDP adapters (called back, and read at 40 Hz ticks) against C (per datagram, and read at 40 Hz ticks).',
  flags: {
    runs: { type: 'number', integer: true, min: 1, default: 3, help: 'runs per rate and receiver; medians are shown' },
    seconds: { type: 'number', integer: true, min: 1, default: 4, help: 'measured window of one run' },
    rates: { type: 'numbers', integer: true, min: 1, max: 100_000, default: [100, 400, 1600], help: 'datagrams per second' },
    size: { type: 'number', integer: true, min: 1, max: 1200, default: 100, help: 'datagram bytes' },
  },
});

const UDP_MODULE = new URL('../src/protocol/transport/udp.ts', import.meta.url).pathname;
const POLLED_MODULE = new URL('../src/protocol/transport/udp-polled.ts', import.meta.url).pathname;
// The Bun receiver, nothing loaded but one of the product's UDP adapters: \`each\`, called back per datagram (udp.ts);
// \`wakes\`, the polled socket read at 40 wakes a second (udp-polled.ts, --udp-reads wakes), as a game did until
// its round woke only for its snapshots (20 a second since 2026-12-02; the figures in BENCHMARKS.md are at 40).
const BUN_CHILD = `
const [mode, port, seconds] = process.argv.slice(-3).map((a, i) => (i === 0 ? a : Number(a)));
let received = -1;
let before, started;
const finish = () => {
  const used = process.cpuUsage(before);
  console.log(JSON.stringify({ received, cpuUs: used.user + used.system, seconds: (performance.now() - started) / 1000 }));
  process.exit(0);
};
const onDatagram = () => {
  // The first datagram starts the window and is not counted, as in the C peer.
  if (++received === 0) { before = process.cpuUsage(); started = performance.now(); setTimeout(finish, seconds * 1000); }
};
if (mode === 'wakes') {
  const { bindUdpFd, PolledUdpSocket } = await import(${JSON.stringify(POLLED_MODULE)});
  const socket = new PolledUdpSocket(bindUdpFd('127.0.0.1', port), { owned: true });
  setInterval(() => socket.drain(onDatagram), 25);
} else {
  const { openUdpTransport } = await import(${JSON.stringify(UDP_MODULE)});
  await openUdpTransport({ hostname: '127.0.0.1', port, onDatagram });
}
console.log(JSON.stringify({ ready: true }));
`;

interface Run {
  received: number;
  cpuUs: number;
  seconds: number;
}

type Side = 'bun' | 'bunTick' | 'c' | 'cTick';

async function measure(receiver: string[], rate: number, port: number): Promise<Run> {
  const child = Bun.spawn(receiver, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...engineEnvironment(process.env) } });
  const killer = setTimeout(() => child.kill(), (flags.seconds + 20) * 1000);
  try {
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const nextLine = async (): Promise<string> => {
      for (;;) {
        const newline = text.indexOf('\n');
        if (newline >= 0) {
          const line = text.slice(0, newline);
          text = text.slice(newline + 1);
          return line;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`receiver ended early: ${await new Response(child.stderr).text()}`);
        text += decoder.decode(value);
      }
    };
    if (!(JSON.parse(await nextLine()) as { ready?: boolean }).ready) throw new Error('receiver did not say ready');
    // One second more than the window, so the window is full of traffic.
    const sender = spawnSync(cBinary, ['send', String(port), String(rate), String(flags.seconds + 1), String(flags.size)], { encoding: 'utf8', timeout: (flags.seconds + 10) * 1000 });
    if (sender.status !== 0) throw new Error(`sender failed: ${sender.stderr}`);
    return JSON.parse(await nextLine()) as Run;
  } finally {
    clearTimeout(killer);
    child.kill();
    await child.exited;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'huddle-datagrams-'));
const cBinary = join(dir, 'datagrams');
const cc = spawnSync('cc', ['-O2', '-o', cBinary, new URL('./datagrams.c', import.meta.url).pathname], { encoding: 'utf8' });
if (cc.status !== 0) {
  console.log(`no sender or C peer: cc ${cc.error ? 'not found' : `failed: ${cc.stderr.trim()}`}`);
  process.exit(1);
}
const script = join(dir, 'receiver.ts');
await Bun.write(script, BUN_CHILD);

console.log(`${new Date().toISOString()} · ${flags.runs} runs × ${flags.seconds} s per rate and receiver · ${flags.size} B · load ${(await Bun.file('/proc/loadavg').text()).trim()}`);
console.log(
  '| datagrams/s | Bun µs CPU per datagram | C µs per datagram | Bun / C | Bun ms CPU/s | Bun read at 40 Hz: ms CPU/s | C ms CPU/s | C read at 40 Hz: ms CPU/s | received (Bun / Bun 40 Hz / C / C 40 Hz) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
try {
  for (const rate of flags.rates) {
    const runs: Record<Side, Run[]> = { bun: [], bunTick: [], c: [], cTick: [] };
    for (let i = 0; i < flags.runs; i++) {
      for (const side of ['bun', 'bunTick', 'c', 'cTick'] as const) {
        const port = await freeUdpPort();
        const receiver =
          side === 'bun' || side === 'bunTick'
            ? [process.execPath, script, side === 'bun' ? 'each' : 'wakes', String(port), String(flags.seconds)]
            : side === 'c'
              ? [cBinary, 'recv', String(port), String(flags.seconds)]
              : [cBinary, 'tick', String(port), String(flags.seconds), '40'];
        runs[side].push(await measure(receiver, rate, port));
      }
    }
    const perDatagram = (side: Side) => median(runs[side].map((r) => r.cpuUs / Math.max(1, r.received)));
    const perSecond = (side: Side) => median(runs[side].map((r) => r.cpuUs / 1000 / r.seconds));
    const received = (side: Side) => median(runs[side].map((r) => r.received));
    console.log(
      `| ${rate} | ${perDatagram('bun').toFixed(1)} | ${perDatagram('c').toFixed(1)} | ${(perDatagram('bun') / perDatagram('c')).toFixed(2)}x | ` +
        `${perSecond('bun').toFixed(2)} | ${perSecond('bunTick').toFixed(2)} | ${perSecond('c').toFixed(2)} | ${perSecond('cTick').toFixed(2)} | ` +
        `${received('bun')} / ${received('bunTick')} / ${received('c')} / ${received('cTick')} |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
