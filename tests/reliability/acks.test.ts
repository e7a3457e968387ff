import { describe, expect, test } from 'bun:test';
import { HEADER_BYTES, PeerLink, sequenceGreaterThan, sequenceLessThan } from '../../src/protocol/reliability/index.ts';
import { seededRandom } from '../support/prng.ts';
import { readAcks } from './craft.ts';

describe('sequence arithmetic', () => {
  test('newer means ahead by less than half the space, across the wrap', () => {
    expect(sequenceGreaterThan(1, 0)).toBe(true);
    expect(sequenceGreaterThan(0, 65535)).toBe(true);
    expect(sequenceGreaterThan(10, 65530)).toBe(true);
    expect(sequenceGreaterThan(65535, 0)).toBe(false);
    expect(sequenceGreaterThan(5, 5)).toBe(false);
    expect(sequenceGreaterThan(32768, 0)).toBe(true);
    expect(sequenceGreaterThan(32769, 0)).toBe(false);
    expect(sequenceLessThan(65535, 0)).toBe(true);
  });
});

const OPTIONS = { channels: [{ kind: 'unreliable' as const }] };

/** Flushes one message-carrying packet from `link` per call. */
function onePacket(link: PeerLink, now: number): Uint8Array {
  link.send(0, Uint8Array.of(1));
  const packets = link.takePackets(now);
  expect(packets.length).toBe(1);
  return packets[0]!;
}

describe('ack header', () => {
  test('ack and bitfield name exactly the packets received, across the sequence wrap', () => {
    const a = new PeerLink({ ...OPTIONS, firstSequence: 65_520 });
    const b = new PeerLink(OPTIONS);
    const sent = Array.from({ length: 30 }, (_, i) => onePacket(a, i * 0.001));
    // Deliver a scrambled subset: 65520 + i for these i.
    const chosen = [0, 1, 3, 7, 15, 16, 17, 20, 28, 29].reverse();
    for (const i of chosen) expect(b.receivePacket(sent[i]!, 0.05)).toBe(true);
    const reply = readAcks(b.takePackets(0.06)[0]!);
    expect(reply.hasAck).toBe(true);
    expect(reply.ack).toBe((65_520 + 29) & 0xffff); // 13, past the wrap
    let expected = 0;
    for (const i of chosen) if (i !== 29) expected |= 1 << (29 - i - 1);
    expect(reply.bits).toBe(expected >>> 0);
  });

  test('a burst wider than the bitfield is acked completely by extra ack-only packets', () => {
    const a = new PeerLink(OPTIONS);
    const b = new PeerLink(OPTIONS);
    const sent = Array.from({ length: 100 }, (_, i) => onePacket(a, 0));
    const random = seededRandom(3);
    const delivered = sent.filter(() => random() < 0.7);
    for (const p of delivered) b.receivePacket(p, 0.05);
    const replies = b.takePackets(0.06);
    expect(replies.length).toBeGreaterThan(1);
    expect(replies.every((p) => p.length === HEADER_BYTES)).toBe(true);
    for (const reply of replies) a.receivePacket(reply, 0.1);
    expect(a.stats.packetsAcked).toBe(delivered.length);
    // Everything was reported once: no more ack-only packets.
    expect(b.takePackets(0.07)).toEqual([]);
  });

  test('acks flow without data, once per change, and never answer an ack-only packet', () => {
    const a = new PeerLink({ channels: [{ kind: 'reliable-ordered' }] });
    const b = new PeerLink({ channels: [{ kind: 'reliable-ordered' }] });
    a.send(0, Uint8Array.of(42));
    for (const p of a.takePackets(0)) b.receivePacket(p, 0.05);
    expect(b.drain(0)).toEqual([Uint8Array.of(42)]);
    const acks = b.takePackets(0.06);
    expect(acks.length).toBe(1);
    expect(acks[0]!.length).toBe(HEADER_BYTES); // header only
    expect(b.takePackets(0.07)).toEqual([]); // nothing changed: nothing sent
    a.receivePacket(acks[0]!, 0.1);
    expect(a.unacked(0)).toBe(0);
    // 0.1 s there and back, less the 10 ms b says it held the ack (header ack delay).
    expect(a.stats.rttSeconds).toBeCloseTo(0.09, 5);
    expect(a.takePackets(0.11)).toEqual([]); // an ack-only packet asks for nothing back
    expect(a.takePackets(5)).toEqual([]); // and nothing is resent once acked
  });

  test('an unacked reliable message is resent on the RTT timer, and a late resend is acked again', () => {
    const a = new PeerLink({ channels: [{ kind: 'reliable-ordered' }], initialRttSeconds: 0.2 });
    const b = new PeerLink({ channels: [{ kind: 'reliable-ordered' }] });
    a.send(0, Uint8Array.of(1));
    expect(a.resendDelaySeconds).toBeCloseTo(0.3, 5);
    const first = a.takePackets(0);
    expect(a.takePackets(0.29)).toEqual([]);
    const resent = a.takePackets(0.31);
    expect(resent.length).toBe(1);
    expect(a.stats.resends).toBe(1);
    b.receivePacket(first[0]!, 0.35);
    b.takePackets(0.35); // this ack is lost
    b.receivePacket(resent[0]!, 0.4); // a duplicate message, but the packet is new: ack it again
    const ack = b.takePackets(0.4);
    expect(ack.length).toBe(1);
    a.receivePacket(ack[0]!, 0.45);
    expect(a.unacked(0)).toBe(0);
    expect(b.drain(0)).toEqual([Uint8Array.of(1)]);
  });
});
