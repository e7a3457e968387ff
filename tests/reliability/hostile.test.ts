import { describe, expect, test } from 'bun:test';
import { type LinkOptions, type LinkStats, PeerLink } from '../../src/protocol/reliability/index.ts';
import { randomBytes, seededRandom } from '../support/prng.ts';
import { bytes, packet, readAcks, reliable, sequenced, slice, u16, unreliable } from './craft.ts';
import { HARSH, SimulatedNetwork, numberedMessage } from './sim.ts';

/** Channel 0 caps messages at 4000 bytes: at most 4 slices of 1024. Channel 3 caps whole messages at 100. */
const OPTIONS: LinkOptions = {
  channels: [
    { kind: 'reliable-ordered', maxMessageBytes: 4000, maxInFlightMessages: 64 },
    { kind: 'unreliable', maxMessageBytes: 100 },
    { kind: 'unreliable-sequenced' },
    { kind: 'reliable-ordered', maxMessageBytes: 100 },
  ],
};

/**
 * A link with some history: it sent 3 packets; it got message 0, slice 0 of 3 of message 1 and message 3
 * (held back: message 2 is missing). The next peer packet would be sequence 3.
 */
function linkWithHistory(): PeerLink {
  const link = new PeerLink(OPTIONS);
  for (let i = 0; i < 3; i++) {
    link.send(0, numberedMessage(100 + i, 50));
    link.flush(i * 0.01, () => {});
  }
  expect(link.receivePacket(packet({ sequence: 0, ack: 0 }, reliable(0, 0, [1, 2, 3]), unreliable(1, [9])), 0.05)).toBe(true);
  expect(link.receivePacket(packet({ sequence: 1, ack: 1 }, slice(0, 1, 0, 3, bytes(1024, 1))), 0.06)).toBe(true);
  expect(link.receivePacket(packet({ sequence: 2, ack: 1, bits: 1 }, reliable(0, 3, [7])), 0.07)).toBe(true);
  return link;
}

/** Feeds the same continuation to a link and returns everything observable about it afterwards. */
function observe(link: PeerLink): { out: number[][]; delivered: number[][][]; stats: Omit<LinkStats, 'invalidPackets'> } {
  const out: number[][] = [];
  link.flush(0.08, (p) => out.push([...p]));
  link.receivePacket(packet({ sequence: 3, ack: 2 }, slice(0, 1, 1, 3, bytes(1024, 2)), slice(0, 1, 2, 3, bytes(10, 3)), reliable(0, 2, [5])), 0.09);
  link.receivePacket(packet({ sequence: 4, ack: 2 }, sequenced(2, 1, [4]), unreliable(1, [8])), 0.1);
  link.flush(0.5, (p) => out.push([...p]));
  const delivered = [0, 1, 2, 3].map((c) => link.drain(c).map((m) => [...m]));
  const { invalidPackets: _ignored, ...stats } = link.stats;
  return { out, delivered, stats };
}

const full = bytes(1024);
const MALFORMED: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['truncated header', packet({ sequence: 3 }).subarray(0, 8)],
  ['larger than 1200 bytes', packet({ sequence: 3 }, unreliable(2, bytes(1189)))],
  ['unknown wire version', packet({ sequence: 3, flags: 0x03 }, reliable(0, 2, [5]))],
  ['the previous wire version (1: no ack delay)', packet({ sequence: 3, flags: 0x01 }, reliable(0, 2, [5]))],
  ['reserved header flag', packet({ sequence: 3, flags: 0x42 }, reliable(0, 2, [5]))],
  ['ack fields set without the ack flag', Uint8Array.from([0x02, ...u16(3), ...u16(1), 0, 0, 0, 0, 0, 0])],
  ['ack delay set without the ack flag', Uint8Array.from([0x02, ...u16(3), 0, 0, 0, 0, 0, 0, ...u16(40)])],
  ['ack of a packet never sent', packet({ sequence: 3, ack: 3 }, reliable(0, 2, [5]))],
  ['ack far in the future', packet({ sequence: 3, ack: 30_000 })],
  ['unknown channel', packet({ sequence: 3 }, reliable(5, 2, [5]))],
  ['reserved channel bit', packet({ sequence: 3 }, [0x80, ...reliable(0, 2, [5]).slice(1)])],
  ['slice flag on an unreliable channel', packet({ sequence: 3 }, [0x41, ...u16(0), ...u16(0), ...u16(2), ...u16(1), 1])],
  ['block header cut short', packet({ sequence: 3 }, [0, 2])],
  ['length past the end', packet({ sequence: 3 }, [0, ...u16(2), ...u16(50), 1, 2, 3])],
  ['one stray byte after a good block', packet({ sequence: 3 }, reliable(0, 2, [5]), [0])],
  ['good block then a bad one', packet({ sequence: 3 }, reliable(0, 2, [5]), reliable(9, 4, [1]))],
  ['slice count over the cap', packet({ sequence: 3 }, slice(0, 2, 0, 5, full))],
  ['slice count 65535', packet({ sequence: 3 }, slice(0, 2, 0, 65535, full))],
  ['slice count of one', packet({ sequence: 3 }, slice(0, 2, 0, 1, [1]))],
  ['slice count of zero', packet({ sequence: 3 }, slice(0, 2, 0, 0, [1]))],
  ['slice index past the count', packet({ sequence: 3 }, slice(0, 2, 3, 3, [1]))],
  ['short middle slice', packet({ sequence: 3 }, slice(0, 2, 0, 3, bytes(1000)))],
  ['empty last slice', packet({ sequence: 3 }, slice(0, 2, 2, 3, []))],
  ['last slice over the message cap', packet({ sequence: 3 }, slice(0, 2, 3, 4, bytes(1000)))],
  ['slice count disagreeing with the assembly', packet({ sequence: 3 }, slice(0, 1, 1, 4, full))],
  ['whole message for an id being assembled', packet({ sequence: 3 }, reliable(0, 1, [1]))],
  ['reliable message over the channel cap', packet({ sequence: 3 }, reliable(3, 0, bytes(101)))],
  ['unreliable message over the channel cap', packet({ sequence: 3 }, unreliable(1, bytes(101)))],
  ['message id beyond the receive window', packet({ sequence: 3 }, reliable(0, 65, [1]))],
];

describe('malformed packets', () => {
  for (const [name, bad] of MALFORMED) {
    test(`${name}: rejected, counted, and nothing else changes`, () => {
      const clean = linkWithHistory();
      const attacked = linkWithHistory();
      expect(attacked.receivePacket(bad, 0.075)).toBe(false);
      expect(attacked.stats.invalidPackets).toBe(1);
      expect(observe(attacked)).toEqual(observe(clean));
      expect(attacked.stats.invalidPackets).toBe(1);
      expect(clean.stats.invalidPackets).toBe(0);
    });
  }

  test('the continuation used above really exercises the state', () => {
    const { delivered } = observe(linkWithHistory());
    expect(delivered[0]!.map((m) => m.length)).toEqual([3, 2058, 1, 1]);
    expect(delivered[1]).toEqual([[9], [8]]);
    expect(delivered[2]).toEqual([[4]]);
  });
});

describe('hostile memory use', () => {
  test('early slices of many messages stop at the buffer cap; refused packets are not acked', () => {
    const link = new PeerLink({ channels: [{ kind: 'reliable-ordered', maxMessageBytes: 4000, maxBufferedBytes: 16_000 }] });
    link.send(0, new Uint8Array(1));
    link.flush(0, () => {});
    // Message 0 never comes, so every one of these must wait, each reserving a 4000-byte assembly.
    for (let id = 1; id <= 10; id++) expect(link.receivePacket(packet({ sequence: id }, slice(0, id, 0, 4, full)), 0.01)).toBe(true);
    expect(link.stats.reliableRefused).toBe(6);
    const acks = readAcks(link.takePackets(0.02)[0]!);
    expect(acks.ack).toBe(4);
    expect(acks.bits).toBe(0b111);
    // The message everything waits for is always let in, and it drains the window.
    expect(link.receivePacket(packet({ sequence: 11 }, reliable(0, 0, [1])), 0.03)).toBe(true);
    expect(link.drain(0).length).toBe(1);
  });

  test('undelivered messages push back on the sender until the application reads them', () => {
    const options: LinkOptions = { channels: [{ kind: 'reliable-ordered', maxMessageBytes: 1000, maxBufferedBytes: 8000 }] };
    const net = SimulatedNetwork.pair(21, HARSH, options);
    let sent = 0;
    const feed = () => {
      while (sent < 100) {
        try {
          net.a.send(0, numberedMessage(sent, 1000));
        } catch {
          return;
        }
        sent++;
      }
    };
    net.runUntil(0.01, 5, () => false, feed);
    // Nothing is read at B: it holds at most twice its cap (delivered, plus what waited in the window), A its cap.
    expect(sent).toBeLessThanOrEqual(24);
    expect(net.b.stats.reliableRefused).toBeGreaterThan(0);
    const got: number[] = [];
    const done = net.runUntil(0.01, 30, () => got.length === 100, () => {
      for (let m = net.b.receive(0); m; m = net.b.receive(0)) got.push(new DataView(m.buffer).getUint32(0, true));
      feed();
    });
    expect(done).toBe(true);
    expect(got).toEqual([...Array(100).keys()]);
  });
});

describe('random garbage', () => {
  test('thousands of random packets never throw and are all accounted for', () => {
    const random = seededRandom(1234);
    const link = linkWithHistory();
    const before = link.stats.packetsReceived + link.stats.duplicatePackets + link.stats.stalePackets;
    let processed = 0;
    const count = 20_000;
    for (let i = 0; i < count; i++) {
      const garbage = randomBytes(random, Math.floor(random() * 1300));
      // Half get a plausible first byte so that parsing goes past the header.
      if (garbage.length > 0 && i % 2 === 0) garbage[0] = random() < 0.5 ? 0x01 : 0x81;
      if (link.receivePacket(garbage, 1 + i * 0.001)) processed++;
      if (i % 100 === 0) link.flush(1 + i * 0.001, () => {});
    }
    const s = link.stats;
    expect(s.invalidPackets + s.packetsReceived + s.duplicatePackets + s.stalePackets - before).toBe(count);
    expect(s.invalidPackets).toBeGreaterThan(count * 0.9);
    expect(processed).toBe(s.packetsReceived - 3);
  });

  test('bit flips of real packets never throw', () => {
    const random = seededRandom(99);
    const net = SimulatedNetwork.pair(4, HARSH, OPTIONS);
    const real: Uint8Array[] = [];
    net.runUntil(0.01, 0.5, () => false, () => {
      net.a.send(0, numberedMessage(real.length, 10 + Math.floor(random() * 3000)));
      net.a.send(2, numberedMessage(real.length, 20));
      net.a.flush(net.now, (p) => real.push(p.slice()));
    });
    const victim = new PeerLink(OPTIONS);
    victim.flush(0, () => {});
    for (let i = 0; i < 20_000; i++) {
      const p = real[i % real.length]!.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) p[Math.floor(random() * p.length)]! ^= 1 << Math.floor(random() * 8);
      const cut = random() < 0.2 ? p.subarray(0, Math.floor(random() * p.length)) : p;
      expect(() => victim.receivePacket(cut, 1 + i * 0.001)).not.toThrow();
      if (i % 50 === 0) victim.flush(1 + i * 0.001, () => {});
      for (const c of [0, 1, 2, 3]) victim.drain(c);
    }
    expect(victim.stats.invalidPackets).toBeGreaterThan(0);
  });
});
