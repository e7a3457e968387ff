/**
 * A player's ship. Its motion is kept 16× finer than the wire grid so thrust at any angle stays smooth; the
 * snapshot carries the coarser grid (ships are interpolated by clients, never extrapolated exactly).
 */
import { FIRE, THRUST, TURN_LEFT, TURN_RIGHT, type Controls } from './controls.ts';
import { FIELD_HEIGHT, FIELD_WIDTH, SUBUNITS, wrap } from './space.ts';
import { polar, wrapAngle } from './trig.ts';

/** Fine steps per subunit. */
export const SHIP_FINE = 16;
export const SHIP_RADIUS = 12 * SUBUNITS;
/** Angle steps per tick (1024 to the circle): about 190°/s. */
export const TURN_PER_TICK = 18;
/** Fine units per tick²; with the drag below, top speed is about 8 units a tick (240 units/s). */
export const THRUST_PER_TICK = 64;
/** Kept inside the wire's 9-bit signed velocity, in fine units. */
export const MAX_SHIP_SPEED = 250 * SHIP_FINE;
export const FIRE_COOLDOWN_TICKS = 6;
export const SHIELD_TICKS = 60;

export const ShipStatus = { alive: 0, shielded: 1, out: 2 } as const;
export type ShipStatus = (typeof ShipStatus)[keyof typeof ShipStatus];

export class Ship {
  /** Position and velocity in fine units (SHIP_FINE per subunit). */
  x = 0;
  y = 0;
  vx = 0;
  vy = 0;
  /** 0 points along +x; a right turn increases it (y grows downwards, as on screen). */
  angle = 0;
  thrusting = false;
  status: ShipStatus = ShipStatus.alive;
  /** Tick at which a shield or a respawn wait ends; 0 when alive. */
  statusEnd = 0;
  score = 0;
  cooldown = 0;

  constructor(
    readonly slot: number,
    readonly name: string,
  ) {}

  get canCollide(): boolean {
    return this.status === ShipStatus.alive;
  }

  get inPlay(): boolean {
    return this.status !== ShipStatus.out;
  }

  /** Wire-grid position (subunits). */
  get gridX(): number {
    return Math.floor(this.x / SHIP_FINE);
  }

  get gridY(): number {
    return Math.floor(this.y / SHIP_FINE);
  }

  placeAt(gridX: number, gridY: number, angle: number): void {
    this.x = gridX * SHIP_FINE;
    this.y = gridY * SHIP_FINE;
    this.vx = 0;
    this.vy = 0;
    this.angle = wrapAngle(angle);
  }

  /** Turns, thrusts, drags and moves one tick. */
  fly(input: Controls): void {
    if (input & TURN_LEFT) this.angle = wrapAngle(this.angle - TURN_PER_TICK);
    if (input & TURN_RIGHT) this.angle = wrapAngle(this.angle + TURN_PER_TICK);
    this.thrusting = (input & THRUST) !== 0;
    if (this.thrusting) {
      const push = polar(this.angle, THRUST_PER_TICK);
      this.vx += push.x;
      this.vy += push.y;
    }
    this.vx = clamp(drag(this.vx), MAX_SHIP_SPEED);
    this.vy = clamp(drag(this.vy), MAX_SHIP_SPEED);
    this.x = wrap(this.x + this.vx, FIELD_WIDTH * SHIP_FINE);
    this.y = wrap(this.y + this.vy, FIELD_HEIGHT * SHIP_FINE);
    if (this.cooldown > 0) this.cooldown--;
  }

  wantsToFire(input: Controls): boolean {
    return (input & FIRE) !== 0 && this.cooldown === 0 && this.inPlay;
  }
}

/** About 1/32 of the speed per tick, rounded up so a coasting ship comes to a full stop. */
function drag(v: number): number {
  if (v > 0) return v - ((v + 31) >> 5);
  if (v < 0) return v + ((-v + 31) >> 5);
  return 0;
}

function clamp(v: number, limit: number): number {
  return v > limit ? limit : v < -limit ? -limit : v;
}
