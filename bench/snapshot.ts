/**
 * Snapshot bandwidth and simulation cost of an 8-player hard game of bot brains.
 *
 * The whole loop of a real game, minus sockets: the world steps at 30 Hz on the inputs in the server's input
 * buffers; every 20 Hz snapshot is recorded once and encoded per client against that client's newest ack; each
 * snapshot and each input packet is lost with probability --loss and otherwise arrives --latency ticks later;
 * bots act on the newest snapshot they decoded and echo its tick in their input packets (so baselines lag by
 * about one round trip, longer after a loss). Reported per run, then the median of the runs:
 * - delta B/s per player: snapshot bytes the server sends to one client per second (lost ones included);
 * - full snapshot size: the same views encoded without a baseline (mean, max), and what 20 Hz of them would cost;
 * - sim tick p50/p99: the time of one `world.step`; encode: one client's snapshot; decode: one on the client.
 *
 *   node_modules/.bin/bun bench/snapshot.ts [--seconds 60] [--runs 5] [--loss 0.05] [--latency 2]
 */
import { botControls } from '../src/game/bot-brain.ts';
import { decodeInput, InputBuffer, InputHistory } from '../src/game/codec/input.ts';
import { encodeSnapshot } from '../src/game/codec/snapshot.ts';
import { SnapshotHistory, SnapshotReceiver, SnapshotSender } from '../src/game/codec/snapshot-stream.ts';
import { TICKS_PER_SECOND, World } from '../src/game/sim/world.ts';
import { median, percentileOfSorted } from '../src/stats/percentile.ts';
import { seededRandom } from '../tests/support/prng.ts';
import { benchArgs } from './args.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/snapshot.ts',
  summary: 'Snapshot bandwidth and simulation cost of an 8-player hard game of bot brains, without sockets.',
  flags: {
    seconds: { type: 'number', min: 0, default: 60, help: 'simulated seconds per run' },
    runs: { type: 'number', integer: true, min: 1, default: 5, help: 'runs; the median is shown' },
    loss: { type: 'number', min: 0, max: 1, default: 0.05, help: 'probability each datagram is lost, each way' },
    latency: { type: 'number', min: 0, default: 2, help: 'one-way latency, ticks' },
  },
});
const SECONDS = flags.seconds;
const RUNS = flags.runs;
const LOSS = flags.loss;
const LATENCY = flags.latency;
const PLAYERS = 8;

/** Datagrams in flight: each is delivered `LATENCY` ticks after it was sent, unless lost. */
class Link<T> {
  private readonly queue: { at: number; item: T }[] = [];
  constructor(private readonly random: () => number) {}
  send(item: T, now: number): void {
    if (this.random() >= LOSS) this.queue.push({ at: now + LATENCY, item });
  }
  deliver(now: number): T[] {
    const due = this.queue.filter((q) => q.at <= now);
    this.queue.splice(0, due.length);
    return due.map((q) => q.item);
  }
}

interface RunFigures {
  deltaBytesPerSecond: number;
  fullMean: number;
  fullMax: number;
  deltaMax: number;
  tickP50: number;
  tickP99: number;
  encodeP50: number;
  decodeP50: number;
  scores: number[];
  deltaShare: number;
}

function run(seed: number): RunFigures {
  const random = seededRandom(seed);
  const world = new World({ seed, difficulty: 'hard', countdownTicks: 0, roundTicks: SECONDS * TICKS_PER_SECOND });
  const history = new SnapshotHistory();
  const clients = Array.from({ length: PLAYERS }, (_, slot) => {
    world.join(slot, `bot${slot}`);
    return {
      slot,
      sender: new SnapshotSender(history),
      receiver: new SnapshotReceiver(),
      inputs: new InputHistory(),
      buffer: new InputBuffer(),
      up: new Link<Uint8Array>(random),
      down: new Link<Uint8Array>(random),
      bytes: 0,
    };
  });
  const tickTimes: number[] = [];
  const encodeTimes: number[] = [];
  const decodeTimes: number[] = [];
  const fullSizes: number[] = [];
  let deltaMax = 0;
  let deltas = 0;
  let decoded = 0;

  while (!world.isOver) {
    const now = world.tick;
    for (const c of clients) {
      for (const bytes of c.down.deliver(now)) {
        const started = performance.now();
        const result = c.receiver.receive(bytes);
        decodeTimes.push(performance.now() - started);
        if (!result.ok) throw new Error(`client ${c.slot} could not decode: ${result.error}`);
        decoded++;
        if (result.baselineTick !== undefined) deltas++;
      }
      const view = c.receiver.latest;
      c.up.send(c.inputs.next(view ? botControls(view, c.slot) : 0, c.receiver.ackTick), now);
      for (const bytes of c.up.deliver(now)) {
        const packet = decodeInput(bytes);
        if (typeof packet === 'string') throw new Error(packet);
        c.buffer.receive(packet);
        if (packet.ackSnapshotTick !== undefined) c.sender.acknowledge(packet.ackSnapshotTick);
      }
    }
    const inputs = clients.map((c) => c.buffer.next());
    const started = performance.now();
    world.step(inputs);
    tickTimes.push(performance.now() - started);

    // 20 Hz from a 30 Hz tick: two ticks in every three.
    if ((world.tick * 2) % 3 >= 2) continue;
    const view = world.view();
    history.record(view);
    fullSizes.push(encodeSnapshot(view).length);
    for (const c of clients) {
      const t0 = performance.now();
      const bytes = c.sender.encode(view);
      encodeTimes.push(performance.now() - t0);
      c.bytes += bytes.length;
      deltaMax = Math.max(deltaMax, bytes.length);
      c.down.send(bytes, world.tick);
    }
  }
  const sortedTicks = tickTimes.sort((a, b) => a - b);
  return {
    deltaBytesPerSecond: clients.reduce((sum, c) => sum + c.bytes, 0) / PLAYERS / SECONDS,
    fullMean: fullSizes.reduce((a, b) => a + b, 0) / fullSizes.length,
    fullMax: Math.max(...fullSizes),
    deltaMax,
    tickP50: percentileOfSorted(sortedTicks, 50) * 1000,
    tickP99: percentileOfSorted(sortedTicks, 99) * 1000,
    encodeP50: median(encodeTimes) * 1000,
    decodeP50: median(decodeTimes) * 1000,
    scores: world.scores().map((s) => s.score),
    deltaShare: deltas / Math.max(1, decoded),
  };
}

const runs: RunFigures[] = [];
for (let r = 0; r < RUNS; r++) {
  const figures = run(1000 + r);
  runs.push(figures);
  console.log(
    `run ${r + 1}: delta ${figures.deltaBytesPerSecond.toFixed(0)} B/s/player (max ${figures.deltaMax} B, ${(figures.deltaShare * 100).toFixed(1)}% deltas) | ` +
      `full mean ${figures.fullMean.toFixed(0)} B, max ${figures.fullMax} B | tick p50 ${figures.tickP50.toFixed(1)} µs p99 ${figures.tickP99.toFixed(1)} µs | ` +
      `encode p50 ${figures.encodeP50.toFixed(1)} µs, decode p50 ${figures.decodeP50.toFixed(1)} µs | scores ${figures.scores.join(' ')}`,
  );
}
const m = (pick: (f: RunFigures) => number) => median(runs.map(pick));
console.log(
  `\nmedian of ${RUNS} runs (${PLAYERS} bots, hard, ${SECONDS} s, ${(LOSS * 100).toFixed(0)}% loss each way, ${LATENCY} ticks one-way latency):`,
);
console.log(`  snapshot bytes per player: ${m((f) => f.deltaBytesPerSecond).toFixed(0)} B/s with deltas (goal < 4096)`);
console.log(`  full snapshot: mean ${m((f) => f.fullMean).toFixed(0)} B, max ${m((f) => f.fullMax).toFixed(0)} B → ${((m((f) => f.fullMean) * 20) / 1024).toFixed(1)} KiB/s at 20 Hz`);
console.log(`  largest delta sent: ${m((f) => f.deltaMax).toFixed(0)} B`);
console.log(`  sim tick: p50 ${m((f) => f.tickP50).toFixed(1)} µs, p99 ${m((f) => f.tickP99).toFixed(1)} µs`);
console.log(`  encode (per client) p50 ${m((f) => f.encodeP50).toFixed(1)} µs, decode p50 ${m((f) => f.decodeP50).toFixed(1)} µs`);
