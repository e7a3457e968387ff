/**
 * Back in the seat: how long a dropped player waits, over real UDP, from asking the matchmaker for a ticket to
 * the game's welcome, against a first join measured the same way in the same invocation.
 *
 * Each sample is one player of a live lobby (a host stays connected):
 * - "join": POST /api/games/join with the passcode, connect, welcome (the peer: what a player pays anyway);
 * - "takeover": the player's socket goes silent (a phone switching networks), POST /api/games/rejoin, connect
 *   from a new socket, welcome with `rejoined` — the old connection is replaced at once, no 10 s timeout;
 * - "held": the player disconnects cleanly (a closed tab; the seat is held), then rejoins the same way.
 * The three alternate sample by sample. The matchmaker logs as `huddle serve` does (JSON lines, written to
 * /dev/null so the bench's output stays readable), with the default heartbeats and rejoin grace.
 *
 *   node_modules/.bin/bun bench/rejoin.ts [--samples 60] [--runs 3]
 */
import { startServer } from '../src/matchmaker/server.ts';
import { ClientState } from '../src/protocol/netcode/client.ts';
import { UdpPlayer } from '../tests/support/udp-player.ts';
import { freePortRange } from '../tests/matchmaker/support/env.ts';
import { median, percentile } from '../src/stats/percentile.ts';
import { benchArgs } from './args.ts';
import { benchConfig, productLogger } from './hosting-common.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/rejoin.ts',
  summary: 'Back in the seat over UDP (takeover and held seat) against a first join, alternating sample by sample.',
  flags: {
    samples: { type: 'number', integer: true, min: 1, default: 60, help: 'samples per kind and run' },
    runs: { type: 'number', integer: true, min: 1, default: 3, help: 'runs; the median is shown' },
  },
});
const SAMPLES = flags.samples;
const RUNS = flags.runs;

type Kind = 'join' | 'takeover' | 'held';
interface Ticket {
  gameId: string;
  connectToken: string;
  passcode: string;
  rejoinKey: string;
}

// A game a run: each run's lobby ends once its host leaves, but its slot comes back only when its worker is gone.
const ports = await freePortRange(RUNS);
const { config, removeDataDir } = benchConfig({ gamePorts: `${ports.first}-${ports.last}`, maxGames: RUNS, maxPlayers: 8 });
const server = await startServer({ config, log: productLogger() });

async function post(path: string, body: unknown): Promise<Ticket> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as Ticket & { error?: { message: string } };
  if (!response.ok) throw new Error(`${path}: ${response.status} ${json.error?.message}`);
  return json;
}

async function welcomed(player: UdpPlayer, rejoined: boolean): Promise<void> {
  await player.waitFor((v) => v.you !== undefined && v.rejoined === rejoined && v.phase === 'lobby', 5000);
}

const open = new Set<UdpPlayer>();
function track(player: UdpPlayer): UdpPlayer {
  open.add(player);
  return player;
}

const results: Record<Kind, number[]> = { join: [], takeover: [], held: [] };
const runMedians: Record<Kind, number[]> = { join: [], takeover: [], held: [] };
try {
  for (let run = 0; run < RUNS; run++) {
    const game = await post('/api/games', { name: 'host' });
    const host = track(await UdpPlayer.connect(game.connectToken));
    await welcomed(host, false);
    const perRun: Record<Kind, number[]> = { join: [], takeover: [], held: [] };
    for (let i = 0; i < SAMPLES; i++) {
      // join: a new player, who then stays as the one who drops.
      let started = performance.now();
      const ticket = await post('/api/games/join', { passcode: game.passcode, name: `p${i}` });
      let player = track(await UdpPlayer.connect(ticket.connectToken));
      await welcomed(player, false);
      perRun.join.push(performance.now() - started);

      // takeover: the socket goes silent and the player comes back from a new one.
      player.vanish();
      started = performance.now();
      player = track(await UdpPlayer.connect((await post('/api/games/rejoin', { rejoinKey: ticket.rejoinKey })).connectToken));
      await welcomed(player, true);
      perRun.takeover.push(performance.now() - started);

      // held: a clean disconnect (the seat is held), then the rejoin.
      player.close();
      await Bun.sleep(30);
      started = performance.now();
      player = track(await UdpPlayer.connect((await post('/api/games/rejoin', { rejoinKey: ticket.rejoinKey })).connectToken));
      await welcomed(player, true);
      perRun.held.push(performance.now() - started);

      // Leave for good so the lobby never fills (the seat is given up at once).
      player.client.leave();
      await player.waitForState((s) => s !== ClientState.Connected, 2000).catch(() => {});
      player.close();
    }
    host.client.leave();
    await Bun.sleep(100);
    host.close();
    for (const kind of Object.keys(perRun) as Kind[]) {
      results[kind].push(...perRun[kind]);
      runMedians[kind].push(median(perRun[kind]));
    }
  }
} finally {
  // A failed wait leaves players ticking at 30 Hz: close them all, or the process never exits.
  for (const p of open) p.close();
  await server.stop();
  removeDataDir();
}

const fmt = (ms: number) => ms.toFixed(2);
console.log(`\nback in the seat over UDP: ${RUNS} runs × ${SAMPLES} samples of each, alternating; ms from the HTTP request to the welcome`);
console.log('kind       p50     p99     max     median of run medians   ratio to join (median of runs)');
for (const kind of ['join', 'takeover', 'held'] as const) {
  const all = results[kind];
  const ratio = median(runMedians[kind].map((m, i) => m / (runMedians.join[i] as number)));
  console.log(`${kind.padEnd(9)}${fmt(percentile(all, 50)).padStart(7)} ${fmt(percentile(all, 99)).padStart(7)} ${fmt(Math.max(...all)).padStart(7)}   ${fmt(median(runMedians[kind])).padStart(10)}              ${ratio.toFixed(2)}x`);
}
