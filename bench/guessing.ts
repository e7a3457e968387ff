/**
 * Passcode guessing at full speed against the default limits, for 60 s (BENCHMARKS.md "Guessing", SECURITY.md
 * "Passcodes"). Every server logs as `huddle serve` does: JSON lines, here written to /dev/null.
 *
 * Three guessers run at once, each with 8 requests in flight:
 * - "one address": a real `startServer` with the default settings and one live game; the client address is
 *   the TCP peer, so this is what one machine on the internet gets.
 * - "botnet, 16 /24s": the same app with its client address taken from a header, a fresh address on every
 *   request but all within 16 /24 networks: the per-prefix budget holds it.
 * - "botnet, many /24s": a fresh address in a fresh /24 on every request: only the global budget (and, once it
 *   is spent, the newcomers' budget) holds it. Each botnet has its own app and limiter with the default limits.
 * Each reports attempts/s, guesses the server actually checked (404) and refused (429), the steady rate after the
 * first minute's bursts, and the expected number of live games such a guesser finds per day at its limit:
 * checked/day × live games / 32^6.
 *
 *   node_modules/.bin/bun bench/guessing.ts [--seconds 60] [--concurrency 8]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config.ts';
import { createApp } from '../src/matchmaker/app.ts';
import { PASSCODE_ALPHABET, PASSCODE_LENGTH } from '../src/matchmaker/passcodes.ts';
import { GameRegistry } from '../src/matchmaker/registry.ts';
import { ResultsStore } from '../src/matchmaker/results-store.ts';
import { startServer } from '../src/matchmaker/server.ts';
import { seededRandom } from '../tests/support/prng.ts';
import { freePortRange } from '../tests/matchmaker/support/env.ts';
import { expectedFindsPerDay, guess, type GuessTally } from '../tests/hardening/support-api/guess.ts';
import { benchArgs } from './args.ts';
import { productLogger } from './hosting-common.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/guessing.ts',
  summary: 'Passcode guessing at full speed against the default limits: one address and two botnets at once.',
  flags: {
    seconds: { type: 'number', integer: true, min: 1, default: 60, help: 'how long each guesser runs' },
    concurrency: { type: 'number', integer: true, min: 1, default: 8, help: 'requests in flight per guesser' },
  },
});
const SECONDS = flags.seconds;
const CONCURRENCY = flags.concurrency;
const defaults = defaultConfig();
const dir = mkdtempSync(join(tmpdir(), 'huddle-guessing-'));

// The product's logging: JSON lines, one write per line, as `huddle serve` writes them to a pipe or file.

const server = await startServer({
  config: { ...defaults, host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: await freePortRange(defaults.maxGames) },
  log: productLogger(),
});
const created = await fetch(`${server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"host"}' });
const { passcode } = (await created.json()) as { passcode: string };

// A botnet's target: the same app over a registry with no games, addresses from a header, the default limits.
function botnetTarget() {
  const store = new ResultsStore(':memory:');
  const registry = new GameRegistry({
    settings: { ...defaults, bindHost: '127.0.0.1', heartbeatIntervalMs: 750 },
    launcher: { launch: () => { throw new Error('no games here'); } },
    store,
    reportUrl: () => 'http://127.0.0.1:9/',
  });
  const log = productLogger();
  const app = createApp({ config: defaults, registry, store, log, clientAddress: (r) => r.headers.get('x-bench-client') ?? 'unknown' });
  app.listen({ hostname: '127.0.0.1', port: 0 });
  return { app, store, url: `http://127.0.0.1:${app.server!.port}` };
}
const fewNets = botnetTarget();
const manyNets = botnetTarget();
let nextFew = 0;
let nextMany = 0;

console.error(`guessing for ${SECONDS} s with ${CONCURRENCY} requests in flight per guesser…`);
const [single, few, many] = await Promise.all([
  guess({ url: server.localUrl, seconds: SECONDS, concurrency: CONCURRENCY, random: seededRandom(11), avoid: new Set([passcode]) }),
  guess({
    url: fewNets.url,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    random: seededRandom(12),
    avoid: new Set(),
    // 16 /24s, a fresh host in one of them on every request.
    headers: () => ({ 'x-bench-client': `10.0.${nextFew % 16}.${Math.floor(nextFew++ / 16) % 254 + 1}` }),
  }),
  guess({
    url: manyNets.url,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    random: seededRandom(13),
    avoid: new Set(),
    headers: () => ({ 'x-bench-client': `${10 + ((nextMany >> 16) & 63)}.${(nextMany >> 8) & 255}.${nextMany++ & 255}.1` }),
  }),
]);

for (const target of [fewNets, manyNets]) {
  await target.app.stop(true);
  target.store.close();
}
await server.stop();
rmSync(dir, { recursive: true, force: true });

const codes = PASSCODE_ALPHABET.length ** PASSCODE_LENGTH;
function row(label: string, t: GuessTally, limitPerMinute: number) {
  const minutes = t.elapsedMs / 60_000;
  const checkedPerMinute = t.checked / minutes;
  // Steady state: the burst (one bucket's capacity) is a one-off, so a day is limited by the refill rate.
  return {
    guesser: label,
    seconds: +(t.elapsedMs / 1000).toFixed(1),
    attemptsPerSecond: Math.round(t.attempts / (t.elapsedMs / 1000)),
    checked: t.checked,
    refused429: t.limited,
    other: Object.fromEntries(t.other),
    checkedPerMinute: +checkedPerMinute.toFixed(1),
    limitPerMinute,
    retryAfterSeconds: [...t.retryAfter].sort(),
    expectedFindsPerDayAtLimit: expectedFindsPerDay(limitPerMinute, defaults.maxGames),
  };
}
const perPrefix = defaults.joinFailuresPerPrefix;
const globalAndNewcomers = defaults.joinFailuresGlobal * 2;
const rows = [
  row('one address', single, defaults.joinFailuresPerAddress),
  // Once the global budget is spent, all 16 networks are suspects: the global rate holds them.
  row('botnet, 16 /24s', few, Math.min(16 * perPrefix, defaults.joinFailuresGlobal)),
  row('botnet, many /24s', many, globalAndNewcomers),
];
console.log(JSON.stringify({ codes, maxGames: defaults.maxGames, rows }, null, 2));
for (const r of rows) {
  console.log(
    `${r.guesser}: ${r.attemptsPerSecond} attempts/s, ${r.checked} checked in ${r.seconds} s (${r.checkedPerMinute}/min incl. the bursts; limit ${r.limitPerMinute}/min), ${r.refused429} refused with 429; ` +
      `expected finds/day at the limit with ${defaults.maxGames} live games: ${r.expectedFindsPerDayAtLimit.toExponential(3)}`,
  );
}
