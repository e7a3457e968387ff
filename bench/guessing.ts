/**
 * Passcode guessing at full speed against the default limits, for 60 s (BENCHMARKS.md "Guessing").
 *
 * Two guessers run at once, each with 8 requests in flight:
 * - "one address": a real `startServer` with the default settings and one live game; the client address is
 *   the TCP peer, so this is what one machine on the internet gets.
 * - "many addresses": the same app with its client address taken from a header and a fresh address on every
 *   request (a botnet), on its own limiter with the same default limits: this shows the global cap.
 * Each reports attempts/s, guesses the server actually checked (404) and refused (429), and the expected number
 * of live games such a guesser finds per day: checked/day × live games / 32^6.
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

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const SECONDS = arg('seconds', 60);
const CONCURRENCY = arg('concurrency', 8);
const defaults = defaultConfig();
const dir = mkdtempSync(join(tmpdir(), 'huddle-guessing-'));

const server = await startServer({
  config: { ...defaults, host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: await freePortRange(defaults.maxGames) },
});
const created = await fetch(`${server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"host"}' });
const { passcode } = (await created.json()) as { passcode: string };

// The botnet's target: the same app over a registry with no games, addresses from a header.
const store = new ResultsStore(':memory:');
const registry = new GameRegistry({
  settings: { ...defaults, bindHost: '127.0.0.1', heartbeatIntervalMs: 750 },
  launcher: { launch: () => { throw new Error('no games here'); } },
  store,
  reportUrl: () => 'http://127.0.0.1:9/',
});
const botnetApp = createApp({ config: defaults, registry, store, clientAddress: (r) => r.headers.get('x-bench-client') ?? 'unknown' });
botnetApp.listen({ hostname: '127.0.0.1', port: 0 });
const botnetUrl = `http://127.0.0.1:${botnetApp.server!.port}`;
let nextAddress = 0;

console.error(`guessing for ${SECONDS} s with ${CONCURRENCY} requests in flight per guesser…`);
const [single, botnet] = await Promise.all([
  guess({ url: server.localUrl, seconds: SECONDS, concurrency: CONCURRENCY, random: seededRandom(11), avoid: new Set([passcode]) }),
  guess({
    url: botnetUrl,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    random: seededRandom(12),
    avoid: new Set(),
    headers: () => ({ 'x-bench-client': `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}` }),
  }),
]);

await botnetApp.stop(true);
store.close();
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
const rows = [row('one address', single, defaults.joinFailuresPerAddress), row('many addresses', botnet, defaults.joinFailuresGlobal)];
console.log(JSON.stringify({ codes, maxGames: defaults.maxGames, rows }, null, 2));
for (const r of rows) {
  console.log(
    `${r.guesser}: ${r.attemptsPerSecond} attempts/s, ${r.checked} checked in ${r.seconds} s (${r.checkedPerMinute}/min incl. the burst; limit ${r.limitPerMinute}/min), ${r.refused429} refused with 429; ` +
      `expected finds/day at the limit with ${defaults.maxGames} live games: ${r.expectedFindsPerDayAtLimit.toExponential(3)}`,
  );
}
