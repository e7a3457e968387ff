/** Bullets fly straight for a fixed life, so clients extrapolate them like rocks. */
import { SUBUNITS } from './space.ts';

/** Subunits per tick: 12 units a tick, 360 units/s. */
export const BULLET_SPEED = 12 * SUBUNITS;
export const BULLET_LIFE_TICKS = 40;
export const BULLETS_PER_SHIP = 6;
export const BULLET_ID_SPACE = 256;

export interface Bullet {
  readonly id: number;
  readonly owner: number;
  x: number;
  y: number;
  readonly vx: number;
  readonly vy: number;
  /** Ticks left; the bullet is gone when it reaches 0. */
  life: number;
}
