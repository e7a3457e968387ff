/**
 * Packet fuzz bench (issue 5): the long version of tests/hardening/packet-fuzz.test.ts. Four real bots play one
 * round while the fuzzer sends hostile datagrams to the game's UDP port; it records the datagrams/s the worker
 * absorbs and the worker's CPU while absorbing them, then checks the same outcomes as the test (nobody but the
 * bots got in, no bot dropped, results stored) and exits non-zero if any failed.
 *
 *   node_modules/.bin/bun bench/fuzz.ts [--datagrams 1000000] [--rate 0] [--round-seconds 0] [--baseline-seconds 5]
 *       [--seed N] [--json]
 *
 * --rate 0 sends as fast as the sender goes (yielding to the event loop every 64 datagrams). --round-seconds 0
 * sizes the round from the datagram count (a generous guess of the absorb rate plus slack); the fuzz stops early,
 * and the run fails, if the round ends first.
 *
 * CPU: the game worker is a Bun Worker, i.e. a thread of this process named "Worker"; its own user+system time is
 * read from /proc/self/task/<tid>/stat, so neither the bots, the matchmaker nor the fuzzer (all on the main thread)
 * are counted in it. The same figure over a stretch of play without fuzz (--baseline-seconds) is what four bots
 * cost; the difference is what the fuzz costs. Process CPU (all threads) is shown beside it.
 */
import { cpus, loadavg } from 'node:os';
import { CATEGORIES } from '../tests/hardening/support/packet-fuzzer.ts';
import { playRoundUnderFuzz } from '../tests/hardening/support/live-round.ts';
import { benchArgs } from './args.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/fuzz.ts',
  summary: 'Four bots play one round while hostile datagrams hit the game port: datagrams/s absorbed, worker CPU, outcomes.',
  flags: {
    datagrams: { type: 'number', integer: true, min: 0, default: 1_000_000, help: 'hostile datagrams to send' },
    rate: { type: 'number', integer: true, min: 0, default: 0, help: 'datagrams/s; 0 sends as fast as the sender goes' },
    'round-seconds': { type: 'number', integer: true, min: 0, default: 0, help: 'round length; 0 sizes it from --datagrams' },
    'baseline-seconds': { type: 'number', integer: true, min: 0, default: 5, help: 'play without fuzz first, for the bots-only CPU' },
    seed: { type: 'number', integer: true, min: 0, help: 'fuzzer seed (default random)' },
    json: { type: 'boolean', help: 'also print the report as JSON' },
  },
});
const datagrams = flags.datagrams;
const rate = flags.rate;
const baselineSeconds = flags['baseline-seconds'];
const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
// At least 20 s of round after the baseline; a 10,000/s floor on the absorb rate for the guess, plus 30 s.
const roundSeconds = flags['round-seconds'] || Math.ceil(baselineSeconds + 10 + datagrams / (rate || 10_000) + 30);
const json = flags.json;

const load = loadavg().map((n) => n.toFixed(2)).join(' ');
console.log(`packet fuzz: ${datagrams} datagrams, rate ${rate || 'max'}, round ${roundSeconds} s, seed ${seed}; ${cpus().length} cores, load ${load}`);
const report = await playRoundUnderFuzz({ datagrams, rate, roundSeconds, seed, baselineSeconds, log: (line) => console.log(`  ${line}`) });

const { fuzz, underFuzz, baseline } = report;
const absorbed = fuzz.sent - report.kernelDropsOnGamePort;
const percent = (cpu: number, seconds: number) => `${((cpu / seconds) * 100).toFixed(1)}%`;
const figures = {
  datagramsSent: fuzz.sent,
  seconds: Number(fuzz.seconds.toFixed(2)),
  absorbSeconds: Number(underFuzz.seconds.toFixed(2)),
  sentPerSecond: Math.round(fuzz.sent / fuzz.seconds),
  kernelDrops: report.kernelDropsOnGamePort,
  // Until the worker had read everything the kernel kept: the rate it actually took them in.
  absorbedPerSecond: Math.round(absorbed / underFuzz.seconds),
  workerCpuPercent: Number(((underFuzz.workerCpu / underFuzz.seconds) * 100).toFixed(1)),
  workerBaselineCpuPercent: baseline ? Number(((baseline.workerCpu / baseline.seconds) * 100).toFixed(1)) : null,
  processCpuPercent: Number(((underFuzz.processCpu / underFuzz.seconds) * 100).toFixed(1)),
  processBaselineCpuPercent: baseline ? Number(((baseline.processCpu / baseline.seconds) * 100).toFixed(1)) : null,
  // Worker CPU per datagram beyond what the bots cost: microseconds.
  workerMicrosPerDatagram: Number(
    (((underFuzz.workerCpu - (baseline ? (baseline.workerCpu / baseline.seconds) * underFuzz.seconds : 0)) / Math.max(1, absorbed)) * 1e6).toFixed(2),
  ),
  deniedReplies: fuzz.replies.denied,
  otherReplies: fuzz.replies.other,
  challengesAnswered: fuzz.challengesAnswered,
  sourcesReplaced: fuzz.sourcesReplaced,
  byCategory: fuzz.byCategory,
  loadAverage: load,
};

const names = [...report.botNames].sort().join(',');
const checks: [string, boolean][] = [
  [`all ${datagrams} datagrams sent while the round was on`, fuzz.sent === datagrams && report.stateWhenFuzzEnded === 'in_progress'],
  ['every category sent', CATEGORIES.every((c) => fuzz.byCategory[c] > 0)],
  ['game in_progress for the whole fuzz', report.statesDuringFuzz.join() === 'in_progress'],
  ['only denied packets came back, no challenge', fuzz.replies.other === 0 && fuzz.challengesAnswered === 0],
  ['never more than the 4 bots', report.maxPlayersSeen === 4 && report.joins === 4],
  ['no bot dropped before the round ended', report.leavesBeforeRoundOver === 0],
  ['every bot reached the results with the 4 names', report.outcomes.every((o) => o.ok && o.results?.map((r) => r.name).sort().join(',') === names)],
  ['round finished and results stored', report.finalStatus.state === 'finished' && report.storedResults.names.sort().join(',') === names],
];

if (json) console.log(JSON.stringify({ figures, checks: Object.fromEntries(checks) }, null, 2));
else {
  console.log(`sent ${fuzz.sent} in ${figures.seconds} s = ${figures.sentPerSecond}/s; kernel drops on the game port ${figures.kernelDrops}; absorbed ${absorbed} in ${figures.absorbSeconds} s = ${figures.absorbedPerSecond}/s`);
  console.log(`worker thread CPU: ${percent(underFuzz.workerCpu, underFuzz.seconds)} of a core under fuzz` + (baseline ? `, ${percent(baseline.workerCpu, baseline.seconds)} with the bots alone` : '') + `; ${figures.workerMicrosPerDatagram} µs per datagram`);
  console.log(`process CPU (2 cores = 200%): ${percent(underFuzz.processCpu, underFuzz.seconds)} under fuzz` + (baseline ? `, ${percent(baseline.processCpu, baseline.seconds)} without` : ''));
  console.log(`replies: ${fuzz.replies.denied} denied, ${fuzz.replies.other} other; challenges answered ${fuzz.challengesAnswered}; sources replaced ${fuzz.sourcesReplaced}`);
  console.log(`by category: ${JSON.stringify(fuzz.byCategory)}`);
}
for (const [what, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
