/**
 * The protocol core end to end over real UDP sockets on 127.0.0.1: a netcode client connects to a netcode
 * server with a connect token through a middlebox that drops 20% of datagrams each way, 1,000 reliable
 * messages arrive exactly once and in order, a clean disconnect frees the slot — while malformed and random
 * datagrams are thrown at the server without changing anything.
 */
import { afterEach, expect, test } from 'bun:test';
import { ClientState, NetcodeClient } from '../../src/protocol/netcode/client.ts';
import { CONNECTION_REQUEST_BYTES } from '../../src/protocol/netcode/constants.ts';
import { generateConnectToken } from '../../src/protocol/netcode/connect-token.ts';
import { parseAddress } from '../../src/protocol/netcode/address.ts';
import { NetcodeServer } from '../../src/protocol/netcode/server.ts';
import { PeerLink } from '../../src/protocol/reliability/index.ts';
import { openUdpTransport } from '../../src/protocol/transport/udp.ts';
import type { DatagramTransport } from '../../src/protocol/transport/transport.ts';
import { startLossyProxy, type LossyProxy } from '../support/lossy-udp-proxy.ts';
import { randomBytes, seededRandom } from '../support/prng.ts';

const PROTOCOL_ID = 0x4855_4444_4c45_0001n;
const MESSAGES = 1000;
const now = () => Date.now() / 1000;
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

const linkOptions = { channels: [{ kind: 'reliable-ordered' as const }] };

test('1,000 reliable messages over 20% loss each way arrive once and in order; garbage changes nothing', async () => {
  const privateKey = crypto.getRandomValues(new Uint8Array(32));
  const serverLinks = new Map<number, PeerLink>();
  const delivered: number[] = [];
  const connectEvents: number[] = [];
  const disconnectEvents: number[] = [];

  // Server on a real socket; its public address is the lossy proxy in front of it.
  let server: NetcodeServer | undefined;
  const serverSocket = await openUdpTransport({ hostname: '127.0.0.1', port: 0, onDatagram: (d, h, p) => server?.receive(d, h, p, now()) });
  cleanup.push(() => serverSocket.close());
  const proxy: LossyProxy = await startLossyProxy({ serverPort: serverSocket.localPort, lossRatio: 0.2, seed: 20 });
  cleanup.push(() => proxy.close());
  const publicAddress = parseAddress(`127.0.0.1:${proxy.port}`);
  server = new NetcodeServer(
    { protocolId: PROTOCOL_ID, privateKey, maxClients: 4, publicAddress },
    {
      send: (d, h, p) => serverSocket.send(d, h, p),
      onConnect: (c) => {
        connectEvents.push(c.clientIndex);
        serverLinks.set(c.clientIndex, new PeerLink(linkOptions));
      },
      onDisconnect: (c) => {
        disconnectEvents.push(c.clientIndex);
      },
      onPayload: (index, payload) => {
        const link = serverLinks.get(index)!;
        link.receivePacket(payload, now());
        for (const message of link.drain(0)) delivered.push(new DataView(message.buffer, message.byteOffset).getUint32(0, true));
      },
    },
  );
  server.start();

  // Client on its own socket, talking to the proxy's address named in the token.
  let client: NetcodeClient | undefined;
  const clientSocket: DatagramTransport = await openUdpTransport({ hostname: '127.0.0.1', port: 0, onDatagram: (d, h, p) => client?.receive(d, h, p, now()) });
  cleanup.push(() => clientSocket.close());
  const clientLink = new PeerLink(linkOptions);
  client = new NetcodeClient({ protocolId: PROTOCOL_ID }, { send: (d, h, p) => clientSocket.send(d, h, p), onPayload: (p) => clientLink.receivePacket(p, now()) });
  const token = generateConnectToken({ protocolId: PROTOCOL_ID, privateKey, clientId: 77n, serverAddresses: [publicAddress], expireSeconds: 30, timeoutSeconds: 5, nowSeconds: Math.floor(now()) });

  // A stranger sprays the server's real port with garbage the whole time.
  const random = seededRandom(7);
  const attacker = await openUdpTransport({ hostname: '127.0.0.1', port: 0, onDatagram: () => {} });
  cleanup.push(() => attacker.close());
  const otherToken = generateConnectToken({ protocolId: PROTOCOL_ID, privateKey: crypto.getRandomValues(new Uint8Array(32)), clientId: 9n, serverAddresses: [publicAddress], expireSeconds: 30, timeoutSeconds: 5, nowSeconds: Math.floor(now()) });
  let garbageSent = 0;
  const spray = () => {
    for (let i = 0; i < 20; i++) {
      const kind = garbageSent++ % 4;
      let datagram: Uint8Array;
      if (kind === 0) datagram = randomBytes(random, Math.floor(random() * 1500));
      else if (kind === 1) {
        // A request-shaped datagram with a token sealed by another key.
        datagram = new Uint8Array(CONNECTION_REQUEST_BYTES);
        datagram.set(otherToken.bytes.subarray(0, 21), 1);
        datagram.set(otherToken.bytes.subarray(29, 1085), 22);
      } else if (kind === 2) datagram = Uint8Array.of(0x15, ...randomBytes(random, 40)); // payload prefix, junk body
      else datagram = Uint8Array.of(0x00, ...randomBytes(random, Math.floor(random() * 1200)));
      attacker.send(datagram, '127.0.0.1', serverSocket.localPort);
    }
  };

  client.connect(token.bytes, now());
  let next = 0;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && delivered.length < MESSAGES) {
    const t = now();
    client.update(t);
    server.update(t);
    if (client.state === ClientState.Connected) {
      // Keep a bounded number of messages queued, as a game would.
      while (next < MESSAGES && next - delivered.length < 200) {
        const message = new Uint8Array(32);
        new DataView(message.buffer).setUint32(0, next++, true);
        clientLink.send(0, message);
      }
      clientLink.flush(t, (p) => client!.sendPayload(p, t));
    }
    for (const [index, link] of serverLinks) link.flush(t, (p) => server!.sendPayload(index, p, t));
    spray();
    await Bun.sleep(5);
  }

  expect(client.state).toBe(ClientState.Connected);
  expect(delivered).toHaveLength(MESSAGES);
  expect(delivered).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
  expect(proxy.stats.dropped).toBeGreaterThan(0);
  expect(proxy.stats.dropped / (proxy.stats.dropped + proxy.stats.forwarded)).toBeGreaterThan(0.15);
  // Nobody but our client got a slot, whatever the attacker sent.
  expect(connectEvents).toEqual([0]);
  expect(server.numConnectedClients).toBe(1);
  expect(garbageSent).toBeGreaterThan(200);
  const dropped = [...server.dropped.values()].reduce((a, b) => a + b, 0);
  expect(dropped).toBeGreaterThan(garbageSent / 2);

  // A clean disconnect frees the slot, even with 20% of the disconnect packets lost.
  client.disconnect(now());
  const freedBy = Date.now() + 3000;
  while (Date.now() < freedBy && server.numConnectedClients > 0) await Bun.sleep(5);
  expect(server.numConnectedClients).toBe(0);
  expect(disconnectEvents).toEqual([0]);
}, 30_000);
