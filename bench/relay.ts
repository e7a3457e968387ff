/**
 * Relay round-trip overhead vs direct UDP on loopback.
 *
 * A UDP echo server stands in for a game. "direct" pings it from a UDP socket (as the native bot would);
 * "relay" pings it from a WebSocket through the relay (as the browser would). Pings are sequential (one in
 * flight), so each sample is one full round trip, and every reply is checked to be the ping it answers.
 *
 * Two placements, both reported:
 * - "process": the pinging client runs in a child process (as a browser or bot is another process); the
 *   relay and the echo server share this one, so each hop wakes a real event loop.
 * - "inline": client, relay and echo server all in this process, on one thread.
 *
 *   node_modules/.bin/bun bench/relay.ts [--pings 2000] [--runs 5] [--warmup 200] [--size 100]
 */
import { Elysia } from 'elysia';
import { createRelay } from '../src/matchmaker/relay/relay.ts';
import { relayRoutes } from '../src/matchmaker/relay/relay-routes.ts';
import { median, percentileOfSorted } from '../src/stats/percentile.ts';
import { benchArgs } from './args.ts';

const { values: flags } = benchArgs({
  command: 'node_modules/.bin/bun bench/relay.ts',
  summary: 'Round-trip time of sequential pings to a UDP echo server on loopback, direct and through the WebSocket relay.',
  flags: {
    pings: { type: 'number', integer: true, min: 1, default: 2000, help: 'measured pings per path and run' },
    runs: { type: 'number', integer: true, min: 1, default: 5, help: 'runs per placement; the median is shown' },
    warmup: { type: 'number', integer: true, min: 1, default: 200, help: 'unmeasured pings first' },
    size: { type: 'number', integer: true, min: 1, default: 100, help: 'ping payload, bytes' },
    child: { type: 'number', integer: true, min: 1, max: 65535, value: 'echo port', help: 'internal: run as the pinging child process' },
    'child-url': { type: 'string', value: 'relay url', help: 'internal: the relay the child pings through' },
    'relay-first': { type: 'boolean', help: 'internal: the child measures the relay path first' },
  },
});
const PINGS = flags.pings;
const RUNS = flags.runs;
const WARMUP = flags.warmup;
const SIZE = flags.size;

type Pinger = { ping(payload: Uint8Array): Promise<void>; close(): void };

/** Sequential round trips; returns each one's duration in microseconds. */
async function measure(pinger: Pinger, count: number): Promise<number[]> {
  const payload = new Uint8Array(SIZE).fill(7);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    payload[0] = i & 0xff;
    const start = performance.now();
    await pinger.ping(payload);
    samples.push((performance.now() - start) * 1000);
  }
  return samples;
}

/** Runs one pinger for warm-up plus PINGS samples; returns p50 and p99 in microseconds. */
async function percentiles(open: () => Promise<Pinger>): Promise<{ p50: number; p99: number }> {
  const pinger = await open();
  await measure(pinger, WARMUP);
  const sorted = (await measure(pinger, PINGS)).sort((a, b) => a - b);
  pinger.close();
  return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99) };
}

/** One pending reply at a time: the next datagram or frame resolves it. */
function replySlot() {
  let resolve: (() => void) | undefined;
  let expected = -1;
  return {
    wait: (payload: Uint8Array) => {
      expected = payload[0] as number;
      return new Promise<void>((r) => (resolve = r));
    },
    arrived: (data: Uint8Array) => {
      if (data.length !== SIZE || data[0] !== expected) throw new Error('an echo did not match its ping');
      const r = resolve;
      resolve = undefined;
      r?.();
    },
  };
}

async function directPinger(echoPort: number): Promise<Pinger> {
  const slot = replySlot();
  const socket = await Bun.udpSocket({ hostname: '127.0.0.1', port: 0, socket: { data: (_socket, data) => slot.arrived(data) } });
  return {
    ping(payload) {
      const reply = slot.wait(payload);
      socket.send(payload, echoPort, '127.0.0.1');
      return reply;
    },
    close: () => socket.close(),
  };
}

async function relayPinger(url: string): Promise<Pinger> {
  const slot = replySlot();
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (event: MessageEvent<ArrayBuffer>) => slot.arrived(new Uint8Array(event.data));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onclose = (e) => reject(new Error(`relay closed: ${e.code} ${e.reason}`));
  });
  return {
    ping(payload) {
      const reply = slot.wait(payload);
      ws.send(payload);
      return reply;
    },
    close: () => ws.close(),
  };
}

interface Run {
  direct: { p50: number; p99: number };
  relay: { p50: number; p99: number };
}

/** The child-process side: `--child <echoPort> --child-url <relayUrl>` measures both paths and prints one JSON Run. */
async function child(echoPort: number, url: string, relayFirst: boolean): Promise<void> {
  const run: Partial<Run> = {};
  for (const kind of relayFirst ? (['relay', 'direct'] as const) : (['direct', 'relay'] as const)) {
    run[kind] = await percentiles(() => (kind === 'direct' ? directPinger(echoPort) : relayPinger(url)));
  }
  console.log(JSON.stringify(run));
}

async function inChild(echoPort: number, url: string, relayFirst: boolean): Promise<Run> {
  const proc = Bun.spawn([process.execPath, import.meta.path, '--child', String(echoPort), '--child-url', url, ...(relayFirst ? ['--relay-first'] : []), ...process.argv.slice(2)], {
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error('the pinging child process failed');
  return JSON.parse(out) as Run;
}

async function inline(echoPort: number, url: string, relayFirst: boolean): Promise<Run> {
  const run: Partial<Run> = {};
  for (const kind of relayFirst ? (['relay', 'direct'] as const) : (['direct', 'relay'] as const)) {
    run[kind] = await percentiles(() => (kind === 'direct' ? directPinger(echoPort) : relayPinger(url)));
  }
  return run as Run;
}

function summarise(placement: string, runs: Run[]) {
  const m = (pick: (r: Run) => number) => Math.round(median(runs.map(pick)) * 10) / 10;
  const summary = {
    placement,
    directP50: m((r) => r.direct.p50),
    directP99: m((r) => r.direct.p99),
    relayP50: m((r) => r.relay.p50),
    relayP99: m((r) => r.relay.p99),
    // Differences of percentiles taken apart (the two paths are separate runs of pings), not percentiles of a
    // per-ping added latency: a relay p99 minus a direct p99 says how much the tail moved, no more.
    p50Difference: m((r) => r.relay.p50 - r.direct.p50),
    p99Difference: m((r) => r.relay.p99 - r.direct.p99),
  };
  console.log(`${placement}: median of ${runs.length} runs, ${PINGS} pings of ${SIZE} B each (µs)`);
  console.log(`  direct UDP  p50 ${summary.directP50}  p99 ${summary.directP99}`);
  console.log(`  via relay   p50 ${summary.relayP50}  p99 ${summary.relayP99}`);
  console.log(`  relay − direct: p50 ${summary.p50Difference}  p99 ${summary.p99Difference}   (differences of the percentiles; goals: < 100, < 1000)`);
  return summary;
}

if (flags.child !== undefined) {
  await child(flags.child, flags['child-url'] ?? '', flags['relay-first']);
} else {
  const echo = await Bun.udpSocket({
    hostname: '127.0.0.1',
    port: 0,
    socket: { data: (socket, data, port, address) => void socket.send(data, port, address) },
  });
  // The bench measures forwarding, not the flood guard: lift the rate limit.
  const relay = createRelay({ resolveGame: (id) => (id === 'bench' ? { port: echo.port } : undefined), limits: { framesPerSecond: 1e9, burstFrames: 1e9 } });
  const app = new Elysia().use(relayRoutes(relay)).listen({ hostname: '127.0.0.1', port: 0 });
  const url = `ws://127.0.0.1:${app.server?.port}/relay?game=bench`;

  const results = [];
  for (const [placement, measureRun] of [['process', inChild], ['inline', inline]] as const) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate the order so neither path always runs on a warmer process.
      const run = await measureRun(echo.port, url, i % 2 === 1);
      runs.push(run);
      const f = (x: number) => x.toFixed(1);
      console.log(`  ${placement} run ${i + 1}: direct ${f(run.direct.p50)} / ${f(run.direct.p99)}  relay ${f(run.relay.p50)} / ${f(run.relay.p99)}  (p50 / p99 µs)`);
    }
    results.push(summarise(placement, runs));
  }
  console.log(JSON.stringify({ pings: PINGS, runs: RUNS, sizeBytes: SIZE, results }));
  relay.closeAll();
  await app.stop(true);
  echo.close();
}
