import { describe, expect, test } from 'bun:test';
import { type LinkOptions, PeerLink, SendQueueFullError } from '../../src/protocol/reliability/index.ts';
import { HARSH, SimulatedNetwork, isIntact, messageIndex, numberedMessage } from './sim.ts';

const RELIABLE = 0;
const UNRELIABLE = 1;
const SEQUENCED = 2;
const OPTIONS: LinkOptions = {
  channels: [{ kind: 'reliable-ordered' }, { kind: 'unreliable' }, { kind: 'unreliable-sequenced' }],
};
const TICK = 0.01;

/** Sends `count` numbered messages on `channel` as fast as the send queue allows. */
function feeder(link: PeerLink, channel: number, count: number, length: (i: number) => number, perTick = Infinity): () => void {
  let next = 0;
  return () => {
      for (let sent = 0; next < count && sent < perTick; sent++) {
        try {
          link.send(channel, numberedMessage(next, length(next)));
        } catch (error) {
          if (error instanceof SendQueueFullError) return;
          throw error;
        }
        next++;
      }
  };
}

function collect(link: PeerLink, channel: number, into: Uint8Array[]): void {
  for (let m = link.receive(channel); m !== undefined; m = link.receive(channel)) into.push(m);
}

function expectInOrder(received: Uint8Array[], count: number): void {
  expect(received.length).toBe(count);
  received.forEach((message, i) => {
    expect(messageIndex(message)).toBe(i);
    expect(isIntact(message)).toBe(true);
  });
}

describe('reliable-ordered over 20% loss both ways, reordering and duplication', () => {
  test('1,000 messages each way arrive exactly once, in order, intact; stats match the link', () => {
    const net = SimulatedNetwork.pair(7, HARSH, OPTIONS);
    const sizes = (i: number) => 4 + ((i * 37) % 300);
    const fromA = feeder(net.a, RELIABLE, 1000, sizes);
    const fromB = feeder(net.b, RELIABLE, 1000, sizes);
    const atB: Uint8Array[] = [];
    const atA: Uint8Array[] = [];
    let snapshot = 0;
    const done = net.runUntil(TICK, 60, () => atA.length === 1000 && atB.length === 1000 && net.a.unacked(RELIABLE) === 0, () => {
      collect(net.b, RELIABLE, atB);
      collect(net.a, RELIABLE, atA);
      fromA();
      fromB();
      // Steady unreliable traffic as a game would have, so both sides keep sending.
      net.a.send(UNRELIABLE, numberedMessage(snapshot, 40));
      net.b.send(SEQUENCED, numberedMessage(snapshot++, 120));
    });
    expect(done).toBe(true);
    expectInOrder(atB, 1000);
    expectInOrder(atA, 1000);
    for (const link of [net.a, net.b]) {
      const s = link.stats;
      // Round trip = 2 × (50 ms + up to 20 ms jitter) + up to one 10 ms tick of ack delay.
      expect(s.rttMeasured).toBe(true);
      expect(s.rttSeconds).toBeGreaterThan(0.1);
      expect(s.rttSeconds).toBeLessThan(0.16);
      // A packet is acked if it arrives (80%); acks ride 33 packets deep, so their own loss barely counts.
      expect(s.packetLoss).toBeGreaterThan(0.12);
      expect(s.packetLoss).toBeLessThan(0.28);
      expect(s.packetsLost / (s.packetsLost + s.packetsAcked)).toBeCloseTo(0.2, 1);
      expect(s.resends).toBeGreaterThan(0);
      expect(s.duplicatePackets).toBeGreaterThan(0);
      expect(s.invalidPackets).toBe(0);
      // Every tick sends at least one packet: at least ~100 packets of ≥ 9 bytes per second each way.
      expect(s.sentBytesPerSecond).toBeGreaterThan(900);
      expect(s.receivedBytesPerSecond).toBeGreaterThan(0.6 * s.sentBytesPerSecond * 0.5);
      expect(s.ackedBytesPerSecond).toBeLessThanOrEqual(s.sentBytesPerSecond * 1.2);
      expect(s.bytesAcked).toBeLessThan(s.bytesSent);
      expect(s.bytesAcked / s.bytesSent).toBeGreaterThan(0.65);
    }
    // Nothing more shows up later: each message was delivered exactly once.
    net.runUntil(TICK, 2, () => false);
    expect(net.a.receive(RELIABLE)).toBeUndefined();
    expect(net.b.receive(RELIABLE)).toBeUndefined();
    expect(net.largestPacket).toBeLessThanOrEqual(1200);
  });

  test('bytes/s stats follow a steady stream', () => {
    const net = SimulatedNetwork.pair(11, { loss: 0, latency: 0.02, jitter: 0, duplicate: 0 }, OPTIONS);
    // 100 ticks/s × one 500-byte unreliable message → 100 packets of 9 + 3 + 500 bytes per second.
    net.runUntil(TICK, 3, () => false, () => net.a.send(UNRELIABLE, new Uint8Array(500)));
    const expected = 100 * (9 + 3 + 500);
    expect(net.a.stats.sentBytesPerSecond).toBeGreaterThan(expected * 0.9);
    expect(net.a.stats.sentBytesPerSecond).toBeLessThan(expected * 1.1);
    expect(net.b.stats.receivedBytesPerSecond).toBeGreaterThan(expected * 0.9);
    expect(net.b.stats.receivedBytesPerSecond).toBeLessThan(expected * 1.1);
    expect(net.a.stats.ackedBytesPerSecond).toBeGreaterThan(expected * 0.9);
    expect(net.a.stats.ackedBytesPerSecond).toBeLessThan(expected * 1.1);
    expect(net.a.stats.packetLoss).toBe(0);
    expect(net.a.stats.rttSeconds).toBeGreaterThan(0.04);
    // 2 × 20 ms, plus up to a tick each way for delivery and ack on the 10 ms grid.
    expect(net.a.stats.rttSeconds).toBeLessThan(0.061);
  });

  test('sliced 50 KiB messages reassemble intact under loss', () => {
    const net = SimulatedNetwork.pair(3, HARSH, OPTIONS);
    const sizes = [50 * 1024, 50 * 1024 + 1, 1187, 2048, 65536, 1, 50 * 1024];
    sizes.forEach((size, i) => net.a.send(RELIABLE, numberedMessage(i, size)));
    const atB: Uint8Array[] = [];
    const done = net.runUntil(TICK, 30, () => atB.length === sizes.length && net.a.unacked(RELIABLE) === 0, () => collect(net.b, RELIABLE, atB));
    expect(done).toBe(true);
    expect(atB.map((m) => m.length)).toEqual(sizes.map((s) => Math.max(s, 4)));
    expectInOrder(atB, sizes.length);
    expect(net.largestPacket).toBeLessThanOrEqual(1200);
  });

  test('unreliable messages arrive at most once; sequenced ones only ever newer', () => {
    const net = SimulatedNetwork.pair(5, HARSH, OPTIONS);
    let next = 0;
    net.runUntil(TICK, 5, () => false, () => {
      for (let i = 0; i < 3; i++) {
        net.a.send(UNRELIABLE, numberedMessage(next, 30));
        net.a.send(SEQUENCED, numberedMessage(next++, 30));
      }
    });
    net.runUntil(TICK, 1, () => false);
    const plain = net.b.drain(UNRELIABLE).map(messageIndex);
    const sequenced = net.b.drain(SEQUENCED).map(messageIndex);
    expect(new Set(plain).size).toBe(plain.length);
    // Loss is per packet and packets carry several messages: around 80% get through.
    expect(plain.length).toBeGreaterThan(next * 0.7);
    expect(plain.length).toBeLessThan(next * 0.9);
    for (let i = 1; i < sequenced.length; i++) expect(sequenced[i]!).toBeGreaterThan(sequenced[i - 1]!);
    expect(net.b.stats.receivedDropped).toBeGreaterThan(0); // reordering made some sequenced ones stale
  });

  test('sequence numbers and message ids wrap around 65535 under loss', () => {
    const wrap: LinkOptions = { ...OPTIONS, firstSequence: 65_400, firstMessageId: 65_300 };
    const net = SimulatedNetwork.pair(9, HARSH, wrap);
    // Few per tick, so that many packets (and the sequence wrap) pass while messages are in flight.
    const fromA = feeder(net.a, RELIABLE, 1000, (i) => 4 + (i % 50), 3);
    const fromB = feeder(net.b, RELIABLE, 1000, (i) => 4 + (i % 50), 3);
    const atA: Uint8Array[] = [];
    const atB: Uint8Array[] = [];
    const done = net.runUntil(TICK, 60, () => atA.length === 1000 && atB.length === 1000, () => {
      collect(net.a, RELIABLE, atA);
      collect(net.b, RELIABLE, atB);
      fromA();
      fromB();
    });
    expect(done).toBe(true);
    expectInOrder(atA, 1000);
    expectInOrder(atB, 1000);
    expect(net.a.stats.packetsSent).toBeGreaterThan(200);
    expect(net.a.stats.rttMeasured).toBe(true);
  });
});
