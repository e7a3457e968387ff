/**
 * netcode protocol figures, single thread, side by side with the netcode C reference in the same invocation:
 *   - payload packets written + read per second at 100 and 1000 bytes (PacketWriter → PacketReader with a
 *     replay window, the work a real send and receive do);
 *   - connect tokens generated per second (random keys and nonce, sealed private part, 2048-byte public token);
 *   - connect handshake time over real UDP on 127.0.0.1 (client `connect` → `Connected`), p50 and p99 (ours only:
 *     the reference client waits for its 10 Hz tick, so its ~100 ms says nothing about cost).
 *
 * The C side is ../shared/netcode-ref/bin/bench_ref (its README), run once per pair with `--runs 1`: huddle run,
 * C run, huddle run, C run, … so both see the same machine load, and each pair gives one huddle/C ratio per
 * figure. The median ratio is the figure to compare with the goal (≥ 1.0x); absolute rates on this shared machine
 * move by ±30% between invocations, ratios much less.
 *
 *   node_modules/.bin/bun bench/protocol.ts [--runs 5] [--ms 1000] [--handshakes 200]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultAead, defaultAeadFallbackReason } from '../src/protocol/crypto/index.ts';
import { parseAddress } from '../src/protocol/netcode/address.ts';
import { ClientState, NetcodeClient } from '../src/protocol/netcode/client.ts';
import { generateConnectToken } from '../src/protocol/netcode/connect-token.ts';
import { MAX_PACKET_BYTES, SERVER_ALLOWED_PACKETS } from '../src/protocol/netcode/constants.ts';
import { PacketReader, PacketWriter } from '../src/protocol/netcode/packet.ts';
import { isRejection } from '../src/protocol/netcode/rejection.ts';
import { ReplayProtection } from '../src/protocol/netcode/replay.ts';
import { NetcodeServer } from '../src/protocol/netcode/server.ts';
import { openUdpTransport } from '../src/protocol/transport/udp.ts';
import { median, percentile } from '../src/stats/percentile.ts';
import { benchArgs, usageError } from './args.ts';

const COMMAND = 'node_modules/.bin/bun bench/protocol.ts';
const DEFAULT_BENCH_REF = fileURLToPath(new URL('../../shared/netcode-ref/bin/bench_ref', import.meta.url));

const { values: flags } = benchArgs({
  command: COMMAND,
  summary: 'netcode payload and token rates, alternating with the netcode C reference (bench_ref) run for run, as huddle/C ratios; UDP handshake time.',
  flags: {
    runs: { type: 'number', integer: true, min: 1, default: 5, help: 'alternating pairs (huddle run, C run); medians over them' },
    ms: { type: 'number', integer: true, min: 10, default: 1000, help: 'length of each figure in each run, ms (both sides)' },
    handshakes: { type: 'number', integer: true, min: 0, default: 200, help: 'loopback UDP handshakes timed (huddle only)' },
    'bench-ref': { type: 'string', value: 'path', default: DEFAULT_BENCH_REF, help: 'the C reference benchmark' },
  },
});
const runs = flags.runs;
const runMs = flags.ms;
const benchRef = flags['bench-ref'];
if (!existsSync(benchRef)) usageError(COMMAND, `no C reference benchmark at ${benchRef} (see ../shared/netcode-ref/README.md, or pass --bench-ref)`);

const PROTOCOL_ID = 0x1122334455667788n;
const key = crypto.getRandomValues(new Uint8Array(32));

const FIGURES = ['100 B', '1000 B', 'tokens'] as const;
type Figure = (typeof FIGURES)[number];
type Rates = Record<Figure, number>;
const LABEL: Record<Figure, string> = {
  '100 B': 'payload packets written + read / s, 100 B',
  '1000 B': 'payload packets written + read / s, 1000 B',
  tokens: 'connect tokens generated / s',
};

/** Runs `step` in growing batches for `ms` and returns operations per second. */
function rate(step: (i: number) => void, ms = runMs): number {
  let done = 0;
  let batch = 64;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) step(done + i);
    done += batch;
    elapsed = performance.now() - start;
    if (elapsed < ms / 10) batch *= 2;
  }
  return (done / elapsed) * 1000;
}

function payloadRate(size: number, ms?: number): number {
  const writer = new PacketWriter(PROTOCOL_ID, defaultAead);
  const reader = new PacketReader(defaultAead);
  const payload = crypto.getRandomValues(new Uint8Array(size));
  const packet = new Uint8Array(MAX_PACKET_BYTES);
  const replay = new ReplayProtection();
  const context = { protocolId: PROTOCOL_ID, currentTimestamp: 0, allowed: SERVER_ALLOWED_PACKETS, key, replay };
  let sequence = 0n;
  return rate(() => {
    const length = writer.writePayload(packet, sequence++, key, payload);
    const read = reader.read(packet.subarray(0, length), context);
    if (isRejection(read)) throw new Error(`payload rejected: ${read.reason}`);
  }, ms);
}

function tokenRate(ms?: number): number {
  const privateKey = crypto.getRandomValues(new Uint8Array(32));
  const serverAddresses = [parseAddress('127.0.0.1:40000')];
  const nowSeconds = Math.floor(Date.now() / 1000);
  return rate((i) => {
    generateConnectToken({ protocolId: PROTOCOL_ID, privateKey, clientId: BigInt(i), serverAddresses, expireSeconds: 30, timeoutSeconds: 10, nowSeconds });
  }, ms);
}

function huddleRun(ms?: number): Rates {
  return { '100 B': payloadRate(100, ms), '1000 B': payloadRate(1000, ms), tokens: tokenRate(ms) };
}

/** One bench_ref run of the same three figures (`--runs 1`), parsed from its lines (worded as ours). */
function referenceRun(): { rates: Rates; banner: string } {
  const child = Bun.spawnSync([benchRef, '--runs', '1', '--ms', String(runMs)], { stdout: 'pipe', stderr: 'pipe', timeout: 10 * runMs + 10_000 });
  const out = child.stdout.toString();
  if (child.exitCode !== 0) throw new Error(`${benchRef} exited ${child.exitCode}: ${out}${child.stderr.toString()}`);
  const figure = (pattern: RegExp): number => {
    const match = pattern.exec(out);
    if (!match) throw new Error(`${benchRef} printed no line matching ${pattern}:\n${out}`);
    return Number(match[1]);
  };
  return {
    rates: {
      '100 B': figure(/per second, 100 B: (\d+)/),
      '1000 B': figure(/per second, 1000 B: (\d+)/),
      tokens: figure(/connect tokens generated per second: (\d+)/),
    },
    banner: out.split('\n')[0] ?? '',
  };
}

/** Handshake latencies in milliseconds over real UDP sockets on loopback. */
async function handshakeTimes(count: number): Promise<number[]> {
  const privateKey = crypto.getRandomValues(new Uint8Array(32));
  const now = () => Date.now() / 1000;
  let server: NetcodeServer | undefined;
  const serverSocket = await openUdpTransport({ hostname: '127.0.0.1', port: 0, onDatagram: (d, h, p) => server?.receive(d, h, p, now()) });
  const serverAddress = parseAddress(`127.0.0.1:${serverSocket.localPort}`);
  server = new NetcodeServer({ protocolId: PROTOCOL_ID, privateKey, maxClients: 64, publicAddress: serverAddress }, { send: (d, h, p) => serverSocket.send(d, h, p) });
  server.start();
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const token = generateConnectToken({ protocolId: PROTOCOL_ID, privateKey, clientId: BigInt(i + 1), serverAddresses: [serverAddress], expireSeconds: 30, timeoutSeconds: 5, nowSeconds: now() }).bytes;
      let client: NetcodeClient | undefined;
      const connected = Promise.withResolvers<number>();
      const socket = await openUdpTransport({ hostname: '127.0.0.1', port: 0, onDatagram: (d, h, p) => client?.receive(d, h, p, now()) });
      client = new NetcodeClient(
        { protocolId: PROTOCOL_ID },
        {
          send: (d, h, p) => socket.send(d, h, p),
          onStateChange: (state) => {
            if (state === ClientState.Connected) connected.resolve(performance.now());
            else if (state < 0) connected.reject(new Error(`handshake failed in state ${state}`));
          },
        },
      );
      const ticker = setInterval(() => client?.update(now()), 10);
      const start = performance.now();
      client.connect(token, now());
      times.push((await connected.promise) - start);
      clearInterval(ticker);
      client.disconnect(now());
      socket.close();
      await Bun.sleep(1);
    }
  } finally {
    serverSocket.close();
  }
  return times;
}

// A short unreported warm-up, so the first huddle run is not also the JIT's (the C side has none to do).
huddleRun(Math.max(10, runMs / 5));

const ours: Rates[] = [];
const theirs: Rates[] = [];
let banner = '';
for (let run = 0; run < runs; run++) {
  ours.push(huddleRun());
  const reference = referenceRun();
  theirs.push(reference.rates);
  banner = reference.banner;
}
const times = flags.handshakes > 0 ? await handshakeTimes(flags.handshakes) : [];

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (n: number) => `${n.toFixed(2)}x`;
console.log(`AEAD backend: ${defaultAead.name}${defaultAeadFallbackReason ? ` (fallback: ${defaultAeadFallbackReason})` : ''}`);
console.log(`C reference: ${benchRef} — ${banner}`);
console.log(`${runs} alternating pairs (huddle run, then C run), ${runMs} ms per figure per run; ratios are huddle/C within each pair`);
for (const figure of FIGURES) {
  const a = ours.map((r) => r[figure]);
  const b = theirs.map((r) => r[figure]);
  const ratios = a.map((x, i) => x / b[i]!);
  const m = median(ratios);
  const verdict = m >= 1 ? 'goal ≥ 1.0x met' : `goal ≥ 1.0x missed by ${((1 - m) * 100).toFixed(0)}% (huddle needs ${ratio(1 / m)} its rate)`;
  console.log(`${LABEL[figure]}: huddle ${fmt(median(a))}, C ${fmt(median(b))}, huddle/C ${ratio(m)} (pairs: ${ratios.map(ratio).join(', ')}) — ${verdict}`);
  console.log(`  huddle runs: ${a.map(fmt).join(', ')}; C runs: ${b.map(fmt).join(', ')}`);
}
if (times.length > 0) {
  console.log(`connect handshake on loopback UDP over ${times.length}: p50 ${percentile(times, 50).toFixed(3)} ms, p99 ${percentile(times, 99).toFixed(3)} ms, max ${Math.max(...times).toFixed(3)} ms`);
}
