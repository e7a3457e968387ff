/**
 * The players of the tick benchmark, in their own process so the matchmaker's CPU figure counts only the server
 * (bench/hosting-run.ts and bench/load-run.ts spawn it). For each of K games: a host bot creates it and starts it
 * (normal difficulty) once --players (default 4) are in, and the others join by passcode; all play as runBot
 * does (the bot brain steering in the arena) until the results.
 * Games are created one after another (each once the previous one's host is in its lobby) to keep the creation
 * burst off the measurement.
 *
 *   bun bench/hosting-bots.ts --url http://127.0.0.1:PORT --games K --timeout SECONDS [--players 4] [--report-ms MS]
 *
 * Writes JSON lines to stdout: {"type":"created","games":K} once every game exists, then {"type":"done",...}.
 * With --report-ms (bench/load.ts), also {"type":"counters",...} that often: the bots' datagram counts (see
 * load-datagrams.ts) and event-loop lateness, so the parent can take rates over exactly its window.
 * Every bot records the gaps between the arena snapshots it receives (src/game/snapshot-gaps.ts). A line
 * `window-start` on stdin resets them all; `window-end` answers {"type":"gaps","players":[…]}: each bot's
 * snapshots, gap p50/p99 (1 ms resolution) and worst gap over exactly that window. The `done` line carries the
 * same over each bot's whole session.
 */
import { runBot, type BotEvent, type BotOutcome } from '../src/bot.ts';
import { countDatagrams } from './load-datagrams.ts';
import { percentileOfSorted } from '../src/stats/percentile.ts';
import { benchArgs } from './args.ts';
import { SnapshotGaps } from '../src/game/snapshot-gaps.ts';
import { forEachLine } from './load-io.ts';

const { values: flags } = benchArgs({
  command: 'bun bench/hosting-bots.ts',
  summary: 'The players of the tick and load benchmarks (bench/hosting-run.ts and bench/load-run.ts spawn it); JSON lines on stdout.',
  flags: {
    url: { type: 'string', required: true, value: 'http://127.0.0.1:PORT', help: 'the matchmaker' },
    games: { type: 'number', integer: true, min: 1, required: true, help: 'games to create and play' },
    timeout: { type: 'number', min: 1, required: true, value: 'seconds', help: 'give up after this long' },
    players: { type: 'number', integer: true, min: 1, default: 4, help: 'bots per game' },
    'report-ms': { type: 'number', integer: true, min: 0, default: 0, help: 'counters line this often; 0: never' },
    'udp-reads': { type: 'string', default: 'wakes', choices: ['wakes', 'each'], help: "how the bots read their sockets (src/bot.ts udpReads: wakes, huddle bot's default on Linux)" },
  },
});
const url = flags.url;
const games = flags.games;
const timeoutSeconds = flags.timeout;
const PLAYERS = flags.players;
const reportMs = flags['report-ms'];
const udpReads = flags['udp-reads'] === 'each' ? 'each' : 'wakes';

const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

/**
 * How late this process's timers fire (a 50 ms probe): with every bot's 30 Hz timer on one event loop, lateness
 * says whether the bots' process, rather than the server, is what falls behind.
 */
function startReporting(): () => void {
  const counts = countDatagrams();
  const PROBE_MS = 50;
  let lateMs: number[] = [];
  let expected = performance.now() + PROBE_MS;
  const probe = setInterval(() => {
    const at = performance.now();
    lateMs.push(Math.max(0, at - expected));
    expected = at + PROBE_MS;
  }, PROBE_MS);
  const report = setInterval(() => {
    const sorted = lateMs.sort((a, b) => a - b);
    say({
      type: 'counters',
      at: Date.now(),
      ...counts(),
      lateP99Ms: sorted.length ? percentileOfSorted(sorted, 99) : 0,
      lateMaxMs: sorted.at(-1) ?? 0,
    });
    lateMs = [];
  }, reportMs);
  return () => {
    clearInterval(probe);
    clearInterval(report);
  };
}
// Before the first bot opens its socket, so every bot socket is counted.
const stopReporting = reportMs > 0 ? startReporting() : () => {};

/** Every bot's snapshot gaps; the parent windows them through stdin. */
const allGaps: SnapshotGaps[] = [];
const gapsFor = (): SnapshotGaps => {
  const gaps = new SnapshotGaps();
  allGaps.push(gaps);
  return gaps;
};
void forEachLine(Bun.stdin.stream(), (line) => {
  if (line === 'window-start') for (const gaps of allGaps) gaps.reset();
  if (line === 'window-end') say({ type: 'gaps', players: allGaps.map((g) => g.summary()) });
}).catch(() => {});

let connected = 0;
const outcomes: Promise<BotOutcome>[] = [];
const createErrors: string[] = [];
const notices: Record<string, number> = {};
const onEvent = (event: BotEvent): void => {
  if (event.event === 'connected') connected++;
  // A start refused or a lobby closing says why a game never got going.
  if (event.event === 'notice') notices[`${event.code}: ${event.message}`] = (notices[`${event.code}: ${event.message}`] ?? 0) + 1;
};

for (let g = 0; g < games; g++) {
  const hostConnected = Promise.withResolvers<string | undefined>();
  let passcode: string | undefined;
  const host = runBot({
    server: url,
    name: `host${g}`,
    mode: { create: { maxPlayers: PLAYERS } },
    start: 'normal',
    startWhenPlayers: PLAYERS,
    timeoutSeconds,
    udpReads,
    snapshotGaps: gapsFor(),
    onEvent: (event) => {
      if (event.event === 'created') passcode = event.passcode;
      // The first player the worker admits becomes host: joiners that beat the creator in would take the host
      // role from the only bot that starts the game, so they go in once it is connected (as a person would).
      if (event.event === 'connected') hostConnected.resolve(passcode);
      onEvent(event);
    },
  });
  // A failed create never connects; settle the wait from the outcome instead.
  const hostOutcome = host.catch((error: unknown): BotOutcome => {
    createErrors.push(error instanceof Error ? error.message : String(error));
    return { ok: false, reason: 'create failed' };
  });
  void hostOutcome.then(() => hostConnected.resolve(undefined));
  outcomes.push(hostOutcome);
  const hostIn = await hostConnected.promise;
  if (hostIn === undefined) continue;
  for (let p = 1; p < PLAYERS; p++) {
    outcomes.push(
      runBot({ server: url, name: `g${g}p${p}`, mode: { join: hostIn }, timeoutSeconds, udpReads, onEvent, snapshotGaps: gapsFor() }).catch(
        (error: unknown): BotOutcome => ({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
      ),
    );
  }
}
say({ type: 'created', games, bots: outcomes.length });

const settled = await Promise.all(outcomes);
stopReporting();
const reasons: Record<string, number> = {};
for (const outcome of settled) if (!outcome.ok) reasons[outcome.reason] = (reasons[outcome.reason] ?? 0) + 1;
const doneLine = `${JSON.stringify({
  type: 'done',
  bots: settled.length,
  connected,
  withResults: settled.filter((o) => o.ok).length,
  failures: reasons,
  notices,
  createErrors: createErrors.slice(0, 5),
  sessionGaps: settled.map((o) => o.snapshotGaps ?? null),
})}\n`;
// stdin (the window commands) stays open while the parent lives: end once the line is out rather than wait for it.
await new Promise<void>((resolve) => process.stdout.write(doneLine, () => resolve()));
process.exit(0);
