import { describe, expect, test } from 'bun:test';
import type { Difficulty } from '../../src/game/lobby.ts';
import { BULLET_LIFE_TICKS } from '../../src/game/sim/bullet.ts';
import { type Controls, FIRE, THRUST, TURN_LEFT } from '../../src/game/sim/controls.ts';
import { DIFFICULTY_SETTINGS } from '../../src/game/sim/difficulty.ts';
import { Random } from '../../src/game/sim/random.ts';
import { ROCK_KINDS } from '../../src/game/sim/rock.ts';
import { SHIELD_TICKS, SHIP_RADIUS, ShipStatus } from '../../src/game/sim/ship.ts';
import { FIELD_HEIGHT, FIELD_WIDTH, wrap, wrappedDistanceSquared } from '../../src/game/sim/space.ts';
import { cosOf, sinOf, TRIG_ONE } from '../../src/game/sim/trig.ts';
import { Phase, type WorldView } from '../../src/game/sim/view.ts';
import { MAX_BULLETS, MAX_ROCKS, World, type WorldOptions } from '../../src/game/sim/world.ts';

const LONG: Omit<WorldOptions, 'seed' | 'difficulty'> = { countdownTicks: 0, roundTicks: 100_000 };

function world(seed: number, difficulty: Difficulty = 'normal', players = 8): World {
  const w = new World({ seed, difficulty, ...LONG });
  for (let slot = 0; slot < players; slot++) expect(w.join(slot, `p${slot}`)).toBeUndefined();
  return w;
}

/** Random but replayable controls for every slot. */
function randomInputs(random: Random): Controls[] {
  return Array.from({ length: 8 }, () => random.below(16));
}

function replayHash(seed: number, inputSeed: number, ticks: number): number {
  const w = world(seed, 'hard');
  const random = new Random(inputSeed);
  for (let t = 0; t < ticks; t++) w.step(randomInputs(random));
  return w.hash();
}

function runUntil(w: World, inputs: Controls[], done: (view: WorldView) => boolean, limit: number): WorldView {
  for (let t = 0; t < limit; t++) {
    w.step(inputs);
    const view = w.view();
    if (done(view)) return view;
  }
  throw new Error('condition never met');
}

describe('determinism', () => {
  test('the same seed and inputs give the same world after 3000 ticks; another seed does not', () => {
    const a = replayHash(42, 7, 3000);
    expect(replayHash(42, 7, 3000)).toBe(a);
    expect(replayHash(43, 7, 3000)).not.toBe(a);
    expect(replayHash(42, 8, 3000)).not.toBe(a);
  });

  test('two worlds stay identical tick by tick', () => {
    const a = world(5, 'hard');
    const b = world(5, 'hard');
    const random = new Random(1);
    for (let t = 0; t < 600; t++) {
      const inputs = randomInputs(random);
      a.step(inputs);
      b.step(inputs);
      expect(b.hash()).toBe(a.hash());
    }
    expect(b.view()).toEqual(a.view());
  });

  test('the trig table is exact at the quarter points and a unit circle everywhere', () => {
    expect([sinOf(0), sinOf(256), sinOf(512), sinOf(768), cosOf(0)]).toEqual([0, TRIG_ONE, 0, -TRIG_ONE, TRIG_ONE]);
    for (let a = 0; a < 1024; a++) {
      const r2 = sinOf(a) ** 2 + cosOf(a) ** 2;
      expect(Math.abs(r2 - TRIG_ONE ** 2)).toBeLessThan(2 * TRIG_ONE);
    }
  });
});

describe('difficulty', () => {
  test('harder means more rocks, faster rocks, quicker spawns and longer respawns', () => {
    const [easy, normal, hard] = (['easy', 'normal', 'hard'] as const).map((d) => DIFFICULTY_SETTINGS[d]);
    expect(easy!.rockMass).toBeLessThan(normal!.rockMass);
    expect(normal!.rockMass).toBeLessThan(hard!.rockMass);
    expect(easy!.rockSpeedMax).toBeLessThan(hard!.rockSpeedMin + 1);
    expect(easy!.spawnEveryTicks).toBeGreaterThan(hard!.spawnEveryTicks);
    expect(easy!.respawnTicks).toBeLessThan(normal!.respawnTicks);
    expect(normal!.respawnTicks).toBeLessThan(hard!.respawnTicks);
    expect(hard!.rockMass + 3).toBeLessThanOrEqual(MAX_ROCKS);
  });

  test('the worlds it makes differ in rock count and speed', () => {
    const stats = (['easy', 'normal', 'hard'] as const).map((d) => {
      const view = new World({ seed: 1, difficulty: d, ...LONG }).view();
      const speeds = view.rocks.map((r) => Math.hypot(r.vx, r.vy));
      return { count: view.rocks.length, meanSpeed: speeds.reduce((a, b) => a + b, 0) / speeds.length };
    });
    expect(stats.map((s) => s.count)).toEqual([4, 7, 11]);
    expect(stats[0]!.meanSpeed).toBeLessThan(stats[1]!.meanSpeed);
    expect(stats[1]!.meanSpeed).toBeLessThan(stats[2]!.meanSpeed);
  });

  for (const difficulty of ['easy', 'hard'] as const) {
    test(`a crashed ship is out for the ${difficulty} delay, then back shielded somewhere safe`, () => {
      const w = world(3, difficulty);
      const still = new Array<Controls>(8).fill(0);
      const isOut = (v: WorldView) => v.ships.some((s) => s.status === ShipStatus.out);
      const crash = runUntil(w, still, isOut, 20_000);
      const victim = crash.ships.find((s) => s.status === ShipStatus.out)!;
      expect(victim.statusEnd - crash.tick).toBe(DIFFICULTY_SETTINGS[difficulty].respawnTicks);
      expect(victim.thrusting).toBe(false);

      const back = runUntil(w, still, (v) => v.ships.find((s) => s.slot === victim.slot)!.status !== ShipStatus.out, 1000);
      expect(back.tick).toBe(victim.statusEnd);
      const ship = back.ships.find((s) => s.slot === victim.slot)!;
      expect(ship.status).toBe(ShipStatus.shielded);
      for (const rock of back.rocks) {
        const reach = ROCK_KINDS[rock.size as 0 | 1 | 2].radius + SHIP_RADIUS;
        expect(wrappedDistanceSquared(ship.x, ship.y, rock.x, rock.y)).toBeGreaterThan(reach * reach);
      }
      const unshielded = runUntil(w, still, (v) => v.ships.find((s) => s.slot === victim.slot)!.status !== ShipStatus.shielded, 1000);
      expect(unshielded.tick).toBe(back.tick + SHIELD_TICKS);
    });
  }
});

describe('rocks, bullets and the field', () => {
  test('shot rocks split large → 2 medium → 2 small → gone, and score by size', () => {
    const w = world(11, 'normal', 1);
    const spin: Controls[] = [FIRE | TURN_LEFT];
    let before = w.view();
    const splits = { large: 0, medium: 0, small: 0 };
    for (let t = 0; t < 3000; t++) {
      w.step(spin);
      const after = w.view();
      const gained = after.ships[0]!.score - before.ships[0]!.score;
      const gone = before.rocks.filter((r) => !after.rocks.some((a) => a.id === r.id));
      const born = after.rocks.filter((r) => !before.rocks.some((b) => b.id === r.id));
      const crashed = after.ships[0]!.status === ShipStatus.out && before.ships[0]!.status !== ShipStatus.out;
      if (gone.length === 1 && !crashed) {
        const rock = gone[0]!;
        const at = { x: wrap(rock.x + rock.vx, FIELD_WIDTH), y: wrap(rock.y + rock.vy, FIELD_HEIGHT) };
        expect(gained).toBe(ROCK_KINDS[rock.size as 0 | 1 | 2].score);
        const children = born.filter((r) => r.x === at.x && r.y === at.y);
        if (rock.size === 2) expect(children).toHaveLength(0);
        else expect(children.map((c) => c.size)).toEqual([rock.size + 1, rock.size + 1]);
        splits[(['large', 'medium', 'small'] as const)[rock.size]!]++;
      }
      before = after;
    }
    expect(splits.large).toBeGreaterThan(0);
    expect(splits.medium).toBeGreaterThan(0);
    expect(splits.small).toBeGreaterThan(0);
  });

  test('rocks drift in straight lines and wrap round both edges', () => {
    const w = world(2, 'hard', 0);
    let before = w.view();
    let wrapped = 0;
    for (let t = 0; t < 2000; t++) {
      w.step([]);
      const after = w.view();
      for (const r of after.rocks) {
        expect(r.x).toBeGreaterThanOrEqual(0);
        expect(r.x).toBeLessThan(FIELD_WIDTH);
        expect(r.y).toBeGreaterThanOrEqual(0);
        expect(r.y).toBeLessThan(FIELD_HEIGHT);
        const old = before.rocks.find((b) => b.id === r.id);
        if (!old) continue;
        expect(r.x).toBe(wrap(old.x + old.vx, FIELD_WIDTH));
        expect(r.y).toBe(wrap(old.y + old.vy, FIELD_HEIGHT));
        if (Math.abs(r.x - old.x) > FIELD_WIDTH / 2 || Math.abs(r.y - old.y) > FIELD_HEIGHT / 2) wrapped++;
      }
      before = after;
    }
    expect(wrapped).toBeGreaterThan(0);
  });

  test('a thrusting ship crosses the edge and comes back on the other side', () => {
    const w = new World({ seed: 1, difficulty: 'easy', ...LONG });
    w.join(0, 'solo');
    let crossed = false;
    let last = w.view().ships[0]!;
    for (let t = 0; t < 600 && !crossed; t++) {
      w.step([THRUST]);
      const ship = w.view().ships[0]!;
      if (ship.status === ShipStatus.out) break;
      if (Math.abs(ship.x - last.x) > FIELD_WIDTH / 2 || Math.abs(ship.y - last.y) > FIELD_HEIGHT / 2) crossed = true;
      last = ship;
    }
    expect(crossed).toBe(true);
  });

  test('bullets fly straight for their life, then vanish; a ship cannot exceed its bullets', () => {
    const w = world(9, 'easy', 1);
    w.step([FIRE]);
    const fired = w.view().bullets;
    expect(fired).toHaveLength(1);
    const bullet = fired[0]!;
    expect(bullet.life).toBe(BULLET_LIFE_TICKS);
    for (let t = 1; t < BULLET_LIFE_TICKS; t++) {
      w.step([]);
      const now = w.view().bullets.find((b) => b.id === bullet.id);
      if (!now) break; // it hit a rock
      expect(now.x).toBe(wrap(bullet.x + bullet.vx * t, FIELD_WIDTH));
      expect(now.life).toBe(BULLET_LIFE_TICKS - t);
    }
    w.step([]);
    expect(w.view().bullets).toHaveLength(0);

    const busy = world(9, 'easy', 8);
    let most = 0;
    for (let t = 0; t < 400; t++) {
      busy.step(new Array<Controls>(8).fill(FIRE));
      const view = busy.view();
      most = Math.max(most, view.bullets.length);
      for (let slot = 0; slot < 8; slot++) expect(view.bullets.filter((b) => b.owner === slot).length).toBeLessThanOrEqual(MAX_BULLETS / 8);
    }
    expect(most).toBeGreaterThan(8);
  });

  test('the spawner keeps the field busy but within its mass', () => {
    const w = world(4, 'hard', 8);
    const random = new Random(3);
    const settings = DIFFICULTY_SETTINGS.hard;
    let lowest = Infinity;
    for (let t = 0; t < 6000; t++) {
      w.step(randomInputs(random).map((c) => c | FIRE));
      expect(w.rockMass()).toBeLessThanOrEqual(settings.rockMass + 3);
      if (t > 1000) lowest = Math.min(lowest, w.rockMass());
    }
    expect(lowest).toBeGreaterThan(0);
  });
});

describe('players and the round clock', () => {
  test('join by slot, refuse taken and bad slots, leave removes the ship and its line', () => {
    const w = new World({ seed: 1, difficulty: 'normal', countdownTicks: 30, roundTicks: 60 });
    expect(w.join(3, 'ann')).toBeUndefined();
    expect(w.join(3, 'bob')).toBe('slot-taken');
    expect(w.join(8, 'cy')).toBe('bad-slot');
    expect(w.join(-1, 'cy')).toBe('bad-slot');
    expect(w.join(0, 'dee')).toBeUndefined();
    expect(w.scores()).toEqual([
      { slot: 0, name: 'dee', score: 0 },
      { slot: 3, name: 'ann', score: 0 },
    ]);
    for (let t = 0; t < 31; t++) w.step([FIRE, 0, 0, FIRE]);
    expect(w.view().bullets.some((b) => b.owner === 3)).toBe(true);
    w.leave(3);
    expect(w.view().bullets.every((b) => b.owner === 0)).toBe(true);
    expect(w.scores().map((s) => s.slot)).toEqual([0]);
    expect(w.view().ships.map((s) => s.slot)).toEqual([0]);
    expect(w.join(3, 'eve')).toBeUndefined();
  });

  test('countdown freezes the field, then the round runs its ticks and ends', () => {
    const timed = new World({ seed: 1, difficulty: 'normal', countdownTicks: 30, roundTicks: 90 });
    timed.join(0, 'a');
    const frozen = timed.view();
    expect(timed.phase).toBe(Phase.countdown);
    expect(timed.ticksLeft).toBe(30);
    for (let t = 0; t < 29; t++) timed.step([THRUST | FIRE]);
    expect(timed.view().rocks).toEqual(frozen.rocks);
    expect(timed.view().ships).toEqual(frozen.ships);
    expect(timed.ticksLeft).toBe(1);
    timed.step([]);
    expect(timed.phase).toBe(Phase.playing);
    expect(timed.ticksLeft).toBe(90);
    for (let t = 0; t < 90; t++) timed.step([]);
    expect(timed.isOver).toBe(true);
    expect(timed.ticksLeft).toBe(0);
    const final = timed.view();
    timed.step([THRUST]);
    expect({ ...timed.view(), tick: final.tick }).toEqual(final);
  });
});
