/**
 * Load benchmark (issues 5 and 11): K live arena games × 8 bots for --seconds each step, K increasing until a game's
 * tick lateness p99 exceeds 2 ms or a player's snapshot gap p99 exceeds 60 ms (or a bot fails). What it reports
 * per K is what players feel and what the server pays:
 *
 * - tick lateness (actual start − scheduled start) p50/p99/max and whole-tick work (update + datagram handling)
 *   p99, of the worst game and the median game (src/workers/tick-timer.ts, from the heartbeats);
 * - every player's snapshot inter-arrival gap p99 and worst, as each bot measured it: the worst and the median
 *   player's (src/game/snapshot-gaps.ts);
 * - server CPU per game in ms/s by thread (game workers, JIT, the rest), the bots' CPU apart, RSS per playing game;
 * - create → ready (POST /api/games → 201) while the K games play (--creates);
 * - optionally the join API under load (--join-seconds).
 *
 * The server runs with the product's defaults (heartbeat interval, JSON logging as `huddle serve` does, to
 * /dev/null) and, by default, the game worker bundled into one file as the compiled binary embeds it.
 * `--pin` puts the server process on CPU 0 and the bots (and the join client) on CPU 1 with `taskset`, so the
 * server's figures are not mixed with the bots' scheduling.
 *
 * Each step is a fresh child process (bench/load-run.ts: matchmaker + workers, which says where each figure comes
 * from) with the bots in a second process (bench/hosting-bots.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { median, percentileOfSorted } from '../src/stats/percentile.ts';
import { GAME_WORKER_ENTRY } from '../src/workers/launcher.ts';
import { portCount, settlesWithin, waitForQuietMachine } from './hosting-common.ts';
import { engineEnvironment } from '../src/engine-settings.ts';
import { benchArgs, usageError } from './args.ts';
import { forEachLine } from './load-io.ts';

const COMMAND = 'node_modules/.bin/bun bench/load.ts';
const { values: flags } = benchArgs({
  command: COMMAND,
  summary:
    'K arena games × 8 bots for --seconds per step, K increasing until a game\'s tick lateness p99 > 2 ms or a player\'s snapshot gap p99 > 60 ms; ' +
    'CPU per game by thread, RSS per game, create → ready with the games live.',
  flags: {
    k: { type: 'numbers', integer: true, min: 1, default: [2, 4, 8, 16, 24, 32, 40, 50, 64, 80, 100], help: 'the ladder of live games' },
    seconds: { type: 'number', integer: true, min: 1, default: 60, help: 'measured window per step' },
    creates: { type: 'number', integer: true, min: 0, default: 60, help: 'create → ready samples per step, while the K games play' },
    'create-gap-ms': { type: 'number', integer: true, min: 0, default: 0, help: 'pause after each sample game has ended, before the next create (0: back to back)' },
    'warm-games': { type: 'number', integer: true, min: 0, default: 1, help: "the server's --warm-games (1, the product's default; 0: every game starts cold)" },
    'udp-reads': { type: 'string', default: 'wakes', value: 'wakes|each', help: "the server's --udp-reads (wakes, the product's default; each: woken per datagram)" },
    'bot-udp-reads': { type: 'string', default: 'wakes', choices: ['wakes', 'each'], help: "how the bots read their sockets (wakes: at their shared 30 Hz clock, huddle bot's default; each: per datagram)" },
    'join-seconds': { type: 'number', integer: true, min: 0, default: 0, help: 'join-API phase per step; 0: none' },
    'join-concurrency': { type: 'number', integer: true, min: 1, default: 8, help: 'join requests in flight' },
    worker: { type: 'string', default: 'bundled', choices: ['bundled', 'source'], help: 'the game worker as one file (as the binary) or from source' },
    pin: { type: 'boolean', help: 'server on CPU 0, bots and join client on CPU 1 (taskset)' },
    'bots-nice': { type: 'number', integer: true, min: 0, max: 19, default: 0, help: 'run the bots and the join client under nice -n N: players are not on the server, so their load can yield to it (0: as the server)' },
    'keep-going': { type: 'boolean', help: 'run every K of the ladder even after one did not hold' },
    'heartbeat-timeout-ms': { type: 'number', integer: true, min: 0, default: 0, help: "diagnostic: the server's --heartbeat-timeout-ms (heartbeats at a quarter of it); 0: the product's default" },
    'gc-log': { type: 'boolean', help: "diagnostic: JSC's GC log on in the server (BUN_JSC_logGC), its pauses in the window summarised" },
    // Not the hosting benchmark's default range, so the two can run side by side; still below Linux's ephemeral
    // range (32768–60999), so no bot's port-0 socket can take a game's port.
    'game-ports': { type: 'string', default: '29500-29699', value: 'A-B', help: 'UDP port range for the games' },
    until: { type: 'string', default: '', value: 'HH:MM', help: 'UTC: skip a step that could not end by then' },
    out: { type: 'string', default: '', value: 'file', help: "write every step's raw result as JSON" },
    from: { type: 'string', default: '', value: 'file', help: 'run nothing: print the tables of an earlier --out file' },
  },
});
if (flags.until !== '' && !/^\d\d:\d\d$/.test(flags.until)) usageError(COMMAND, `--until must be HH:MM (UTC), got '${flags.until}'`);

const PLAYERS = 8;
const LATE_GOAL_MS = 2;
const GAP_GOAL_MS = 60;
const kLadder = flags.k;
const { seconds, creates, worker, until, out } = flags;
const joinSeconds = flags['join-seconds'];
const joinConcurrency = flags['join-concurrency'];
const gamePorts = flags['game-ports'];
if (Math.max(...kLadder) + 2 > portCount(gamePorts)) usageError(COMMAND, `--game-ports ${gamePorts} is too small for K = ${Math.max(...kLadder)} plus the join and create targets`);

const pin = flags.pin;
const botsNice = flags['bots-nice'];
if (pin) {
  const probe = Bun.spawnSync(['taskset', '-c', '0', 'true'], { stdout: 'ignore', stderr: 'pipe' });
  if (!probe.success) usageError(COMMAND, `--pin needs taskset (util-linux), which did not run: ${probe.stderr.toString().trim() || `exit ${probe.exitCode}`}`);
  if (cpus().length < 2) usageError(COMMAND, '--pin needs at least 2 CPUs');
}

/**
 * Long enough for every round to outlast the window, the create and the join phases: games start one after
 * another (~0.2 s each when idle), and the window opens 4.5 s after the last has started.
 */
const roundSecondsFor = (k: number): number => seconds + joinSeconds + Math.ceil(creates * (0.2 + flags['create-gap-ms'] / 1000)) + 10 + Math.ceil(k / 2);
/** Server start, game creation, the rest of the round, results, stop: a generous bound. */
const stepSecondsFor = (k: number): number => roundSecondsFor(k) + 20 + k;

/** Others' CPU (or steal) during a failed step, in cores, that makes the step worth repeating once. */
const BUSY_OTHERS = 0.3;

/** Milliseconds left before --until (UTC, today), or Infinity. */
function msLeft(): number {
  const match = /^(\d\d):(\d\d)$/.exec(until);
  if (!match) return Infinity;
  const end = new Date();
  end.setUTCHours(Number(match[1]), Number(match[2]), 0, 0);
  return end.getTime() - Date.now();
}

/** The worker as one file, as `npm run build` embeds it in the binary; built once, here, off the measurement. */
async function bundledWorker(): Promise<{ entry: string; dir: string }> {
  const dir = mkdtempSync(joinPath(tmpdir(), 'huddle-load-worker-'));
  const build = await Bun.build({ entrypoints: [GAME_WORKER_ENTRY.replace(/^file:\/\//, '')], target: 'bun', outdir: dir, naming: 'game-worker.js' });
  const output = build.outputs[0];
  if (!build.success || !output) throw new Error(`bundling the game worker failed: ${build.logs.join('\n')}`);
  return { entry: output.path, dir };
}
const fromFile = flags.from;
const bundle = worker === 'bundled' && !fromFile ? await bundledWorker() : undefined;

type Result = Record<string, unknown>;
interface Spread {
  worst: number | null;
  median: number | null;
}
const RUN = new URL('./load-run.ts', import.meta.url).pathname;

/** One step in a fresh process; its progress lines are passed through, its RESULT returned. */
async function runStep(k: number): Promise<Result> {
  const argv = [process.execPath, RUN, '--k', String(k), '--seconds', String(seconds), '--join-seconds', String(joinSeconds),
    '--join-concurrency', String(joinConcurrency), '--round-seconds', String(roundSecondsFor(k)), '--game-ports', gamePorts,
    '--creates', String(creates), '--create-gap-ms', String(flags['create-gap-ms']), '--warm-games', String(flags['warm-games']), '--udp-reads', flags['udp-reads'], '--bot-udp-reads', flags['bot-udp-reads'], '--heartbeat-timeout-ms', String(flags['heartbeat-timeout-ms']), ...(bundle ? ['--worker-entry', bundle.entry] : []), ...(pin ? ['--pin-bots', '1'] : []), '--bots-nice', String(botsNice)];
  // Pinned: the server process (every thread it will start inherits the mask) on CPU 0.
  // The server runs in the step's process, not through the CLI: it gets the engine settings `huddle serve` runs with
  // (src/engine-settings.ts) here; a value given to this bench wins, to measure without them.
  const env = { ...process.env, ...engineEnvironment(process.env), ...(flags['gc-log'] ? { BUN_JSC_logGC: '1' } : {}) };
  const child = Bun.spawn(pin ? ['taskset', '-c', '0', ...argv] : argv, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env });
  const killer = setTimeout(() => child.kill(), Math.min((stepSecondsFor(k) + 120) * 1000, msLeft() + 30_000));
  let result: Result | undefined;
  // GC pauses (JSC's log: "… => EdenCollection … p=0.99ms …") that arrive between the window's two progress lines.
  let inWindow = false;
  const pauses: { kind: string; ms: number }[] = [];
  const stderrTail: string[] = [];
  const stderrDone = forEachLine(child.stderr, (line) => {
    const gc = / => (\w+)Collection,.* p=([\d.]+)ms/.exec(line);
    if (gc) {
      if (inWindow) pauses.push({ kind: gc[1] ?? '?', ms: Number(gc[2]) });
    } else if (!line.startsWith('[GC') && !line.startsWith('GC END') && !line.startsWith('Requesting GC')) {
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
    }
  });
  await forEachLine(child.stdout, (line) => {
    if (line.startsWith('RESULT ')) result = JSON.parse(line.slice('RESULT '.length)) as Result;
    else if (line.trim()) console.log(line);
    if (line.endsWith('] window start')) inWindow = true;
    if (line.endsWith('] window end')) inWindow = false;
  });
  await settlesWithin(stderrDone, 5000);
  // stdout closes when the process ends; a step that outlives it by 10 s kept something alive: a leak.
  const exited = await settlesWithin(child.exited, 10_000);
  clearTimeout(killer);
  if (!exited) child.kill();
  if (!result) throw new Error(`step K=${k} gave no result (exit ${child.exitCode}):\n${stderrTail.join('\n').slice(-2000)}`);
  const gc = flags['gc-log'] ? gcSummary(pauses, num(result, 'windowSeconds')) : null;
  return { ...result, gc, exitedCleanly: exited && child.exitCode === 0 };
}

/** The window's GC pauses in the server process (every heap: the matchmaker's and each worker's). */
function gcSummary(pauses: readonly { kind: string; ms: number }[], seconds: number): Result {
  const ms = pauses.map((p) => p.ms).sort((a, b) => a - b);
  const of = (kind: string) => pauses.filter((p) => p.kind === kind).length;
  return {
    pauses: ms.length, perSecond: ms.length / seconds, eden: of('Eden'), full: of('Full'),
    p50Ms: ms.length ? percentileOfSorted(ms, 50) : null, p99Ms: ms.length ? percentileOfSorted(ms, 99) : null, maxMs: ms.at(-1) ?? null,
    pausedMsPerSecond: ms.reduce((a, b) => a + b, 0) / seconds,
  };
}

const fmt = (value: unknown, digits = 1): string => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–');
/** NaN (shown as –) for a figure a step could not take. */
const num = (r: Result, key: string): number => (r[key] === null || r[key] === undefined ? NaN : Number(r[key]));
const sp = (r: Result, key: string): { worst: number; median: number } => {
  const s = (r[key] ?? {}) as Spread;
  return { worst: s.worst ?? NaN, median: s.median ?? NaN };
};
const bots = (r: Result): Result => (r.bots ?? {}) as Result;
const join = (r: Result): Result => (r.join ?? {}) as Result;

/** Whether K games held the issue's goals: every game's lateness p99 ≤ 2 ms, every player's gap p99 ≤ 60 ms, all in. */
function held(r: Result): boolean {
  const k = num(r, 'k');
  return sp(r, 'lateP99').worst <= LATE_GOAL_MS && sp(r, 'gapP99').worst <= GAP_GOAL_MS && num(r, 'playersWithGaps') === PLAYERS * k &&
    num(r, 'playersMin') === PLAYERS * k && num(bots(r), 'withResults') === PLAYERS * k && r.allStarted === true;
}

/** Server CPU by thread kind, in cores: game workers, JSC's JIT threads, the rest (GC helpers, mimalloc, main). */
function threadKinds(r: Result): { workers: number; jit: number; main: number; rest: number } {
  const byName = (r.threadCores ?? {}) as Record<string, number>;
  let workers = 0;
  let jit = 0;
  let rest = 0;
  for (const [name, cores] of Object.entries(byName)) {
    if (name === 'Worker') workers += cores;
    else if (/jit/i.test(name)) jit += cores;
    else rest += cores;
  }
  const main = num(r, 'mainThreadCores');
  return { workers, jit, main, rest: Math.max(0, rest - main) };
}

function markdown(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

if (fromFile) console.log(`huddle load benchmark — the tables of ${fromFile} (each step's own load average is in its row)\n`);
else console.log(`huddle load benchmark — nproc ${cpus().length}, ${cpus()[0]?.model ?? '?'}, Bun ${Bun.version}, ${new Date().toISOString()}, ` +
  `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; K ${kLadder.join(',')}, ${seconds} s window, ${creates} creates, ` +
  `join ${joinSeconds ? `${joinSeconds} s × ${joinConcurrency}` : 'off'}, worker ${worker}${pin ? ', pinned: server CPU 0, bots CPU 1' : ''}${botsNice ? `, bots at nice ${botsNice}` : ''}\n`);

const results: Result[] = fromFile ? (JSON.parse(await Bun.file(fromFile).text()) as Result[]) : [];
let stopReason = fromFile ? `from ${fromFile}` : 'ladder done';
for (const k of fromFile ? [] : kLadder) {
  let result: Result | undefined;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const quiet = await waitForQuietMachine();
    if (msLeft() < stepSecondsFor(k) * 1000) break;
    try {
      result = { ...(await runStep(k)), attempt, busyBefore: quiet };
    } catch (error) {
      // Killed at --until, or it failed: what the earlier steps measured still stands.
      console.log(error instanceof Error ? error.message : String(error));
      result = undefined;
      break;
    }
    const others = num(result, 'othersCores') + num(result, 'stealCores');
    console.log(`K=${k} attempt ${attempt} (machine busy before ${fmt(quiet, 2)} cores, others + steal during ${fmt(others, 2)}, load ${JSON.stringify(result.loadavg)}): ` +
      `lateness p99 worst game ≤ ${fmt(sp(result, 'lateP99').worst, 2)} ms, snapshot gap p99 worst player ≤ ${fmt(sp(result, 'gapP99').worst, 0)} ms, ` +
      `players ≥ ${result.playersMin}/${PLAYERS * k}, results ${bots(result).withResults}/${PLAYERS * k}${held(result) ? '' : ' — goal missed'}`);
    results.push(result);
    // After every step, so what was measured survives a sweep stopped from outside.
    if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    if (held(result) || others < BUSY_OTHERS) break;
  }
  if (!result) {
    stopReason = `stopped at K=${k}: no result (see above), or it could not end by ${until} UTC`;
    break;
  }
  if (!held(result) && !flags['keep-going']) {
    stopReason = `K=${k} did not hold`;
    break;
  }
}
if (bundle) rmSync(bundle.dir, { recursive: true, force: true });

const kOf = (r: Result): string => `${num(r, 'k')}${r.attempt === 2 ? ' (2nd)' : ''}`;
console.log(`\nK arena games × ${PLAYERS} bots, ${seconds} s window of play${pin ? ', server pinned to CPU 0, bots to CPU 1' : ''}${botsNice ? `, bots at nice ${botsNice}` : ''}. Tick lateness and work in ms ` +
  `(p50/p99: upper edge of the bucket, "≤"; max exact); per game over the window. Snapshot gaps in ms per player over the window (1 ms bins).`);
console.log(markdown(
  ['K', 'lateness p50 worst game', 'lateness p99 median / **worst** game', 'lateness p99 after 15 s, worst', 'lateness max worst', 'work p99 median / worst', 'work max worst',
    'gap p99 median / **worst** player', 'worst gap median / worst player', 'games late / players stuttering', 'missed ticks', 'games playing / bots with results', 'load avg', 'held?'],
  results.map((r) => [
    kOf(r), fmt(sp(r, 'lateP50').worst, 2), `${fmt(sp(r, 'lateP99').median, 2)} / **${fmt(sp(r, 'lateP99').worst, 2)}**`, fmt(sp(r, 'lateP99Warm').worst, 2),
    fmt(sp(r, 'lateMax').worst, 1), `${fmt(sp(r, 'workP99').median, 2)} / ${fmt(sp(r, 'workP99').worst, 2)}`, fmt(sp(r, 'workMax').worst, 1),
    `${fmt(sp(r, 'gapP99').median, 0)} / **${fmt(sp(r, 'gapP99').worst, 0)}**`, `${fmt(sp(r, 'gapMax').median, 0)} / ${fmt(sp(r, 'gapMax').worst, 0)}`,
    `${r.lateGames} / ${r.stutteringPlayers}`, String(r.missedTicks), `${r.playingMin ?? 0}/${num(r, 'k')} / ${bots(r).withResults}/${PLAYERS * num(r, 'k')}`, (r.loadavg as number[] | undefined)?.join(' ') ?? '–', held(r) ? 'yes' : '**no**',
  ]),
));

console.log(`\nCPU (ms of CPU per second per game; server by thread kind) and memory`);
console.log(markdown(
  ['K', 'server ms/s per game', 'game workers', 'JIT threads', 'main thread', 'other threads', 'bots ms/s per game', 'server cores / bots cores', 'others / steal cores',
    'workers waiting for a CPU, ms/s per game', 'RSS per playing game', 'RSS total', 'datagrams handled/s per game', 'Hz median / worst', 'bots timer late p99 / max'],
  results.map((r) => {
    const k = num(r, 'k');
    const t = threadKinds(r);
    const perGame = (cores: number) => fmt((cores / k) * 1000, 1);
    return [
      kOf(r), `**${perGame(num(r, 'serverCores'))}**`, perGame(t.workers), perGame(t.jit), perGame(t.main), perGame(t.rest), perGame(num(r, 'botCores')),
      `${fmt(num(r, 'serverCores'), 2)} / ${fmt(num(r, 'botCores'), 2)}`, `${fmt(num(r, 'othersCores'), 2)} / ${fmt(num(r, 'stealCores'), 2)}`,
      perGame(num(r, 'workerRunQueueCores')), `${fmt(num(r, 'rssPerGameMb'), 1)} MB`, `${fmt(num(r, 'rssMb'), 0)} MB`, fmt(num(r, 'datagramsPerGamePerSecond'), 0),
      `${fmt(num(r, 'hzMedian'), 2)} / ${fmt(num(r, 'hzWorst'), 2)}`, `${fmt(num(r, 'botsLateP99Ms'), 1)} / ${fmt(num(r, 'botsLateMaxMs'), 0)} ms`,
    ];
  }),
));

if (creates > 0) {
  const gap = flags['create-gap-ms'] > 0 ? `, ${flags['create-gap-ms']} ms after each end` : ', back to back';
  console.log(`\nCreate → ready (POST /api/games → 201, one at a time, each ended before the next${gap}) while the K games play, ${worker} worker, --warm-games ${flags['warm-games']}`);
  console.log(markdown(['K live games', 'samples', 'p50', 'p99', 'max'], results.map((r) => [kOf(r), String(r.creates), `${fmt(num(r, 'createP50Ms'), 1)} ms`, `${fmt(num(r, 'createP99Ms'), 1)} ms`, `${fmt(num(r, 'createMaxMs'), 1)} ms`])));
}

if (flags['gc-log']) {
  console.log(`\nGC pauses in the server process during the window (JSC's log, every heap: matchmaker and workers; the log itself costs a little)`);
  console.log(markdown(['K', 'pauses', 'per second per game', 'eden / full', 'pause p50', 'p99', 'max', 'paused ms/s per game'], results.map((r) => {
    const gc = (r.gc ?? {}) as Result;
    const k = num(r, 'k');
    return [kOf(r), String(gc.pauses), fmt(num(gc, 'perSecond') / k, 2), `${gc.eden} / ${gc.full}`, `${fmt(num(gc, 'p50Ms'), 2)} ms`, `${fmt(num(gc, 'p99Ms'), 2)} ms`,
      `${fmt(num(gc, 'maxMs'), 2)} ms`, fmt(num(gc, 'pausedMsPerSecond') / k, 2)];
  })));
}

if (joinSeconds > 0) {
  console.log(`\nJoin API while the K games play: ${joinSeconds} s, ${joinConcurrency} requests in flight, valid passcode of an open lobby (→ 200 + connect token)`);
  console.log(markdown(['K', 'requests/s', 'p50 ms', 'p99 ms', 'max ms', 'statuses', 'server CPU', 'of it main thread', 'client CPU', 'lateness p99 (all games) / max meanwhile'],
    results.map((r) => [
      String(r.k), fmt(num(join(r), 'perSecond'), 0), fmt(num(join(r), 'p50Ms'), 2), fmt(num(join(r), 'p99Ms'), 2), fmt(num(join(r), 'maxMs'), 1),
      JSON.stringify(join(r).statuses ?? join(r).error), fmt(num(r, 'joinServerCores'), 2), fmt(num(r, 'joinMainThreadCores'), 2), fmt(num(join(r), 'cpuCores'), 2),
      `${fmt(num(r, 'joinLateP99AllGames'), 2)} / ${fmt(num(r, 'joinLateMax'), 1)}`,
    ])));
}

const holding = results.filter(held).map((r) => num(r, 'k'));
console.log(`\nLargest K that held (lateness p99 ≤ ${LATE_GOAL_MS} ms every game, gap p99 ≤ ${GAP_GOAL_MS} ms every player): ${holding.length ? Math.max(...holding) : 'none'} (${stopReason}).`);
const leaks = results.flatMap((r) => (r.leaks as string[] | undefined) ?? []);
const unclean = results.filter((r) => r.exitedCleanly !== true).length;
const problems = results.flatMap((r) => (r.problems as string[] | undefined) ?? []);
console.log(`Leaks: ${leaks.length ? leaks.join('; ') : 'none'}; steps that did not exit on their own: ${unclean}` +
  `${problems.length ? `; logged problems: ${problems.slice(0, 3).join(' | ')}` : ''}; median others' CPU ${fmt(median(results.map((r) => num(r, 'othersCores'))), 2)} cores`);
