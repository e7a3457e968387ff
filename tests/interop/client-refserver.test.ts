/**
 * Our netcode client (NetcodeClient on a real Bun UDP socket, as the game client and `huddle bot` use it) joins the
 * netcode C reference server (`refserver serve`, which echoes every payload to its sender), with a token minted by
 * our generateConnectToken under the reference's fixed key and protocol id, and with one minted by the reference
 * itself (`refserver mint`).
 */
import { afterEach, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddress } from '../../src/protocol/netcode/address.ts';
import { ClientState, clientStateName, NetcodeClient } from '../../src/protocol/netcode/client.ts';
import { generateConnectToken } from '../../src/protocol/netcode/connect-token.ts';
import { MAX_PAYLOAD_BYTES } from '../../src/protocol/netcode/constants.ts';
import { openUdpTransport } from '../../src/protocol/transport/udp.ts';
import type { DatagramTransport } from '../../src/protocol/transport/transport.ts';
import { freeUdpPort, waitFor } from '../matchmaker/support/env.ts';
import { describeInterop, REF_PRIVATE_KEY, REF_PROTOCOL_ID, RefHarness, type RefProcess } from './support.ts';

const harness = new RefHarness();
const clients: UdpNetcodeClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await harness.cleanup();
});

const now = () => performance.now() / 1000;

/** NetcodeClient on a UDP socket, updated at 100 Hz, keeping a copy of every payload it receives. */
class UdpNetcodeClient {
  readonly received: Uint8Array[] = [];
  private ticker: Timer | undefined;

  private constructor(
    readonly netcode: NetcodeClient,
    private readonly socket: DatagramTransport,
  ) {}

  static async connect(token: Uint8Array): Promise<UdpNetcodeClient> {
    let self: UdpNetcodeClient | undefined;
    const socket = await openUdpTransport({ hostname: '127.0.0.1', port: 0, onDatagram: (data, host, port) => self?.netcode.receive(data, host, port, now()) });
    const netcode = new NetcodeClient({ protocolId: REF_PROTOCOL_ID }, { send: (data, host, port) => socket.send(data, host, port), onPayload: (payload) => self?.received.push(payload.slice()) });
    self = new UdpNetcodeClient(netcode, socket);
    clients.push(self);
    self.ticker = setInterval(() => netcode.update(now()), 10);
    netcode.connect(token, now());
    return self;
  }

  async connected(timeoutMs = 3000): Promise<void> {
    try {
      await waitFor(() => this.netcode.state === ClientState.Connected || this.netcode.state < 0, timeoutMs, 'Connected');
    } finally {
      expect(clientStateName(this.netcode.state)).toBe('Connected');
    }
  }

  close(): void {
    clearInterval(this.ticker);
    if (this.netcode.state > ClientState.Disconnected) this.netcode.disconnect(now());
    this.socket.close();
  }
}

/** `count` payloads, each different (its index in the first two bytes) and of a different size, both edges included. */
function payloads(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const size = i === 0 ? MAX_PAYLOAD_BYTES : i === 1 ? 2 : 2 + ((i * 97) % (MAX_PAYLOAD_BYTES - 2));
    const bytes = crypto.getRandomValues(new Uint8Array(size));
    bytes[0] = i & 0xff;
    bytes[1] = i >> 8;
    return bytes;
  });
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Sends every payload (one per 5 ms, so nothing is lost to a full socket buffer) and waits for all to come back. */
async function echo(client: UdpNetcodeClient, sent: Uint8Array[]): Promise<void> {
  for (const payload of sent) {
    client.netcode.sendPayload(payload, now());
    await Bun.sleep(5);
  }
  await waitFor(() => client.received.length >= sent.length, 3000, `${sent.length} payloads echoed (got ${client.received.length})`);
  // Byte for byte, each exactly once (order aside: UDP does not promise it).
  expect(client.received.map(hex).sort()).toEqual(sent.map(hex).sort());
}

async function startRefServer(maxClients: number, extra: string[] = []): Promise<{ server: RefProcess; port: number }> {
  const port = await freeUdpPort();
  const server = harness.spawn('refserver', ['serve', '--addr', `127.0.0.1:${port}`, '--max-clients', String(maxClients), '--secs', '20', '--log', '1', ...extra], 25_000);
  await server.waitForLine(/listening on/, 3000);
  return { server, port };
}

function ourToken(port: number, clientId: bigint): Uint8Array {
  return generateConnectToken({
    protocolId: REF_PROTOCOL_ID,
    privateKey: REF_PRIVATE_KEY,
    clientId,
    serverAddresses: [parseAddress(`127.0.0.1:${port}`)],
    expireSeconds: 30,
    timeoutSeconds: 5,
    nowSeconds: Date.now() / 1000,
  }).bytes;
}

describeInterop('our netcode client against the netcode C reference server', () => {
  test('a token from our generateConnectToken: connects, payloads echo both ways byte for byte, a clean disconnect frees the slot', async () => {
    const { server, port } = await startRefServer(1);
    const client = await UdpNetcodeClient.connect(ourToken(port, 7001n));
    await client.connected();
    expect([client.netcode.clientIndex, client.netcode.maxClients]).toEqual([0, 1]);
    await server.waitForLine(/client 0 CONNECTED id=7001 /, 2000);
    await echo(client, payloads(40));

    client.netcode.disconnect(now());
    // The reference times a silent client out after 5 s; its log must name our disconnect well before that.
    const started = Date.now();
    await server.waitForLine(/client 0 DISCONNECTED reason=CLIENT_DISCONNECT/, 2000);
    expect(Date.now() - started).toBeLessThan(2000);

    // The only slot is free again: another client is admitted into it.
    const next = await UdpNetcodeClient.connect(ourToken(port, 7002n));
    await next.connected();
    await server.waitForLine(/client 0 CONNECTED id=7002 /, 2000);
    await echo(next, payloads(5));
  }, 20_000);

  test('a token minted by the reference (`refserver mint`): connects and exchanges payloads; the server counts them', async () => {
    const { server, port } = await startRefServer(4, ['--exit-after-disconnect']);
    const file = join(harness.tempDir(), 'minted.bin');
    const mint = await harness.spawn('refserver', ['mint', file, '--addr', `127.0.0.1:${port}`, '--client-id', '4242', '--expiry', '30', '--timeout', '5'], 5000).exit;
    expect(mint.code).toBe(0);
    const client = await UdpNetcodeClient.connect(new Uint8Array(readFileSync(file)));
    await client.connected();
    await server.waitForLine(/CONNECTED id=4242 /, 2000);
    const sent = payloads(25);
    await echo(client, sent);
    client.netcode.disconnect(now());
    const r = await server.result();
    expect(r).toMatchObject({ exitCode: '0', connects: '1', disconnects: '1', connected_now: '0', payloads_echoed: String(sent.length) });
    expect(Number(r.bytes_echoed)).toBe(sent.reduce((n, p) => n + p.length, 0));
    expect(server.lines.some((line) => /DISCONNECTED reason=CLIENT_DISCONNECT/.test(line))).toBe(true);
  }, 20_000);
});
