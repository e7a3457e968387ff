import { describe, expect, test } from 'bun:test';
import { botControls } from '../../src/game/bot-brain.ts';
import { decodeInput } from '../../src/game/codec/input.ts';
import { decodeSnapshot, encodeSnapshot, type SnapshotDecode } from '../../src/game/codec/snapshot.ts';
import { SnapshotReceiver } from '../../src/game/codec/snapshot-stream.ts';
import { FIELD_HEIGHT, FIELD_WIDTH } from '../../src/game/sim/space.ts';
import type { WorldView } from '../../src/game/sim/view.ts';
import { MAX_BULLETS, MAX_ROCKS, MAX_SHIPS, World } from '../../src/game/sim/world.ts';
import { randomBytes, seededRandom } from '../support/prng.ts';

/** A stretch of hard play with eight bots, as [baseline, view] pairs a few snapshots apart. */
function samplePairs(): [WorldView, WorldView][] {
  const world = new World({ seed: 21, difficulty: 'hard', countdownTicks: 0, roundTicks: 900 });
  for (let slot = 0; slot < 8; slot++) world.join(slot, `b${slot}`);
  const views: WorldView[] = [];
  while (!world.isOver) {
    const view = world.view();
    world.step(view.ships.map((s) => botControls(view, s.slot)));
    views.push(world.view());
  }
  return views.slice(5).map((v, i) => [views[i]!, v]);
}

/** Whatever a decoder accepts must still be a world the client can draw without checks of its own. */
function expectSane(result: SnapshotDecode): void {
  if (!result.ok) return;
  const { view } = result;
  expect(view.ships.length).toBeLessThanOrEqual(MAX_SHIPS);
  expect(view.rocks.length).toBeLessThanOrEqual(MAX_ROCKS);
  expect(view.bullets.length).toBeLessThanOrEqual(MAX_BULLETS);
  for (const e of [...view.ships, ...view.rocks, ...view.bullets]) {
    expect(e.x >= 0 && e.x < FIELD_WIDTH && e.y >= 0 && e.y < FIELD_HEIGHT).toBe(true);
    expect(Number.isInteger(e.vx) && Number.isInteger(e.vy)).toBe(true);
  }
}

describe('decoders reject garbage without throwing', () => {
  test('random bytes: snapshots and inputs', () => {
    const random = seededRandom(2024);
    const baseline = encodeSnapshot(samplePairs()[0]![0]);
    const receiver = new SnapshotReceiver();
    expect(receiver.receive(baseline).ok).toBe(true);
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      const bytes = randomBytes(random, 1 + ((random() * 1300) | 0) * (i % 4 === 0 ? 1 : 0) + ((random() * 40) | 0));
      const result = receiver.receive(bytes);
      expectSane(result);
      if (result.ok) accepted++;
      expect(() => decodeInput(bytes)).not.toThrow();
    }
    // A random buffer almost never is a snapshot: the version, counts and trailing-bytes checks see to that.
    expect(accepted).toBeLessThan(300);
  });

  test('mutated valid snapshots: bit flips, truncation, extension, splices', () => {
    const random = seededRandom(7);
    const pairs = samplePairs();
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const [baseline, view] = pairs[(random() * pairs.length) | 0]!;
      const original = i % 3 === 0 ? encodeSnapshot(view) : encodeSnapshot(view, baseline);
      let bytes = original.slice();
      switch (i % 4) {
        case 0:
          for (let f = 0; f < 1 + random() * 4; f++) bytes[(random() * bytes.length) | 0]! ^= 1 << ((random() * 8) | 0);
          break;
        case 1:
          bytes = bytes.slice(0, (random() * bytes.length) | 0);
          break;
        case 2:
          bytes = Uint8Array.of(...bytes, ...randomBytes(random, 1 + ((random() * 8) | 0)));
          break;
        default: {
          const at = (random() * bytes.length) | 0;
          bytes.set(randomBytes(random, Math.min(4, bytes.length - at)), at);
        }
      }
      const result = decodeSnapshot(bytes, (tick) => (tick === baseline.tick ? baseline : undefined));
      expectSane(result);
      if (!result.ok) rejected++;
    }
    expect(rejected).toBeGreaterThan(10_000);
  });

  test('hostile counts and lengths are bounded: a decode of a huge buffer is quick', () => {
    const huge = new Uint8Array(1 << 20).fill(0xff);
    const zeros = new Uint8Array(1 << 20);
    zeros[0] = 0x10;
    const started = performance.now();
    expect(decodeSnapshot(huge, () => undefined).ok).toBe(false);
    expect(decodeSnapshot(zeros, () => undefined).ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
