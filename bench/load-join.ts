/**
 * The join-API client of the load benchmark (bench/load-run.ts spawns it while the games play): `--concurrency`
 * loops, each sending `POST /api/games/join` with a valid passcode of an open lobby and waiting for the answer
 * before the next, for `--seconds`. A lobby that nobody connects to never fills (the registry counts connected
 * players, not tickets), so every request takes the whole successful path — passcode lookup, connect token
 * minted and encrypted — and is not cut short by a 409 or the failed-join rate limits. Its own process, so its
 * CPU is neither the server's nor the bots'.
 *
 *   bun bench/load-join.ts --url http://127.0.0.1:PORT --passcode CODE [--seconds 15] [--concurrency 8]
 *
 * Prints `RESULT {json}`: requests, rate, latency p50/p99/max (ms), the count per status and its own CPU.
 */
import { percentile } from '../src/stats/percentile.ts';
import { benchArgs, usageError } from './args.ts';

const COMMAND = 'bun bench/load-join.ts';
const { values: flags } = benchArgs({
  command: COMMAND,
  summary: 'The join-API client of the load benchmark (bench/load-run.ts spawns it); prints RESULT {json}.',
  flags: {
    url: { type: 'string', required: true, value: 'http://127.0.0.1:PORT', help: 'the matchmaker' },
    passcode: { type: 'string', required: true, value: 'CODE', help: 'an open lobby to join' },
    seconds: { type: 'number', integer: true, min: 1, default: 15, help: 'how long to send' },
    concurrency: { type: 'number', integer: true, min: 1, default: 8, help: 'requests in flight' },
  },
});
const url = URL.canParse(flags.url) ? new URL('/api/games/join', flags.url).href : usageError(COMMAND, `--url must be a URL, got '${flags.url}'`);
const passcode = flags.passcode;
const seconds = flags.seconds;
const concurrency = flags.concurrency;

const latencyMs: number[] = [];
const statuses: Record<string, number> = {};
const started = performance.now();
// Taken here, not from /proc by the parent, so this process's start-up (module loading) is not in it.
const cpu0 = process.cpuUsage();
const deadline = started + seconds * 1000;

async function loop(id: number): Promise<void> {
  const body = JSON.stringify({ passcode, name: `joiner${id}` });
  while (performance.now() < deadline) {
    const sent = performance.now();
    let status: string;
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      status = String(response.status);
    } catch (error) {
      status = error instanceof Error ? error.name : 'error';
    }
    latencyMs.push(performance.now() - sent);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
const wall = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `RESULT ${JSON.stringify({
    requests: latencyMs.length,
    seconds: wall,
    perSecond: latencyMs.length / wall,
    okPerSecond: (statuses['200'] ?? 0) / wall,
    cpuCores: (cpu.user + cpu.system) / 1e6 / wall,
    p50Ms: percentile(latencyMs, 50),
    p99Ms: percentile(latencyMs, 99),
    maxMs: Math.max(...latencyMs),
    statuses,
  })}\n`,
);
