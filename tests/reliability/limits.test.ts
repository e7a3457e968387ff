import { describe, expect, test } from 'bun:test';
import {
  InvalidConfigError,
  MessageTooLargeError,
  PeerLink,
  ReliabilityError,
  SendQueueFullError,
  UnknownChannelError,
} from '../../src/protocol/reliability/index.ts';
import { HARSH, SimulatedNetwork, isIntact, messageIndex, numberedMessage } from './sim.ts';

const OPTIONS = { channels: [{ kind: 'reliable-ordered' as const }, { kind: 'unreliable' as const }, { kind: 'unreliable-sequenced' as const }] };

describe('send-side caps', () => {
  test('a reliable message over 64 KiB is refused with a clear error; 64 KiB is fine', () => {
    const link = new PeerLink(OPTIONS);
    link.send(0, new Uint8Array(65_536));
    const error = (() => {
      try {
        link.send(0, new Uint8Array(65_537));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error).toBeInstanceOf(ReliabilityError);
    expect((error as MessageTooLargeError).code).toBe('message-too-large');
    expect((error as Error).message).toBe('message of 65537 bytes exceeds the 65536-byte limit of channel 0');
    expect(link.unacked(0)).toBe(1);
  });

  test('unreliable messages must fit one packet', () => {
    const link = new PeerLink(OPTIONS);
    link.send(1, new Uint8Array(1186)); // 1200 - 11 header - 3 block
    link.send(2, new Uint8Array(1184)); // 1200 - 11 header - 5 block
    expect(() => link.send(1, new Uint8Array(1187))).toThrow(MessageTooLargeError);
    expect(() => link.send(2, new Uint8Array(1185))).toThrow(MessageTooLargeError);
    const packets = link.takePackets(0);
    expect(packets.map((p) => p.length)).toEqual([1200, 1200]);
  });

  test('the send queue is bounded in messages and in bytes', () => {
    const link = new PeerLink({ channels: [{ kind: 'reliable-ordered', maxInFlightMessages: 4, maxMessageBytes: 1000, maxBufferedBytes: 2500 }] });
    for (let i = 0; i < 2; i++) link.send(0, new Uint8Array(1000));
    expect(() => link.send(0, new Uint8Array(1000))).toThrow('send queue of channel 0 is full (it may buffer at most 2500 bytes)');
    link.send(0, new Uint8Array(1));
    link.send(0, new Uint8Array(1));
    expect(() => link.send(0, new Uint8Array(1))).toThrow(new SendQueueFullError(0, 'messages', 4).message);
    expect(link.unacked(0)).toBe(4);
  });

  test('unknown channels and bad configurations are refused', () => {
    const link = new PeerLink(OPTIONS);
    expect(() => link.send(3, Uint8Array.of(1))).toThrow(UnknownChannelError);
    expect(() => link.receive(-1)).toThrow('channel -1 does not exist (this link has channels 0..2)');
    expect(() => new PeerLink({ channels: [] })).toThrow(InvalidConfigError);
    expect(() => new PeerLink({ channels: new Array(65).fill({ kind: 'unreliable' }) })).toThrow(InvalidConfigError);
    expect(() => new PeerLink({ channels: [{ kind: 'reliable-ordered', maxInFlightMessages: 1000 }] })).toThrow('power of two');
    expect(() => new PeerLink({ ...OPTIONS, sliceBytes: 1190 })).toThrow(InvalidConfigError);
    expect(() => new PeerLink({ ...OPTIONS, maxPacketBytes: 1201 })).toThrow(InvalidConfigError);
    expect(() => new PeerLink({ channels: [{ kind: 'unreliable', maxMessageBytes: 2000 }] })).toThrow(InvalidConfigError);
    expect(() => new PeerLink({ channels: [{ kind: 'reliable-ordered', maxMessageBytes: 5000, maxBufferedBytes: 4000 }] })).toThrow(InvalidConfigError);
  });

  test('unreliable messages beyond the flush budget are dropped and counted; reliable ones wait', () => {
    const link = new PeerLink({ ...OPTIONS, maxBytesPerFlush: 2400 });
    for (let i = 0; i < 10; i++) link.send(1, new Uint8Array(1000));
    expect(link.takePackets(0).length).toBe(2);
    expect(link.stats.unreliableDropped).toBe(8);
    expect(link.takePackets(0.01)).toEqual([]);
    link.send(0, new Uint8Array(10_000));
    expect(link.takePackets(1).reduce((n, p) => n + p.length, 0)).toBeLessThanOrEqual(2400);
    expect(link.takePackets(1.01).length).toBeGreaterThan(0); // the rest of the slices, next flush
  });
});

describe('robustness across seeds', () => {
  test('mixed whole and sliced reliable messages survive 40% loss and heavy reordering, 12 seeds', () => {
    const harsher = { ...HARSH, loss: 0.4, jitter: 0.1, duplicate: 0.2 };
    for (let seed = 100; seed < 112; seed++) {
      const net = SimulatedNetwork.pair(seed, harsher, { channels: [{ kind: 'reliable-ordered', maxInFlightMessages: 128 }] });
      const sizes = Array.from({ length: 150 }, (_, i) => [4, 100, 1186, 1187, 3000, 20_000][(i * 7 + seed) % 6]!);
      let next = 0;
      const got: Uint8Array[] = [];
      const done = net.runUntil(0.01, 120, () => got.length === sizes.length, () => {
        for (let m = net.b.receive(0); m; m = net.b.receive(0)) got.push(m);
        for (; next < sizes.length; next++) {
          try {
            net.a.send(0, numberedMessage(next, sizes[next]!));
          } catch (error) {
            if (error instanceof SendQueueFullError) break;
            throw error;
          }
        }
      });
      expect(done).toBe(true);
      expect(got.map(messageIndex)).toEqual([...sizes.keys()]);
      expect(got.every(isIntact)).toBe(true);
      expect(net.largestPacket).toBeLessThanOrEqual(1200);
    }
  });
});

describe('cost', () => {
  test('hundreds of messages in flight stay cheap to flush', () => {
    const link = new PeerLink({ channels: [{ kind: 'reliable-ordered' }, { kind: 'unreliable' }] });
    for (let i = 0; i < 500; i++) link.send(0, numberedMessage(i, 100));
    let packets = 0;
    const started = performance.now();
    // 10 s at 60 Hz with no acks coming back: every flush considers all 500 messages for a resend.
    for (let tick = 0; tick < 600; tick++) {
      link.send(1, new Uint8Array(200));
      packets += link.flush(tick / 60, () => {});
    }
    const elapsed = performance.now() - started;
    expect(link.unacked(0)).toBe(500);
    expect(packets).toBeGreaterThan(600);
    expect(elapsed).toBeLessThan(1000); // typically a few tens of ms
  });
});
