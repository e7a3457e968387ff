/**
 * Load benchmark (issue 5): K live arena games × 8 bots for --seconds each step, K increasing until the worst
 * game's tick p99 exceeds 10 ms or a bot fails; then, in each step, the join API under load while those games
 * still play. Each step is a fresh child process (bench/load-run.ts: matchmaker + workers) with the bots in a
 * second process (bench/hosting-bots.ts) and the join client in a third (bench/load-join.ts); load-run.ts says
 * where each figure comes from.
 *
 *   node_modules/.bin/bun bench/load.ts [--k 2,4,8,12,14,16,18,20,24,28,32,40,50] [--seconds 60]
 *       [--join-seconds 15] [--join-concurrency 8] [--game-ports 29500-29699] [--until HH:MM] [--out FILE]
 *
 * --until (UTC) skips a step that could not end by then and kills one still running 30 s after it (the machine
 * is shared; measurement has a slot).
 * --out writes every step's raw result as JSON.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { median } from '../src/stats/percentile.ts';
import { portCount, settlesWithin, waitForQuietMachine } from './hosting-common.ts';
import { benchArgs, usageError } from './args.ts';
import { forEachLine } from './load-io.ts';

const COMMAND = 'node_modules/.bin/bun bench/load.ts';
const { values: flags } = benchArgs({
  command: COMMAND,
  summary: 'K arena games × 8 bots for --seconds per step, K increasing until the worst tick p99 exceeds 10 ms; the join API under load.',
  flags: {
    k: { type: 'numbers', integer: true, min: 1, default: [2, 4, 8, 12, 14, 16, 18, 20, 24, 28, 32, 40, 50], help: 'the ladder of live games' },
    seconds: { type: 'number', integer: true, min: 1, default: 60, help: 'measured window per step' },
    'join-seconds': { type: 'number', integer: true, min: 1, default: 15, help: 'join-API phase per step' },
    'join-concurrency': { type: 'number', integer: true, min: 1, default: 8, help: 'join requests in flight' },
    // Not the hosting benchmark's default range, so the two can run side by side; still below Linux's ephemeral
    // range (32768–60999), so no bot's port-0 socket can take a game's port.
    'game-ports': { type: 'string', default: '29500-29699', value: 'A-B', help: 'UDP port range for the games' },
    until: { type: 'string', default: '', value: 'HH:MM', help: 'UTC: skip a step that could not end by then' },
    out: { type: 'string', default: '', value: 'file', help: "write every step's raw result as JSON" },
  },
});
if (flags.until !== '' && !/^\d\d:\d\d$/.test(flags.until)) usageError(COMMAND, `--until must be HH:MM (UTC), got '${flags.until}'`);

const PLAYERS = 8;
const kLadder = flags.k;
const seconds = flags.seconds;
const joinSeconds = flags['join-seconds'];
const joinConcurrency = flags['join-concurrency'];
const gamePorts = flags['game-ports'];
const out = flags.out;
const until = flags.until;
if (Math.max(...kLadder) + 1 > portCount(gamePorts)) throw new Error(`--game-ports ${gamePorts} is too small for K = ${Math.max(...kLadder)} plus the join target`);

/**
 * Long enough for every round to outlast the window and the join phase: games start one after another (~0.2 s
 * each when idle), and the window opens 4.5 s after the last has started.
 */
const roundSecondsFor = (k: number): number => seconds + joinSeconds + 10 + Math.ceil(k / 2);
/** Server start, game creation, the rest of the round after the join phase, results, stop: a generous bound. */
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

type Result = Record<string, unknown>;
const RUN = new URL('./load-run.ts', import.meta.url).pathname;

/** One step in a fresh process; its progress lines are passed through, its RESULT returned. */
async function runStep(k: number): Promise<Result> {
  const child = Bun.spawn(
    [process.execPath, RUN, '--k', String(k), '--seconds', String(seconds), '--join-seconds', String(joinSeconds),
      '--join-concurrency', String(joinConcurrency), '--round-seconds', String(roundSecondsFor(k)), '--game-ports', gamePorts],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  );
  const killer = setTimeout(() => child.kill(), Math.min((stepSecondsFor(k) + 120) * 1000, msLeft() + 30_000));
  let result: Result | undefined;
  await forEachLine(child.stdout, (line) => {
    if (line.startsWith('RESULT ')) result = JSON.parse(line.slice('RESULT '.length)) as Result;
    else if (line.trim()) console.log(line);
  });
  // stdout closes when the process ends; a step that outlives it by 10 s kept something alive: a leak.
  const exited = await settlesWithin(child.exited, 10_000);
  clearTimeout(killer);
  if (!exited) child.kill();
  const stderr = await new Response(child.stderr).text().catch(() => '');
  if (!result) throw new Error(`step K=${k} gave no result (exit ${child.exitCode}):\n${stderr.slice(-2000)}`);
  return { ...result, exitedCleanly: exited && child.exitCode === 0 };
}

const fmt = (value: unknown, digits = 1): string => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : String(value));
/** NaN (shown as is) for a figure a step could not take, e.g. no heartbeat fell inside a short join phase. */
const num = (r: Result, key: string): number => (r[key] === null || r[key] === undefined ? NaN : Number(r[key]));
const bots = (r: Result): Result => (r.bots ?? {}) as Result;
const join = (r: Result): Result => (r.join ?? {}) as Result;

/** Whether K games held: every game's p99 within 10 ms, every bot in for the whole window and to the results. */
function held(r: Result): boolean {
  const k = num(r, 'k');
  return num(r, 'tickP99Worst') <= 10 && num(r, 'playersMin') === PLAYERS * k && num(bots(r), 'withResults') === PLAYERS * k && r.allStarted === true;
}

function markdown(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

console.log(`huddle load benchmark — nproc ${cpus().length}, ${cpus()[0]?.model ?? '?'}, Bun ${Bun.version}, ${new Date().toISOString()}, ` +
  `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; K ${kLadder.join(',')}, ${seconds} s window, join ${joinSeconds} s × ${joinConcurrency} in flight\n`);

const results: Result[] = [];
let stopReason = 'ladder done';
for (const k of kLadder) {
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
    console.log(`K=${k} attempt ${attempt} (machine busy before ${fmt(quiet, 2)} cores, others + steal during ${fmt(others, 2)}): ` +
      `worst p99 ${fmt(num(result, 'tickP99Worst'), 2)} ms, players ≥ ${result.playersMin}/${PLAYERS * k}, results ${bots(result).withResults}/${PLAYERS * k}` +
      `${held(result) ? '' : ' — limit reached'}`);
    results.push(result);
    // After every step, so what was measured survives a sweep stopped from outside.
    if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    if (held(result) || others < BUSY_OTHERS) break;
  }
  if (!result) {
    stopReason = `stopped at K=${k}: no result (see above), or it could not end by ${until} UTC`;
    break;
  }
  if (!held(result)) {
    stopReason = `K=${k} did not hold`;
    break;
  }
}

const rows = results.map((r) => {
  const k = num(r, 'k');
  const p = (key: string) => fmt(num(r, key) / k, 0);
  return [
    `${k}${r.attempt === 2 ? ' (2nd)' : ''}`,
    fmt(num(r, 'tickP50Median'), 2), fmt(num(r, 'tickP99Median'), 2), `**${fmt(num(r, 'tickP99Worst'), 2)}**`,
    `${fmt(num(r, 'tickP99WarmMedian'), 2)} / ${fmt(num(r, 'tickP99WarmWorst'), 2)}`, fmt(num(r, 'tickMaxWorst'), 1),
    `${fmt(num(r, 'hzMedian'), 1)} / ${fmt(num(r, 'hzWorst'), 1)}`,
    `${fmt(num(r, 'botsSentPerSecond'), 0)} / ${fmt(num(r, 'botsReceivedPerSecond'), 0)}`, `${p('botsSentPerSecond')} / ${p('botsReceivedPerSecond')}`,
    `${r.dropsAtGames} / ${r.dropsAtBots}`,
    `${fmt(num(r, 'serverCores'), 2)} (${fmt(num(r, 'workerThreadsCores'), 2)} + ${fmt(num(r, 'mainThreadCores'), 2)})`, fmt(num(r, 'botCores'), 2),
    fmt(num(r, 'rssMb'), 0), `${fmt(num(r, 'botsLateP99Ms'), 1)} / ${fmt(num(r, 'botsLateMaxMs'), 0)}`,
    `${r.playersMin}/${PLAYERS * k}`, `${bots(r).withResults}/${bots(r).bots}`, `${fmt(num(r, 'othersCores'), 2)} / ${fmt(num(r, 'stealCores'), 2)}`,
  ];
});
console.log(`\nK arena games × ${PLAYERS} bots, ${seconds} s window of play; tick times in ms; goal: ≥ 50 games with worst-game p99 ≤ 10 ms`);
console.log(markdown(['K', 'tick p50 med', 'p99 med', 'p99 worst', 'p99 after 15 s med / worst', 'max worst', 'Hz med / worst', 'datagrams/s in / out', 'per game in / out',
  'kernel drops game / bot', 'server CPU (workers + main)', 'bots CPU', 'RSS MB', 'bots timer late p99 / max ms', 'players', 'bots w/ results', 'others / steal'], rows));

const joinRows = results.map((r) => [
  String(r.k), fmt(num(join(r), 'perSecond'), 0), fmt(num(join(r), 'p50Ms'), 2), fmt(num(join(r), 'p99Ms'), 2), fmt(num(join(r), 'maxMs'), 1),
  JSON.stringify(join(r).statuses ?? join(r).error), fmt(num(r, 'joinServerCores'), 2), fmt(num(r, 'joinMainThreadCores'), 2), fmt(num(join(r), 'cpuCores'), 2),
  `${fmt(num(r, 'joinTickP99Median'), 2)} / ${fmt(num(r, 'joinTickP99Worst'), 2)}`,
]);
console.log(`\nJoin API while the K games play: ${joinSeconds} s, ${joinConcurrency} requests in flight, valid passcode of an open lobby (→ 200 + connect token)`);
console.log(markdown(['K', 'requests/s', 'p50 ms', 'p99 ms', 'max ms', 'statuses', 'server CPU', 'of it main thread', 'client CPU', 'tick p99 med / worst meanwhile'], joinRows));

const holding = results.filter(held).map((r) => num(r, 'k'));
const largest = holding.length ? Math.max(...holding) : 0;
const last = results.filter((r) => num(r, 'k') === largest).at(-1);
if (last) {
  const k = num(last, 'k');
  console.log(`\nLargest K that held: ${k} (${stopReason}). At K=${k}: server ${fmt((num(last, 'serverCores') / k) * 1000, 1)} ms CPU/s per game ` +
    `(workers ${fmt((num(last, 'workerThreadsCores') / k) * 1000, 1)}), bots ${fmt((num(last, 'botCores') / (k * PLAYERS)) * 1000, 1)} ms CPU/s per bot ` +
    `(${fmt((num(last, 'botCores') / k) * 1000, 1)} per game of ${PLAYERS}).`);
} else console.log(`\nNo K held (${stopReason}).`);
const leaks = results.flatMap((r) => (r.leaks as string[] | undefined) ?? []);
const unclean = results.filter((r) => r.exitedCleanly !== true).length;
const problems = results.flatMap((r) => (r.problems as string[] | undefined) ?? []);
console.log(`Leaks: ${leaks.length ? leaks.join('; ') : 'none'}; steps that did not exit on their own: ${unclean}` +
  `${problems.length ? `; logged problems: ${problems.slice(0, 3).join(' | ')}` : ''}; median others' CPU ${fmt(median(results.map((r) => num(r, 'othersCores'))), 2)} cores`);
