/**
 * Create to ready: how long `POST /api/games` takes to answer 201 (the game's server started, bound its UDP port
 * and said ready on its channel) with `--launcher worker` (a Bun Worker) against `--launcher process` (a
 * `huddle game` child process from this source tree, supervised over its WebSocket channel). Two matchmakers,
 * one a launcher, each logging as `huddle serve` does (JSON lines, to /dev/null); samples alternate worker,
 * process, worker, … in the same invocation, and each game is ended (its slot back) before the next sample.
 *
 *   node_modules/.bin/bun bench/launchers.ts [--samples 30] [--runs 3]
 */
import type { Config } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/matchmaker/server.ts';
import { median, percentile } from '../src/stats/percentile.ts';
import { freePortRange } from '../tests/matchmaker/support/env.ts';
import { benchArgs } from './args.ts';
import { benchConfig, productLogger } from './hosting-common.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/launchers.ts',
  summary: 'Create-to-ready (HTTP create answered with the game ready), worker vs process launcher, alternating sample by sample.',
  flags: {
    samples: { type: 'number', integer: true, min: 1, default: 30, help: 'samples per launcher and run' },
    runs: { type: 'number', integer: true, min: 1, default: 3, help: 'runs; the median of each figure is shown' },
  },
});

type Kind = Config['launcher'];
const KINDS: readonly Kind[] = ['worker', 'process'];

async function start(kind: Kind): Promise<{ server: RunningServer; cleanup: () => void }> {
  const ports = await freePortRange(2);
  // What each launcher's start costs, so no warm game (a create would take it instead of starting one: that is
  // bench/hosting.ts's `--warm-games`).
  const { config, removeDataDir } = benchConfig({ gamePorts: `${ports.first}-${ports.last}`, maxGames: 2, warmGames: 0 });
  const server = await startServer({ config: { ...config, launcher: kind, onStop: 'drain' }, log: productLogger() });
  return { server, cleanup: removeDataDir };
}

/** One sample: the create's round trip, then the game ended and its slot back. */
async function sample(server: RunningServer): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${server.url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"bench"}' });
  const elapsed = performance.now() - started;
  const body = (await response.json()) as { gameId: string; error?: { message: string } };
  if (response.status !== 201) throw new Error(`create: ${response.status} ${body.error?.message}`);
  server.registry.adminEnd(body.gameId);
  const deadline = Date.now() + 10_000;
  while (server.registry.live > 0) {
    if (Date.now() > deadline) throw new Error('a game did not end within 10 s');
    await Bun.sleep(2);
  }
  return elapsed;
}

const servers = new Map<Kind, Awaited<ReturnType<typeof start>>>();
const perRun: Record<Kind, { p50: number[]; p99: number[] }> = { worker: { p50: [], p99: [] }, process: { p50: [], p99: [] } };
try {
  for (const kind of KINDS) servers.set(kind, await start(kind));
  // One warm-up each: the first worker of a process and the first spawn pay for loading code.
  for (const kind of KINDS) await sample(servers.get(kind)!.server);
  for (let run = 0; run < flags.runs; run++) {
    const times: Record<Kind, number[]> = { worker: [], process: [] };
    for (let i = 0; i < flags.samples; i++) for (const kind of KINDS) times[kind].push(await sample(servers.get(kind)!.server));
    for (const kind of KINDS) {
      perRun[kind].p50.push(percentile(times[kind], 50));
      perRun[kind].p99.push(percentile(times[kind], 99));
    }
    console.log(
      `run ${run + 1}: ` +
        KINDS.map((kind) => `${kind} p50 ${percentile(times[kind], 50).toFixed(1)} ms p99 ${percentile(times[kind], 99).toFixed(1)} ms`).join(', '),
    );
  }
  const figure = (kind: Kind, which: 'p50' | 'p99') => median(perRun[kind][which]);
  console.log(`\ncreate → ready, median of ${flags.runs} runs × ${flags.samples} samples each:`);
  for (const kind of KINDS) console.log(`  ${kind.padEnd(7)} p50 ${figure(kind, 'p50').toFixed(1)} ms  p99 ${figure(kind, 'p99').toFixed(1)} ms`);
  console.log(`  process/worker: p50 ×${(figure('process', 'p50') / figure('worker', 'p50')).toFixed(1)}, p99 ×${(figure('process', 'p99') / figure('worker', 'p99')).toFixed(1)}`);
} finally {
  for (const { server, cleanup } of servers.values()) {
    await server.stop('bench over', 'drain').catch(() => {});
    cleanup();
  }
}
