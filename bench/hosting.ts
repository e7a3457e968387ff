/**
 * Hosting benchmarks (issue 3): create-to-ready latency, RSS per idle lobby worker, and how many 4-bot games
 * hold a 30 Hz tick, all on loopback against a real matchmaker with real Bun Workers. Each run is a fresh child
 * process (bench/hosting-run.ts) that must exit by itself once its server has stopped; one that does not is
 * reported as a leak.
 *
 *   node_modules/.bin/bun bench/hosting.ts [--only latency,rss,tick,probe] [--runs 3] [--games 200]
 *       [--rss-n 1,10,50] [--k 10,25,50,75,100,125,150] [--max-k 150] [--round-seconds 45] [--window 20]
 *       [--probe-n 50] [--probe-no-smol] [--worker source,bundled] [--game-ports 29000-29399]
 *
 * Default parts: latency, rss, tick. `probe` splits one worker's RSS by what it loads (see hosting-probe-worker.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GAME_WORKER_ENTRY } from '../src/workers/launcher.ts';
import { engineEnvironment } from '../src/engine-settings.ts';
import { benchArgs, usageError } from './args.ts';
import { median } from '../src/stats/percentile.ts';
import { DEFAULT_GAME_PORTS, portCount, settlesWithin, waitForQuietMachine } from './hosting-common.ts';

const COMMAND = 'node_modules/.bin/bun bench/hosting.ts';
const PARTS = ['latency', 'rss', 'tick', 'probe'];
const WORKER_MODES = ['source', 'bundled'];
const { values: flags } = benchArgs({
  command: COMMAND,
  summary: 'create→ready latency, RSS per idle lobby worker, and how many 4-bot games hold a 30 Hz tick.',
  flags: {
    only: { type: 'string', default: 'latency,rss,tick', value: PARTS.join(','), help: 'parts to run, comma separated' },
    runs: { type: 'number', integer: true, min: 1, default: 3, help: 'fresh-process runs per figure' },
    games: { type: 'number', integer: true, min: 1, default: 200, help: 'games created one after another (latency)' },
    'rss-n': { type: 'numbers', integer: true, min: 1, default: [1, 10, 50], help: 'idle lobbies per RSS step' },
    k: { type: 'numbers', integer: true, min: 1, default: [10, 25, 50, 75, 100, 125, 150], help: 'live games per tick step' },
    'max-k': { type: 'number', integer: true, min: 1, default: 150, help: 'skip tick steps above this' },
    'round-seconds': { type: 'number', integer: true, min: 1, default: 45, help: 'round length in the tick steps' },
    window: { type: 'number', integer: true, min: 1, default: 20, help: 'measured window of a tick step, s' },
    'probe-n': { type: 'number', integer: true, min: 1, default: 50, help: 'workers per probe variant' },
    'probe-no-smol': { type: 'boolean', help: 'probe with and without smol workers' },
    worker: { type: 'string', default: 'source,bundled', value: WORKER_MODES.join(','), help: 'worker entries to measure' },
    'game-ports': { type: 'string', default: DEFAULT_GAME_PORTS, value: 'A-B', help: 'UDP port range for the games' },
    'warm-games': { type: 'numbers', integer: true, min: 0, default: [1], help: "latency: the server's --warm-games, each value in turn within every run (e.g. 1,0)" },
    'gap-ms': { type: 'number', integer: true, min: 0, default: 0, help: 'latency: pause after each game has ended, before the next create' },
  },
});
const commaList = (name: string, raw: string, allowed: readonly string[]): string[] => {
  const list = raw.split(',');
  const bad = list.find((item) => !allowed.includes(item));
  if (bad !== undefined) usageError(COMMAND, `--${name} takes ${allowed.join(', ')}, got '${bad}'`);
  return list;
};
const only = new Set(commaList('only', flags.only, PARTS));
const runs = flags.runs;
const games = flags.games;
const rssCounts = flags['rss-n'];
const maxK = flags['max-k'];
const kLadder = flags.k.filter((k) => k <= maxK);
const roundSeconds = flags['round-seconds'];
const windowSeconds = flags.window;
const probeN = flags['probe-n'];
/** `source`: the worker as `bun src/index.ts` runs it; `bundled`: one pre-built file, as the compiled binary embeds it. */
const workerModes = commaList('worker', flags.worker, WORKER_MODES);
let bundledEntry: string | undefined;
let bundleDir: string | undefined;
/** The game worker as one file, built the way `npm run build` embeds it in the binary. */
async function bundledWorker(): Promise<string> {
  if (bundledEntry) return bundledEntry;
  bundleDir = mkdtempSync(join(tmpdir(), 'huddle-bench-worker-'));
  const build = await Bun.build({ entrypoints: [GAME_WORKER_ENTRY.replace(/^file:\/\//, '')], target: 'bun', outdir: bundleDir, naming: 'game-worker.js' });
  const output = build.outputs[0];
  if (!build.success || !output) throw new Error(`bundling the game worker failed: ${build.logs.join('\n')}`);
  bundledEntry = output.path;
  return bundledEntry;
}
const modeArgs = async (mode: string): Promise<string[]> => (mode === 'bundled' ? ['--worker-entry', await bundledWorker()] : []);
const gamePorts = flags['game-ports'];
const maxPorts = portCount(gamePorts);
if (Math.max(...rssCounts, ...kLadder, probeN) > maxPorts) throw new Error(`--game-ports ${gamePorts} has only ${maxPorts} ports`);

type Result = Record<string, unknown>;
const RUN = new URL('./hosting-run.ts', import.meta.url).pathname;
/** A run's process must end this soon after its result: longer means something kept the event loop alive. */
const EXIT_GRACE_MS = 10_000;

/** Runs one child and returns its RESULT, with `exitedCleanly` saying whether it ended on its own. */
async function runChild(args: string[], timeoutMs: number): Promise<Result> {
  // With the engine settings `huddle serve` runs with (src/engine-settings.ts); a value given to this bench wins.
  const child = Bun.spawn([process.execPath, RUN, ...args, '--game-ports', gamePorts], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...engineEnvironment(process.env) } });
  const killer = setTimeout(() => child.kill(), timeoutMs);
  const stdout = await new Response(child.stdout).text().catch(() => '');
  // stdout closes when the process ends, so this wait is only for its status.
  const exited = await settlesWithin(child.exited, EXIT_GRACE_MS);
  clearTimeout(killer);
  if (!exited) child.kill();
  const stderr = await new Response(child.stderr).text().catch(() => '');
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`run ${args.join(' ')} gave no result (exit ${child.exitCode}):\n${stderr.slice(-2000)}`);
  return { ...(JSON.parse(line.slice('RESULT '.length)) as Result), exitedCleanly: exited && child.exitCode === 0 };
}

const fmt = (value: unknown, digits = 1): string => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : String(value));
const num = (r: Result, key: string): number => Number(r[key]);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function note(label: string, results: Result[]): void {
  const leaks = results.flatMap((r) => (r.leaks as string[] | undefined) ?? []);
  const unclean = results.filter((r) => r.exitedCleanly !== true).length;
  const problems = results.flatMap((r) => (r.problems as string[] | undefined) ?? []);
  const loads = results.map((r) => num(r, 'loadavg'));
  console.log(
    `${label}: load average ${fmt(Math.min(...loads), 2)}–${fmt(Math.max(...loads), 2)}; ` +
      `leaks: ${leaks.length ? leaks.join('; ') : 'none'}; runs that did not exit on their own: ${unclean}` +
      (problems.length ? `; logged problems: ${problems.slice(0, 3).join(' | ')}` : ''),
  );
}

console.log(`huddle hosting benchmarks — nproc ${cpus().length}, ${cpus()[0]?.model ?? '?'}, Bun ${Bun.version}, ` +
  `${new Date().toISOString().slice(0, 10)}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, game ports ${gamePorts}\n`);

const warmValues = flags['warm-games'];
const gapMs = flags['gap-ms'];
for (const mode of only.has('latency') ? workerModes : []) {
  // The warm settings alternate within each run, so each sees the same machine.
  const byWarm = new Map<number, Result[]>(warmValues.map((w) => [w, []]));
  for (let r = 0; r < runs; r++) {
    for (const warm of warmValues) {
      byWarm.get(warm)?.push(await runChild(['latency', '--games', String(games), '--warm-games', String(warm), '--gap-ms', String(gapMs), ...(await modeArgs(mode))], 120_000 + games * gapMs));
    }
  }
  for (const [warm, results] of byWarm) latencyTable(`${mode} worker, --warm-games ${warm}`, results);
}

function latencyTable(label: string, results: Result[]): void {
  const rows = results.map((r, i) => [
    `run ${i + 1}`,
    fmt(num(r, 'createP50'), 2), fmt(num(r, 'createP99'), 2), fmt(num(r, 'createMax'), 2), fmt(num(r, 'createFirst'), 2),
    fmt(num(r, 'readyP50'), 0), fmt(num(r, 'readyP99'), 0), fmt(num(r, 'stopP50'), 2),
  ]);
  const med = (key: string, digits = 2) => fmt(median(results.map((r) => num(r, key))), digits);
  rows.push(['median', med('createP50'), med('createP99'), med('createMax'), med('createFirst'), med('readyP50', 0), med('readyP99', 0), med('stopP50')]);
  const gap = gapMs > 0 ? `, ${gapMs} ms after each end` : '';
  console.log(`create-to-ready, ${label}: ${games} games one after another, each stopped before the next${gap} (ms); goal p50 < 15, p99 < 50`);
  console.log(table(['', 'POST→201 p50', 'p99', 'max', 'first', 'game.ready p50', 'p99', 'stop→exit p50'], rows));
  note(`latency (${label})`, results);
  console.log();
}

for (const mode of only.has('rss') ? workerModes : []) {
  const byN = new Map<number, Result[]>();
  for (let r = 0; r < runs; r++) {
    for (const n of rssCounts) {
      const list = byN.get(n) ?? [];
      list.push(await runChild(['rss', '--n', String(n), ...(await modeArgs(mode))], 120_000));
      byN.set(n, list);
    }
  }
  const rows = rssCounts.map((n) => {
    const list = byN.get(n) ?? [];
    return [
      String(n),
      list.map((r) => fmt(num(r, 'perWorkerMb'), 2)).join(' / '),
      fmt(median(list.map((r) => num(r, 'perWorkerMb'))), 2),
      fmt(median(list.map((r) => num(r, 'baselineMb'))), 1),
      fmt(median(list.map((r) => num(r, 'withGamesMb'))), 1),
      list.every((r) => num(r, 'live') === n) ? 'yes' : 'NO',
      fmt(median(list.map((r) => num(r, 'idleCpuMsPerLobby'))), 2),
    ];
  });
  console.log(`RSS per idle lobby worker, ${mode} worker: (RSS with N lobbies − RSS with none) / N, MB; goal < 5 at 50`);
  console.log('CPU per idle lobby (nobody connected): (server CPU with N lobbies − without) / N over 3 s windows, ms/s');
  console.log(table(['N', 'per worker, each run', 'median', 'baseline RSS', 'RSS with N', 'all N in lobby', 'idle CPU ms/s per lobby'], rows));
  note(`rss (${mode})`, [...byN.values()].flat());
  console.log();
}

if (only.has('probe')) {
  const variants = ['empty', 'typebox', 'libsodium', 'noble', 'sodium', 'modules', 'udp'];
  const rows: string[][] = [];
  const all: Result[] = [];
  // smol (as the launcher runs workers) unless asked for the comparison too.
  for (const smol of flags['probe-no-smol'] ? [true, false] : [true]) {
    for (const variant of variants) {
      const list: Result[] = [];
      for (let r = 0; r < runs; r++) {
        list.push(await runChild(['probe', '--n', String(probeN), '--variant', variant, ...(smol ? [] : ['--no-smol'])], 120_000));
      }
      all.push(...list);
      rows.push([variant, smol ? 'yes' : 'no', fmt(median(list.map((r) => num(r, 'perWorkerMb'))), 2), fmt(median(list.map((r) => num(r, 'startP50'))), 1)]);
    }
  }
  console.log(`What one idle worker costs: ${probeN} bare workers loading a slice of the game worker, RSS delta / N (MB), median of ${runs}`);
  console.log(table(['loads', 'smol', 'MB per worker', 'start p50 ms'], rows));
  note('probe', all);
  console.log();
}

/** CPU used by others (or stolen) during a step, in cores, that makes a failed step worth repeating. */
const BUSY_OTHERS = 0.3;

if (only.has('tick')) {
  const results: Result[] = [];
  for (const k of kLadder) {
    let result: Result | undefined;
    let held = false;
    // Tick times are wall clock, so a thread preempted mid-tick by someone else's work on these 2 cores counts:
    // start each step on a quiet machine, and repeat a failed step once if others were busy during it.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const quiet = await waitForQuietMachine();
      result = await runChild(['tick', '--k', String(k), '--round-seconds', String(roundSeconds), '--window', String(windowSeconds)], (roundSeconds + 240 + k) * 1000);
      const bots = (result.bots ?? {}) as Result;
      held = num(result, 'tickP99Worst') <= 10 && num(bots, 'withResults') === 4 * k && num(result, 'playersMin') === 4 * k;
      const others = num(result, 'othersCpuCores') + num(result, 'stealCores');
      result.attempt = attempt;
      console.log(`K=${k} (attempt ${attempt}, machine busy before ${fmt(quiet, 2)} cores, others' CPU + steal during ${fmt(others, 2)} cores): ` +
        `worst p99 ${fmt(num(result, 'tickP99Worst'), 2)} ms, players ${result.playersMin}/${4 * k}, results ${bots.withResults}/${4 * k}, ` +
        `slow heartbeats by second of the window ${JSON.stringify(result.slowHeartbeatsBySecond)}${held ? '' : ' — limit reached'}`);
      if (held || others < BUSY_OTHERS) break;
    }
    results.push(result as Result);
    if (!held) break;
  }
  const rows = results.map((r) => {
    const bots = (r.bots ?? {}) as Result;
    return [
      String(r.k),
      fmt(num(r, 'tickP50Median'), 3), fmt(num(r, 'tickP99Median'), 3), fmt(num(r, 'tickP99Worst'), 3), fmt(num(r, 'tickMaxWorst'), 2),
      `${fmt(num(r, 'hzMedian'), 1)} / ${fmt(num(r, 'hzWorst'), 1)}`,
      `${r.playersMin}/${4 * num(r, 'k')}`, `${bots.withResults}/${bots.bots}`,
      fmt(num(r, 'serverCpuCores'), 2), fmt(num(r, 'botCpuCores'), 2), fmt(num(r, 'rssMb'), 0), fmt(num(r, 'udpInPerSecond'), 0), `${fmt(num(r, 'othersCpuCores'), 2)} / ${fmt(num(r, 'stealCores'), 2)}`,
    ];
  });
  console.log(`\n30 Hz tick with 4 bots per game (arena round, bots playing with the bot brain; bots in a second process), ${roundSeconds} s rounds, ` +
    `measured over up to ${windowSeconds} s of play; tick times in ms; goal: ≥ 50 games with worst p99 ≤ 10 ms`);
  console.log(table(['K', 'p50 med', 'p99 med', 'p99 worst', 'max worst', 'Hz med/worst', 'players', 'bots w/ results', 'server CPU', 'bots CPU', 'RSS MB', 'UDP in/s', 'others CPU / steal'], rows));
  const failures = results.map((r) => (r.bots as Result | null)?.failures).filter((f) => f && Object.keys(f as object).length);
  if (failures.length) console.log(`bot failures: ${JSON.stringify(failures)}`);
  note('tick', results);
}

if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
