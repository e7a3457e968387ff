import { describe, expect, test } from 'bun:test';
import { botControls } from '../../src/game/bot-brain.ts';
import { decodeSnapshot, encodeSnapshot, readSnapshotHeader, SNAPSHOT_MAX_BYTES } from '../../src/game/codec/snapshot.ts';
import { SNAPSHOT_RING, SnapshotHistory, SnapshotReceiver, SnapshotSender } from '../../src/game/codec/snapshot-stream.ts';
import { BULLET_LIFE_TICKS } from '../../src/game/sim/bullet.ts';
import { FIELD_HEIGHT, FIELD_WIDTH } from '../../src/game/sim/space.ts';
import { Phase, type WorldView } from '../../src/game/sim/view.ts';
import { MAX_BULLETS, MAX_ROCKS, World } from '../../src/game/sim/world.ts';
import { seededRandom } from '../support/prng.ts';

/** An 8-bot hard game; `onSnapshot` sees every 20 Hz view (2 of every 3 ticks). */
function playBots(seconds: number, onSnapshot: (view: WorldView) => void, seed = 5): World {
  const world = new World({ seed, difficulty: 'hard', countdownTicks: 30, roundTicks: seconds * 30 });
  for (let slot = 0; slot < 8; slot++) world.join(slot, `bot${slot}`);
  while (!world.isOver) {
    const view = world.view();
    world.step(view.ships.map((s) => botControls(view, s.slot)));
    if ((world.tick * 2) % 3 < 2) onSnapshot(world.view());
  }
  return world;
}

/** The biggest state the world allows: every ship, rock and bullet, at the edges of every field's range. */
function worstView(tick: number, idOffset: number): WorldView {
  return {
    tick,
    phase: Phase.playing,
    phaseEnd: tick + 100_000,
    ships: Array.from({ length: 8 }, (_, slot) => ({
      slot,
      x: FIELD_WIDTH - 1 - slot - idOffset,
      y: FIELD_HEIGHT - 1 - idOffset,
      vx: slot % 2 ? 250 : -250,
      vy: -250 + idOffset,
      angle: 1023 - idOffset,
      thrusting: true,
      status: 2,
      statusEnd: tick + 100_000 + idOffset,
      score: 2 ** 31 - 2 - idOffset,
    })),
    rocks: Array.from({ length: MAX_ROCKS }, (_, i) => ({ id: idOffset + i, size: 0, x: FIELD_WIDTH - 1 - i, y: FIELD_HEIGHT - 1, vx: -127, vy: 127 })),
    bullets: Array.from({ length: MAX_BULLETS }, (_, i) => ({ id: idOffset + i, owner: i % 8, x: FIELD_WIDTH - 1, y: FIELD_HEIGHT - 1 - i, vx: -511, vy: 511, life: BULLET_LIFE_TICKS })),
  };
}

describe('snapshot codec', () => {
  test('full snapshots round-trip exactly, every tick of a bot game', () => {
    let largest = 0;
    playBots(20, (view) => {
      const bytes = encodeSnapshot(view);
      largest = Math.max(largest, bytes.length);
      expect(decodeSnapshot(bytes, () => undefined)).toEqual({ ok: true, view, baselineTick: undefined });
    });
    expect(largest).toBeLessThan(SNAPSHOT_MAX_BYTES);
  });

  test('deltas round-trip against any earlier view, and are far smaller than full snapshots', () => {
    const views: WorldView[] = [];
    let full = 0;
    let delta = 0;
    playBots(20, (view) => {
      for (const back of [1, 2, 5, 20]) {
        const baseline = views[views.length - back];
        if (!baseline) continue;
        const bytes = encodeSnapshot(view, baseline);
        const decoded = decodeSnapshot(bytes, (tick) => (tick === baseline.tick ? baseline : undefined));
        expect(decoded).toEqual({ ok: true, view, baselineTick: baseline.tick });
        if (back === 2) {
          delta += bytes.length;
          full += encodeSnapshot(view).length;
        }
      }
      views.push(view);
    });
    expect(delta * 4).toBeLessThan(full);
  });

  test('a quiet field costs a few bytes: drifting rocks are extrapolated, not resent', () => {
    const world = new World({ seed: 3, difficulty: 'hard', countdownTicks: 0, roundTicks: 1000 });
    const first = world.view();
    for (let t = 0; t < 10; t++) world.step([]);
    const later = world.view();
    expect(later.rocks).not.toEqual(first.rocks);
    const bytes = encodeSnapshot(later, first);
    expect(bytes.length).toBeLessThanOrEqual(4);
    expect(decodeSnapshot(bytes, () => first)).toEqual({ ok: true, view: later, baselineTick: first.tick });
  });

  test('the worst case the world allows fits one payload, in full and as a delta that replaces everything', () => {
    const before = worstView(1000, 0);
    const after = worstView(1001, 100);
    const full = encodeSnapshot(after);
    const delta = encodeSnapshot(after, before);
    expect(full.length).toBeLessThanOrEqual(SNAPSHOT_MAX_BYTES);
    expect(delta.length).toBeLessThanOrEqual(SNAPSHOT_MAX_BYTES);
    expect(decodeSnapshot(full, () => undefined)).toEqual({ ok: true, view: after, baselineTick: undefined });
    const decoded = decodeSnapshot(delta, (tick) => (tick === before.tick ? before : undefined));
    expect(decoded.ok && decoded.view).toEqual(after);
  });

  test('a delta applies only to the baseline it names', () => {
    const world = new World({ seed: 3, difficulty: 'normal', countdownTicks: 0, roundTicks: 1000 });
    world.join(0, 'a');
    const a = world.view();
    world.step([1]);
    const b = world.view();
    world.step([1]);
    const c = world.view();
    const bytes = encodeSnapshot(c, a);
    expect(readSnapshotHeader(bytes)).toEqual({ tick: c.tick, baselineTick: a.tick });
    expect(decodeSnapshot(bytes, () => undefined)).toEqual({ ok: false, error: 'unknown-baseline' });
    expect(decodeSnapshot(bytes, () => b)).toEqual({ ok: false, error: 'unknown-baseline' });
    expect(decodeSnapshot(bytes, (t) => (t === a.tick ? a : undefined))).toEqual({ ok: true, view: c, baselineTick: a.tick });
  });
});

describe('snapshot streams: per-client baselines under loss', () => {
  test('with 20% loss and acks arriving late, every snapshot a client decodes is the server view', () => {
    const history = new SnapshotHistory();
    const random = seededRandom(99);
    const clients = Array.from({ length: 8 }, () => ({ sender: new SnapshotSender(history), receiver: new SnapshotReceiver(), acks: [] as number[] }));
    let decodedCount = 0;
    let deltas = 0;
    playBots(30, (view) => {
      history.record(view);
      for (const client of clients) {
        // Acks travel back in input packets: each reaches the server three snapshots later, or is lost.
        const ack = client.acks.shift();
        if (ack !== undefined && random() > 0.2) client.sender.acknowledge(ack);
        const bytes = client.sender.encode(view);
        expect(bytes.length).toBeLessThanOrEqual(SNAPSHOT_MAX_BYTES);
        if (random() < 0.2) {
          client.acks.push(client.receiver.ackTick ?? -1);
          continue;
        }
        const result = client.receiver.receive(bytes);
        if (!result.ok) throw new Error(result.error);
        expect(result.view).toEqual(view);
        if (result.baselineTick !== undefined) deltas++;
        decodedCount++;
        client.acks.push(client.receiver.ackTick ?? -1);
      }
    });
    expect(decodedCount).toBeGreaterThan(1000);
    expect(deltas).toBeGreaterThan(decodedCount * 0.9);
  });

  test('acks for ticks never sent or older than the newest are ignored; a stale ack means a full snapshot', () => {
    const history = new SnapshotHistory();
    const sender = new SnapshotSender(history);
    const world = new World({ seed: 1, difficulty: 'easy', countdownTicks: 0, roundTicks: 1000 });
    const views: WorldView[] = [];
    for (let t = 0; t < SNAPSHOT_RING + 5; t++) {
      world.step([]);
      views.push(world.view());
      history.record(world.view());
    }
    sender.acknowledge(10_000);
    sender.acknowledge(-3);
    sender.acknowledge(1.5);
    expect(sender.ackedTick).toBeUndefined();
    sender.acknowledge(3); // evicted from the ring by now
    expect(sender.ackedTick).toBeUndefined();
    const latest = views[views.length - 1]!;
    sender.acknowledge(latest.tick - 2);
    sender.acknowledge(latest.tick - 5);
    expect(sender.ackedTick).toBe(latest.tick - 2);
    expect(readSnapshotHeader(sender.encode(latest))?.baselineTick).toBe(latest.tick - 2);

    for (let t = 0; t < SNAPSHOT_RING; t++) {
      world.step([]);
      history.record(world.view());
    }
    expect(readSnapshotHeader(sender.encode(world.view()))?.baselineTick).toBeUndefined();
  });

  test('a receiver with no baseline refuses deltas until a full snapshot arrives', () => {
    const history = new SnapshotHistory();
    const sender = new SnapshotSender(history);
    const receiver = new SnapshotReceiver();
    const world = new World({ seed: 1, difficulty: 'easy', countdownTicks: 0, roundTicks: 1000 });
    world.step([]);
    history.record(world.view());
    sender.acknowledge(world.tick);
    world.step([]);
    history.record(world.view());
    expect(receiver.receive(sender.encode(world.view()))).toEqual({ ok: false, error: 'unknown-baseline' });
    expect(receiver.ackTick).toBeUndefined();
    const full = encodeSnapshot(world.view());
    expect(receiver.receive(full).ok).toBe(true);
    expect(receiver.latest).toEqual(world.view());
  });
});
