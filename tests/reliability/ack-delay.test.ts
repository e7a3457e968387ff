/**
 * Delayed acks (maxAckDelaySeconds) and the ack delay each header reports: an owed ack waits for a packet that
 * carries messages, goes alone only once it has waited the delay, and the measuring side takes the reported wait
 * off its round trip, within what the peer could honestly have waited.
 */
import { describe, expect, test } from 'bun:test';
import { HEADER_BYTES, PeerLink } from '../../src/protocol/reliability/index.ts';
import { packet, readAcks, reliable } from './craft.ts';

const channels = [{ kind: 'reliable-ordered' as const }, { kind: 'unreliable' as const }];
const link = (maxAckDelaySeconds?: number, initialRttSeconds?: number) =>
  new PeerLink({ channels, ...(maxAckDelaySeconds !== undefined ? { maxAckDelaySeconds } : {}), ...(initialRttSeconds !== undefined ? { initialRttSeconds } : {}) });

describe('ack delay', () => {
  test('every header says how long the newest acked packet was held, in 100 µs units', () => {
    const a = link();
    const b = link();
    a.send(0, Uint8Array.of(1));
    for (const p of a.takePackets(0)) b.receivePacket(p, 0.05);
    const [ack] = b.takePackets(0.0734);
    expect(ack?.length).toBe(HEADER_BYTES);
    expect(readAcks(ack!)).toMatchObject({ hasAck: true, ack: 0, delay: 234 });
  });

  test('with maxAckDelaySeconds an owed ack is sent alone only once it has waited that long', () => {
    const b = link(0.04);
    b.receivePacket(packet({ sequence: 0 }, reliable(0, 0, [7])), 1);
    expect(b.takePackets(1)).toEqual([]);
    expect(b.takePackets(1.039)).toEqual([]);
    const acks = b.takePackets(1.04);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.length).toBe(HEADER_BYTES);
    expect(readAcks(acks[0]!)).toMatchObject({ ack: 0, delay: 400 });
    expect(b.takePackets(1.2)).toEqual([]);
  });

  test('an owed ack rides on the next packet that carries messages, and then nothing is owed', () => {
    const b = link(0.04);
    b.receivePacket(packet({ sequence: 5 }, reliable(0, 0, [7])), 2);
    b.send(1, Uint8Array.of(9, 9));
    const [carrier, ...rest] = b.takePackets(2.012);
    expect(rest).toEqual([]);
    expect(carrier!.length).toBeGreaterThan(HEADER_BYTES);
    expect(readAcks(carrier!)).toMatchObject({ hasAck: true, ack: 5, delay: 120 });
    expect(b.takePackets(2.1)).toEqual([]);
  });

  test("the round trip measured leaves out the peer's hold: 10 ms each way, 35 ms held, RTT 20 ms", () => {
    const a = link(0.04);
    const b = link(0.04);
    a.send(0, Uint8Array.of(1));
    for (const p of a.takePackets(0)) b.receivePacket(p, 0.01);
    // b has nothing to send until 45 ms: its ack waits for that packet (the delay has not run out).
    expect(b.takePackets(0.03)).toEqual([]);
    b.send(1, Uint8Array.of(2));
    const reply = b.takePackets(0.045);
    expect(reply).toHaveLength(1);
    a.receivePacket(reply[0]!, 0.055);
    expect(a.unacked(0)).toBe(0);
    expect(a.stats.rttMeasured).toBe(true);
    expect(a.stats.rttSeconds).toBeCloseTo(0.02, 6);
  });

  test('a peer cannot talk the RTT below zero, nor subtract more than it could have waited', () => {
    for (const [delayUnits, expected] of [
      [60_000, 0.5 - (0.04 + 0.05)], // 6 s claimed: only maxAckDelay + one flush gap (90 ms) is believed
      [9_000, 0.5 - 0.09],
    ] as const) {
      const a = link(0.04);
      a.send(0, Uint8Array.of(1));
      a.takePackets(0);
      a.receivePacket(packet({ sequence: 0, ack: 0, delay: delayUnits }, reliable(0, 0, [1])), 0.5);
      expect(a.stats.rttSeconds).toBeCloseTo(expected, 6);
    }
    const quick = link(0.04);
    quick.send(0, Uint8Array.of(1));
    quick.takePackets(0);
    // Acked 5 ms after sending but "held" 60 ms: a sample of 0, never negative.
    quick.receivePacket(packet({ sequence: 0, ack: 0, delay: 600 }, reliable(0, 0, [1])), 0.005);
    expect(quick.stats.rttSeconds).toBe(0);
  });

  test("resend and loss timers wait for a held ack too: no resend before the peer's delay has run out", () => {
    const a = link(0.04, 0.001);
    expect(a.resendDelaySeconds).toBeCloseTo(0.03 + 0.04, 6);
    const b = link(0.04);
    a.send(0, Uint8Array.of(1));
    for (const p of a.takePackets(0)) b.receivePacket(p, 0.001);
    expect(a.takePackets(0.035)).toEqual([]);
    const acks = b.takePackets(0.041);
    expect(acks).toHaveLength(1);
    a.receivePacket(acks[0]!, 0.042);
    expect(a.unacked(0)).toBe(0);
    expect(a.stats.resends).toBe(0);
    expect(a.stats.packetsLost).toBe(0);
  });

  test('maxAckDelaySeconds is checked: 0 to 1 s', () => {
    expect(() => link(-0.01)).toThrow('maxAckDelaySeconds must be a number in 0..1, got -0.01');
    expect(() => link(2)).toThrow('maxAckDelaySeconds must be a number in 0..1');
    expect(() => link(Number.NaN)).toThrow('maxAckDelaySeconds');
  });
});
