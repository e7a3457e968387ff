/**
 * The page's snapshot feed without a browser: it decodes the server's deltas against what it acknowledged, draws
 * ships between the two snapshots around the drawn moment, and carries rocks forward exactly.
 */
import { describe, expect, test } from 'bun:test';
import { ArenaFeed } from '../../client/arena-feed.ts';
import { decodeInput } from '../../src/game/codec/input.ts';
import { SnapshotHistory, SnapshotSender } from '../../src/game/codec/snapshot-stream.ts';
import { THRUST } from '../../src/game/sim/controls.ts';
import { World, TICKS_PER_SECOND } from '../../src/game/sim/world.ts';

function playedWorld() {
  const world = new World({ seed: 7, difficulty: 'hard', countdownTicks: 0, roundTicks: 30 * TICKS_PER_SECOND });
  world.join(0, 'Ada');
  world.join(1, 'Bob');
  return world;
}

function decodeAck(bytes: Uint8Array): number {
  const packet = decodeInput(bytes);
  if (typeof packet === 'string' || packet.ackSnapshotTick === undefined) throw new Error(`no ack: ${String(packet)}`);
  return packet.ackSnapshotTick;
}

describe('ArenaFeed', () => {
  test('is inactive and draws nothing before the first snapshot', () => {
    const feed = new ArenaFeed();
    expect(feed.active).toBe(false);
    expect(feed.frame(1)).toBeUndefined();
  });

  test('decodes deltas against its acks and interpolates between snapshots', () => {
    const world = playedWorld();
    const history = new SnapshotHistory();
    const sender = new SnapshotSender(history);
    const feed = new ArenaFeed();
    const arrivals: { tick: number; at: number }[] = [];
    // 20 Hz snapshots of a 30 Hz world, arriving on time; the client acks each one.
    for (let step = 1; step <= 60; step++) {
      world.step([THRUST, 0]);
      if (step % 3 === 0 || step % 3 === 2) {
        const view = world.view();
        history.record(view);
        const at = view.tick / TICKS_PER_SECOND + 0.05;
        feed.receive(sender.encode(view), at);
        arrivals.push({ tick: view.tick, at });
        // The ack rides in the next input packet.
        sender.acknowledge(decodeAck(feed.input(0)));
      }
    }
    expect(feed.active).toBe(true);
    expect(feed.invalid).toBe(0);
    expect(sender.ackedTick).toBe(world.view().tick);

    const last = arrivals.at(-1)!;
    const frame = feed.frame(last.at)!;
    // Drawn a little in the past, between two snapshots it holds.
    expect(frame.tick).toBeLessThan(last.tick);
    expect(frame.tick).toBeGreaterThan(last.tick - 6);
    expect(frame.ships.map((s) => s.slot)).toEqual([0, 1]);
    expect(frame.secondsLeft).toBeGreaterThan(0);
    // Rocks are carried forward exactly from the snapshot the frame starts at.
    expect(frame.rocks.length).toBe(world.view().rocks.length);

    // Two moments between the same snapshots show a moving ship at different places.
    const a = feed.frame(last.at - 0.02)!.ships[0]!;
    const b = feed.frame(last.at)!.ships[0]!;
    expect(a.x !== b.x || a.y !== b.y).toBe(true);
  });

  test('counts garbage instead of throwing', () => {
    const feed = new ArenaFeed();
    feed.receive(new Uint8Array([0xff, 0x00, 0x13]), 0);
    expect(feed.invalid).toBe(1);
    expect(feed.active).toBe(false);
  });
});
