import { describe, expect, test } from 'bun:test';
import { botControls } from '../../src/game/bot-brain.ts';
import { InputBuffer, InputHistory, decodeInput } from '../../src/game/codec/input.ts';
import { SnapshotHistory, SnapshotReceiver, SnapshotSender } from '../../src/game/codec/snapshot-stream.ts';
import { FIRE, TURN_LEFT, TURN_RIGHT, THRUST } from '../../src/game/sim/controls.ts';
import { SUBUNITS } from '../../src/game/sim/space.ts';
import { Phase, type WorldView } from '../../src/game/sim/view.ts';
import { World } from '../../src/game/sim/world.ts';
import { seededRandom } from '../support/prng.ts';

function soloView(rock: { x: number; y: number; vx?: number; vy?: number }, angle: number): WorldView {
  return {
    tick: 10,
    phase: Phase.playing,
    phaseEnd: 100,
    ships: [{ slot: 0, x: 1000 * SUBUNITS, y: 500 * SUBUNITS, vx: 0, vy: 0, angle, thrusting: false, status: 0, statusEnd: 0, score: 0 }],
    rocks: [{ id: 1, size: 0, x: rock.x, y: rock.y, vx: rock.vx ?? 0, vy: rock.vy ?? 0 }],
    bullets: [],
  };
}

describe('bot brain', () => {
  test('turns toward the rock, fires when aligned, and looks the short way round the field', () => {
    const east = soloView({ x: 1200 * SUBUNITS, y: 500 * SUBUNITS }, 0);
    expect(botControls(east, 0) & FIRE).toBe(FIRE);
    expect(botControls(east, 0) & (TURN_LEFT | TURN_RIGHT)).toBe(0);
    // Straight below on screen (y down) from a ship facing +x: a right turn.
    expect(botControls(soloView({ x: 1000 * SUBUNITS, y: 800 * SUBUNITS }, 0), 0) & TURN_RIGHT).toBe(TURN_RIGHT);
    expect(botControls(soloView({ x: 1000 * SUBUNITS, y: 200 * SUBUNITS }, 0), 0) & TURN_LEFT).toBe(TURN_LEFT);
    // A rock at x=100 is 700 units away through the right edge, 900 across the field: keep facing +x.
    const wrapped = soloView({ x: 100 * SUBUNITS, y: 500 * SUBUNITS }, 0);
    expect(botControls(wrapped, 0) & FIRE).toBe(FIRE);
    // Far away and aligned: thrust.
    expect(botControls(soloView({ x: 1500 * SUBUNITS, y: 500 * SUBUNITS }, 0), 0) & THRUST).toBe(THRUST);
    expect(botControls({ ...east, phase: Phase.countdown }, 0)).toBe(0);
    expect(botControls(east, 3)).toBe(0);
  });
});

describe('a round of eight bots on hard, over lossy codecs', () => {
  test('bots see the world only through snapshots, steer through input packets, and score', () => {
    const world = new World({ seed: 8, difficulty: 'hard', countdownTicks: 90, roundTicks: 60 * 30 });
    const history = new SnapshotHistory();
    const random = seededRandom(8);
    const bots = Array.from({ length: 8 }, (_, slot) => {
      world.join(slot, `bot${slot}`);
      return { slot, sender: new SnapshotSender(history), receiver: new SnapshotReceiver(), inputs: new InputHistory(), buffer: new InputBuffer() };
    });
    while (!world.isOver) {
      // Each bot acts on the newest snapshot it decoded; 5% of its input packets are lost.
      for (const bot of bots) {
        const view = bot.receiver.latest;
        const packet = bot.inputs.next(view ? botControls(view, bot.slot) : 0, bot.receiver.ackTick);
        if (random() < 0.05) continue;
        const decoded = decodeInput(packet);
        if (typeof decoded === 'string') throw new Error(decoded);
        bot.buffer.receive(decoded);
        if (decoded.ackSnapshotTick !== undefined) bot.sender.acknowledge(decoded.ackSnapshotTick);
      }
      world.step(bots.map((b) => b.buffer.next()));
      if ((world.tick * 2) % 3 >= 2) continue;
      const view = world.view();
      history.record(view);
      for (const bot of bots) {
        const bytes = bot.sender.encode(view);
        if (random() < 0.05) continue;
        const result = bot.receiver.receive(bytes);
        expect(result.ok).toBe(true);
      }
    }
    const scores = world.scores().map((s) => s.score);
    expect(scores.filter((s) => s > 0).length).toBeGreaterThanOrEqual(6);
    expect(scores.reduce((a, b) => a + b, 0)).toBeGreaterThan(2000);
  });
});
