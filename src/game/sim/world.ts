/**
 * The arena: server-authoritative and deterministic for a seed. `step` advances exactly one 30 Hz tick; there
 * is no clock. Every quantity is an integer and every loop runs in a fixed order (ships by slot, rocks and
 * bullets in creation order), so two worlds with the same seed, joins and inputs stay identical.
 */
import type { Difficulty } from '../lobby.ts';
import { BULLET_ID_SPACE, BULLET_LIFE_TICKS, BULLET_SPEED, BULLETS_PER_SHIP, type Bullet } from './bullet.ts';
import { circlesOverlap, sweptPointHits } from './collide.ts';
import { type Controls, NO_CONTROLS } from './controls.ts';
import { DIFFICULTY_SETTINGS, type DifficultySettings } from './difficulty.ts';
import { StateHash } from './hash.ts';
import { IdPool } from './ids.ts';
import { Random } from './random.ts';
import { type Rock, ROCK_ID_SPACE, RockSize, rockKind, rockVelocity, smallerThan } from './rock.ts';
import { SHIELD_TICKS, Ship, SHIP_FINE, SHIP_RADIUS, ShipStatus, FIRE_COOLDOWN_TICKS } from './ship.ts';
import { divToZero, FIELD_HEIGHT, FIELD_WIDTH, integerSqrt, SUBUNITS, wrappedDistanceSquared, wrapX, wrapY } from './space.ts';
import { ANGLE_STEPS, polar } from './trig.ts';
import { Phase, type WorldView } from './view.ts';

export const TICKS_PER_SECOND = 30;
export const MAX_SHIPS = 8;
/** Above any difficulty's rockMass + 3 (see difficulty.ts); splits beyond it lose children rather than overflow. */
export const MAX_ROCKS = 64;
export const MAX_BULLETS = MAX_SHIPS * BULLETS_PER_SHIP;

/** New rocks keep this far from ships in play, and respawning ships look for at least this much room. */
const SAFE_DISTANCE = 220 * SUBUNITS;
const PLACEMENT_TRIES = 12;
const HOME_RING = 260 * SUBUNITS;

export interface WorldOptions {
  seed: number;
  difficulty: Difficulty;
  /** Ticks before play starts (nothing moves); 0 to start at once. */
  countdownTicks: number;
  roundTicks: number;
}

export interface ScoreEntry {
  slot: number;
  name: string;
  score: number;
}

export type JoinRefusal = 'bad-slot' | 'slot-taken';

export class World {
  readonly settings: DifficultySettings;
  private readonly random: Random;
  private readonly ships: (Ship | undefined)[] = new Array<Ship | undefined>(MAX_SHIPS).fill(undefined);
  private rocks: Rock[] = [];
  private bullets: Bullet[] = [];
  private tickValue = 0;
  private phaseValue: Phase;
  private readonly rockIds = new IdPool(ROCK_ID_SPACE);
  private readonly bulletIds = new IdPool(BULLET_ID_SPACE);
  private readonly countdownEnd: number;
  private readonly roundEnd: number;

  constructor(readonly options: WorldOptions) {
    this.settings = DIFFICULTY_SETTINGS[options.difficulty];
    this.random = new Random(options.seed);
    this.countdownEnd = Math.max(0, options.countdownTicks);
    this.roundEnd = this.countdownEnd + Math.max(0, options.roundTicks);
    this.phaseValue = this.countdownEnd > 0 ? Phase.countdown : Phase.playing;
    for (let mass = 0; mass < this.settings.rockMass; mass += rockKind(RockSize.large).mass) this.spawnRock();
  }

  get tick(): number {
    return this.tickValue;
  }

  get phase(): Phase {
    return this.phaseValue;
  }

  /** The round clock: ticks until the current phase (countdown or round) ends. */
  get ticksLeft(): number {
    return Math.max(0, this.phaseEnd - this.tickValue);
  }

  get isOver(): boolean {
    return this.phaseValue === Phase.over;
  }

  private get phaseEnd(): number {
    return this.phaseValue === Phase.countdown ? this.countdownEnd : this.roundEnd;
  }

  join(slot: number, name: string): JoinRefusal | undefined {
    if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SHIPS) return 'bad-slot';
    if (this.ships[slot]) return 'slot-taken';
    const ship = new Ship(slot, name);
    this.ships[slot] = ship;
    if (this.phaseValue === Phase.countdown) this.placeAtHome(ship);
    else this.respawn(ship);
    return undefined;
  }

  /** The player's ship and bullets go (a bullet left behind would score for whoever takes the slot next). */
  leave(slot: number): void {
    if (!this.ships[slot]) return;
    this.ships[slot] = undefined;
    this.bullets = this.bullets.filter((b) => b.owner !== slot);
  }

  /** Present players in slot order. */
  scores(): ScoreEntry[] {
    return this.presentShips().map((s) => ({ slot: s.slot, name: s.name, score: s.score }));
  }

  /** Advances one tick. `inputs[slot]` is that player's controls this tick; missing means none. */
  step(inputs: readonly (Controls | undefined)[]): void {
    this.tickValue++;
    if (this.phaseValue === Phase.countdown) {
      if (this.tickValue >= this.countdownEnd) this.phaseValue = Phase.playing;
      return;
    }
    if (this.phaseValue === Phase.over) return;

    const ships = this.presentShips();
    for (const ship of ships) if (ship.inPlay) ship.fly(inputs[ship.slot] ?? NO_CONTROLS);
    this.moveRocks();
    this.moveBullets();
    this.shootRocks();
    this.crashShips(ships);
    for (const ship of ships) if (ship.wantsToFire(inputs[ship.slot] ?? NO_CONTROLS)) this.fire(ship);
    for (const ship of ships) this.updateStatus(ship);
    this.keepFieldBusy();
    if (this.tickValue >= this.roundEnd) this.phaseValue = Phase.over;
  }

  view(): WorldView {
    return {
      tick: this.tickValue,
      phase: this.phaseValue,
      phaseEnd: this.phaseEnd,
      ships: this.presentShips().map((s) => ({
        slot: s.slot,
        x: s.gridX,
        y: s.gridY,
        vx: divToZero(s.vx, SHIP_FINE),
        vy: divToZero(s.vy, SHIP_FINE),
        angle: s.angle,
        thrusting: s.thrusting && s.inPlay,
        status: s.status,
        statusEnd: s.statusEnd,
        score: s.score,
      })),
      rocks: this.rocks.map((r) => ({ id: r.id, size: r.size, x: r.x, y: r.y, vx: r.vx, vy: r.vy })).sort((a, b) => a.id - b.id),
      bullets: this.bullets.map((b) => ({ ...b })).sort((a, b) => a.id - b.id),
    };
  }

  /** A fingerprint of the whole state, PRNG included: equal hashes after N ticks mean equal worlds. */
  hash(): number {
    const h = new StateHash().add(this.tickValue).add(this.phaseValue).add(this.random.state).add(this.rockIds.cursor).add(this.bulletIds.cursor);
    for (const s of this.presentShips()) {
      h.add(s.slot).addString(s.name).add(s.x).add(s.y).add(s.vx).add(s.vy).add(s.angle);
      h.add(s.status).add(s.statusEnd).add(s.score).add(s.cooldown).add(s.thrusting ? 1 : 0);
    }
    for (const r of this.rocks) h.add(r.id).add(r.size).add(r.x).add(r.y).add(r.vx).add(r.vy);
    for (const b of this.bullets) h.add(b.id).add(b.owner).add(b.x).add(b.y).add(b.vx).add(b.vy).add(b.life);
    return h.value;
  }

  /** Total rock mass in small rocks (see difficulty.ts). */
  rockMass(): number {
    return this.rocks.reduce((sum, r) => sum + rockKind(r.size).mass, 0);
  }

  private presentShips(): Ship[] {
    return this.ships.filter((s): s is Ship => s !== undefined);
  }

  private moveRocks(): void {
    for (const r of this.rocks) {
      r.x = wrapX(r.x + r.vx);
      r.y = wrapY(r.y + r.vy);
    }
  }

  private moveBullets(): void {
    for (const b of this.bullets) {
      b.x = wrapX(b.x + b.vx);
      b.y = wrapY(b.y + b.vy);
      b.life--;
    }
    this.bullets = this.bullets.filter((b) => b.life > 0);
  }

  private shootRocks(): void {
    const spent = new Set<Bullet>();
    for (const b of this.bullets) {
      const rock = this.rocks.find((r) => sweptPointHits(b.x, b.y, b.vx, b.vy, r.x, r.y, rockKind(r.size).radius));
      if (!rock) continue;
      spent.add(b);
      const shooter = this.ships[b.owner];
      if (shooter) shooter.score += rockKind(rock.size).score;
      this.split(rock);
    }
    if (spent.size > 0) this.bullets = this.bullets.filter((b) => !spent.has(b));
  }

  private crashShips(ships: Ship[]): void {
    for (const ship of ships) {
      if (!ship.canCollide) continue;
      const rock = this.rocks.find((r) => circlesOverlap(ship.gridX, ship.gridY, SHIP_RADIUS, r.x, r.y, rockKind(r.size).radius));
      if (!rock) continue;
      ship.status = ShipStatus.out;
      ship.statusEnd = this.tickValue + this.settings.respawnTicks;
      ship.thrusting = false;
      this.split(rock);
    }
  }

  /** A rock breaks into two of the next size down at its place, or vanishes if it was small. */
  private split(rock: Rock): void {
    this.rocks = this.rocks.filter((r) => r !== rock);
    const child = smallerThan(rock.size);
    if (child === undefined) return;
    for (let i = 0; i < 2 && this.rocks.length < MAX_ROCKS; i++) this.addRock(child, rock.x, rock.y);
  }

  private fire(ship: Ship): void {
    let live = 0;
    for (const b of this.bullets) if (b.owner === ship.slot) live++;
    if (live >= BULLETS_PER_SHIP) return;
    ship.cooldown = FIRE_COOLDOWN_TICKS;
    const nose = polar(ship.angle, SHIP_RADIUS);
    const kick = polar(ship.angle, BULLET_SPEED);
    this.bullets.push({
      id: this.bulletIds.take(this.bullets),
      owner: ship.slot,
      x: wrapX(ship.gridX + nose.x),
      y: wrapY(ship.gridY + nose.y),
      vx: divToZero(ship.vx, SHIP_FINE) + kick.x,
      vy: divToZero(ship.vy, SHIP_FINE) + kick.y,
      life: BULLET_LIFE_TICKS,
    });
  }

  private updateStatus(ship: Ship): void {
    if (ship.status === ShipStatus.alive || this.tickValue < ship.statusEnd) return;
    if (ship.status === ShipStatus.shielded) {
      ship.status = ShipStatus.alive;
      ship.statusEnd = 0;
    } else {
      this.respawn(ship);
    }
  }

  /** Back in play, shielded, at the roomiest of a few random places. */
  private respawn(ship: Ship): void {
    const spot = this.roomiestSpot(this.rocks.map((r) => ({ x: r.x, y: r.y, r: rockKind(r.size).radius })));
    ship.placeAt(spot.x, spot.y, this.random.below(ANGLE_STEPS));
    ship.status = ShipStatus.shielded;
    ship.statusEnd = this.tickValue + SHIELD_TICKS;
    ship.cooldown = 0;
  }

  /** Before play, ships wait on a ring round the centre, nose outwards. */
  private placeAtHome(ship: Ship): void {
    const angle = (ship.slot * ANGLE_STEPS) / MAX_SHIPS;
    const offset = polar(angle, HOME_RING);
    ship.placeAt(FIELD_WIDTH / 2 + offset.x, FIELD_HEIGHT / 2 + offset.y, angle);
  }

  /** A large rock every spawnEveryTicks while the field is under its mass, four times as often when under half. */
  private keepFieldBusy(): void {
    const mass = this.rockMass();
    if (mass >= this.settings.rockMass || this.rocks.length >= MAX_ROCKS) return;
    const every = mass * 2 < this.settings.rockMass ? Math.max(1, this.settings.spawnEveryTicks >> 2) : this.settings.spawnEveryTicks;
    if ((this.tickValue - this.countdownEnd) % every === 0) this.spawnRock();
  }

  /** A large rock away from the ships (and from the home ring while they wait there). */
  private spawnRock(): void {
    const keepClear = this.presentShips()
      .filter((s) => s.inPlay)
      .map((s) => ({ x: s.gridX, y: s.gridY, r: SHIP_RADIUS }));
    if (this.phaseValue === Phase.countdown) keepClear.push({ x: FIELD_WIDTH / 2, y: FIELD_HEIGHT / 2, r: HOME_RING });
    const spot = this.roomiestSpot(keepClear);
    this.addRock(RockSize.large, spot.x, spot.y);
  }

  private addRock(size: RockSize, x: number, y: number): void {
    const { vx, vy } = rockVelocity(size, this.settings, this.random);
    this.rocks.push({ id: this.rockIds.take(this.rocks), size, x, y, vx, vy });
  }

  /** Of a few random places, the first with SAFE_DISTANCE of room, else the one with the most. */
  private roomiestSpot(obstacles: readonly { x: number; y: number; r: number }[]): { x: number; y: number } {
    let best = { x: 0, y: 0 };
    let bestRoom = -Infinity;
    for (let i = 0; i < PLACEMENT_TRIES; i++) {
      const x = this.random.below(FIELD_WIDTH);
      const y = this.random.below(FIELD_HEIGHT);
      let room = Infinity;
      for (const o of obstacles) room = Math.min(room, integerSqrt(wrappedDistanceSquared(x, y, o.x, o.y)) - o.r);
      if (room > bestRoom) {
        best = { x, y };
        bestRoom = room;
      }
      if (room >= SAFE_DISTANCE) break;
    }
    return best;
  }
}
