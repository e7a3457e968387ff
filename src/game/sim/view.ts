/**
 * What a client knows of the world at one tick: the state a snapshot carries and the bot brain reads. Every
 * value sits on the wire grid, and rocks and bullets move in straight lines, so `advanceView` carries a view
 * forward to a later tick exactly as the simulation would have moved them (ships are left where they were).
 */
import { FIELD_HEIGHT, FIELD_WIDTH, wrap } from './space.ts';

export const Phase = { countdown: 0, playing: 1, over: 2 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export interface ShipView {
  readonly slot: number;
  /** Subunits (1/16 world unit), velocities per tick. */
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
  /** 1024 steps to the circle. */
  readonly angle: number;
  readonly thrusting: boolean;
  /** ShipStatus: 0 alive, 1 shielded, 2 out (waiting to respawn). */
  readonly status: number;
  /** Tick at which the shield or the wait ends; 0 when alive. */
  readonly statusEnd: number;
  readonly score: number;
}

export interface RockView {
  readonly id: number;
  /** 0 large, 1 medium, 2 small. */
  readonly size: number;
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
}

export interface BulletView {
  readonly id: number;
  readonly owner: number;
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
  readonly life: number;
}

export interface WorldView {
  readonly tick: number;
  readonly phase: Phase;
  /** Tick at which the current phase ends (the round clock: phaseEnd - tick ticks left). */
  readonly phaseEnd: number;
  /** Sorted by slot. */
  readonly ships: readonly ShipView[];
  /** Sorted by id. */
  readonly rocks: readonly RockView[];
  /** Sorted by id. */
  readonly bullets: readonly BulletView[];
}

export const EMPTY_VIEW: WorldView = { tick: 0, phase: Phase.countdown, phaseEnd: 0, ships: [], rocks: [], bullets: [] };

/** The view at a later tick: rocks and bullets moved on, bullets past their life dropped, ships unchanged. */
export function advanceView(view: WorldView, tick: number): WorldView {
  const dt = tick - view.tick;
  if (dt <= 0) return view;
  return {
    ...view,
    tick,
    rocks: view.rocks.map((r) => ({ ...r, x: wrap(r.x + r.vx * dt, FIELD_WIDTH), y: wrap(r.y + r.vy * dt, FIELD_HEIGHT) })),
    bullets: view.bullets
      .filter((b) => b.life > dt)
      .map((b) => ({ ...b, x: wrap(b.x + b.vx * dt, FIELD_WIDTH), y: wrap(b.y + b.vy * dt, FIELD_HEIGHT), life: b.life - dt })),
  };
}

export function ticksLeft(view: WorldView): number {
  return Math.max(0, view.phaseEnd - view.tick);
}
