/**
 * netcode protocol figures, single thread, median of N runs:
 *   - payload packets written + read per second at 100 and 1000 bytes (PacketWriter → PacketReader with a
 *     replay window, the work a real send and receive do);
 *   - connect tokens generated per second (random keys and nonce, sealed private part, 2048-byte public token);
 *   - connect handshake time over real UDP on 127.0.0.1 (client `connect` → `Connected`), p50 and p99.
 *
 *   node_modules/.bin/bun bench/protocol.ts [--runs 5] [--ms 1000] [--handshakes 200]
 */
import { defaultAead, defaultAeadFallbackReason } from '../src/protocol/crypto/index.ts';
import { ClientState, NetcodeClient } from '../src/protocol/netcode/client.ts';
import { MAX_PACKET_BYTES, SERVER_ALLOWED_PACKETS } from '../src/protocol/netcode/constants.ts';
import { generateConnectToken } from '../src/protocol/netcode/connect-token.ts';
import { parseAddress } from '../src/protocol/netcode/address.ts';
import { PacketReader, PacketWriter } from '../src/protocol/netcode/packet.ts';
import { isRejection } from '../src/protocol/netcode/rejection.ts';
import { ReplayProtection } from '../src/protocol/netcode/replay.ts';
import { NetcodeServer } from '../src/protocol/netcode/server.ts';
import { openUdpTransport } from '../src/protocol/transport/udp.ts';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const runs = argNumber('--runs', 5);
const runMs = argNumber('--ms', 1000);
const handshakes = argNumber('--handshakes', 200);

const PROTOCOL_ID = 0x1122334455667788n;
const key = crypto.getRandomValues(new Uint8Array(32));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs `step` in growing batches for `runMs` and returns operations per second. */
function rate(step: (i: number) => void): number {
  let done = 0;
  let batch = 64;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < runMs) {
    for (let i = 0; i < batch; i++) step(done + i);
    done += batch;
    elapsed = performance.now() - start;
    if (elapsed < runMs / 10) batch *= 2;
  }
  return (done / elapsed) * 1000;
}

function payloadRate(size: number): number {
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
  });
}

function tokenRate(): number {
  const privateKey = crypto.getRandomValues(new Uint8Array(32));
  const serverAddresses = [parseAddress('127.0.0.1:40000')];
  const nowSeconds = Math.floor(Date.now() / 1000);
  return rate((i) => {
    generateConnectToken({ protocolId: PROTOCOL_ID, privateKey, clientId: BigInt(i), serverAddresses, expireSeconds: 30, timeoutSeconds: 10, nowSeconds });
  });
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
      const token = generateConnectToken({ protocolId: PROTOCOL_ID, privateKey, clientId: BigInt(i + 1), serverAddresses: [serverAddress], expireSeconds: 30, timeoutSeconds: 5, nowSeconds: Math.floor(now()) }).bytes;
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

const results: Record<string, number[]> = { '100 B': [], '1000 B': [], tokens: [] };
for (let run = 0; run < runs; run++) {
  results['100 B']!.push(payloadRate(100));
  results['1000 B']!.push(payloadRate(1000));
  results.tokens!.push(tokenRate());
}
const times = await handshakeTimes(handshakes);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`AEAD backend: ${defaultAead.name}${defaultAeadFallbackReason ? ` (fallback: ${defaultAeadFallbackReason})` : ''}`);
console.log(`payload packets written+read per second, 100 B: ${fmt(median(results['100 B']!))} (runs: ${results['100 B']!.map(fmt).join(', ')})`);
console.log(`payload packets written+read per second, 1000 B: ${fmt(median(results['1000 B']!))} (runs: ${results['1000 B']!.map(fmt).join(', ')})`);
console.log(`connect tokens generated per second: ${fmt(median(results.tokens!))} (runs: ${results.tokens!.map(fmt).join(', ')})`);
console.log(`connect handshake on loopback UDP over ${times.length}: p50 ${percentile(times, 50).toFixed(3)} ms, p99 ${percentile(times, 99).toFixed(3)} ms, max ${Math.max(...times).toFixed(3)} ms`);
