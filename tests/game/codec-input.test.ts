import { describe, expect, test } from 'bun:test';
import { decodeInput, encodeInput, InputBuffer, InputHistory, type InputPacket } from '../../src/game/codec/input.ts';
import { controls, FIRE, THRUST, TURN_LEFT, TURN_RIGHT } from '../../src/game/sim/controls.ts';
import { randomBytes, seededRandom } from '../support/prng.ts';

function decoded(bytes: Uint8Array): InputPacket {
  const packet = decodeInput(bytes);
  if (typeof packet === 'string') throw new Error(packet);
  return packet;
}

describe('input codec', () => {
  test('round-trips controls, ticks and the snapshot ack in a dozen bytes', () => {
    const packet: InputPacket = { newestTick: 1234, inputs: [THRUST | FIRE, TURN_LEFT, TURN_RIGHT, 0], ackSnapshotTick: 99 };
    const bytes = encodeInput(packet);
    expect(bytes.length).toBe(12);
    expect(decoded(bytes)).toEqual(packet);
    const odd: InputPacket = { newestTick: 2, inputs: [15, 0, 7], ackSnapshotTick: undefined };
    expect(decoded(encodeInput(odd))).toEqual(odd);
    expect(controls({ thrust: true, fire: true })).toBe(THRUST | FIRE);
  });

  test('rejects garbage with a reason and never throws', () => {
    const good = encodeInput({ newestTick: 10, inputs: [1, 2, 3], ackSnapshotTick: 4 });
    expect(decodeInput(good.slice(0, 5))).toBe('truncated');
    expect(decodeInput(Uint8Array.of(2, ...good.slice(1)))).toBe('bad-version');
    expect(decodeInput(Uint8Array.of(1, 9, ...good.slice(2)))).toBe('bad-count');
    expect(decodeInput(Uint8Array.of(1, 0, ...good.slice(2)))).toBe('bad-count');
    expect(decodeInput(Uint8Array.of(...good, 0))).toBe('bad-length');
    const spare = good.slice();
    spare[spare.length - 1]! |= 0x50;
    expect(decodeInput(spare)).toBe('bad-controls');
    expect(decodeInput(encodeInput({ newestTick: 1, inputs: [1, 1], ackSnapshotTick: undefined }).fill(0, 2, 6))).toBe('bad-tick');

    const random = seededRandom(17);
    for (let i = 0; i < 20_000; i++) {
      const bytes = i % 2 ? randomBytes(random, (random() * 20) | 0) : Uint8Array.of(1, 1 + ((random() * 8) | 0), ...randomBytes(random, 12));
      const result = decodeInput(bytes.slice(0, 10 + Math.ceil((bytes[1] ?? 0) / 2)));
      if (typeof result !== 'string') expect(encodeInput(result)).toEqual(bytes.slice(0, 10 + Math.ceil(result.inputs.length / 2)));
    }
  });
});

describe('input redundancy and the server buffer', () => {
  test('every tick arrives though two packets in three are lost, with the server two ticks behind', () => {
    const history = new InputHistory(4);
    const buffer = new InputBuffer();
    const sent: number[] = [];
    const got: number[] = [];
    for (let tick = 0; tick < 200; tick++) {
      const c = (tick * 7) % 16;
      sent.push(c);
      const bytes = history.next(c, undefined);
      if (tick % 3 === 2) buffer.receive(decoded(bytes));
      if (tick >= 2) got.push(buffer.next());
    }
    expect(got).toEqual(sent.slice(0, got.length));
  });

  test('duplicates and consumed ticks are ignored; the newest input per tick is the first one that came', () => {
    const buffer = new InputBuffer();
    buffer.receive({ newestTick: 1, inputs: [THRUST, FIRE], ackSnapshotTick: undefined });
    buffer.receive({ newestTick: 1, inputs: [TURN_LEFT, TURN_LEFT], ackSnapshotTick: undefined });
    expect(buffer.next()).toBe(FIRE);
    buffer.receive({ newestTick: 2, inputs: [TURN_RIGHT, THRUST, TURN_LEFT], ackSnapshotTick: undefined });
    expect(buffer.next()).toBe(THRUST);
    expect(buffer.next()).toBe(TURN_RIGHT);
    expect(buffer.waiting).toBe(0);
    buffer.receive({ newestTick: 2, inputs: [FIRE, FIRE, FIRE], ackSnapshotTick: undefined });
    expect(buffer.waiting).toBe(0);
  });

  test('holds the last controls when nothing arrived and drops the oldest when the client runs ahead', () => {
    const buffer = new InputBuffer(2);
    expect(buffer.next()).toBe(0);
    buffer.receive({ newestTick: 0, inputs: [THRUST], ackSnapshotTick: undefined });
    expect(buffer.next()).toBe(THRUST);
    expect(buffer.next()).toBe(THRUST);
    buffer.receive({ newestTick: 5, inputs: [5, 4, 3, 2, 1], ackSnapshotTick: undefined });
    expect(buffer.next()).toBe(4);
    expect(buffer.next()).toBe(5);
    buffer.receive({ newestTick: 4, inputs: [9, 9, 9, 9], ackSnapshotTick: undefined });
    expect(buffer.waiting).toBe(0);
  });

  test('a client that jumps far ahead is followed, not stalled, and the buffer stays bounded', () => {
    const buffer = new InputBuffer(4, 64);
    buffer.receive({ newestTick: 3, inputs: [1, 1, 1, 1], ackSnapshotTick: undefined });
    buffer.receive({ newestTick: 100_000, inputs: [2, 3], ackSnapshotTick: undefined });
    expect(buffer.next()).toBe(3);
    expect(buffer.next()).toBe(2);
    for (let t = 0; t < 1000; t++) buffer.receive({ newestTick: 100_001 + t * 8, inputs: [1, 1, 1, 1, 1, 1, 1, 1], ackSnapshotTick: undefined });
    expect(buffer.waiting).toBeLessThanOrEqual(64 + 8);
  });
});
