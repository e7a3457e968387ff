/**
 * The arena as the page draws it: snapshots in (20 Hz, evenly spaced, deltas against what we acknowledged), a smooth frame out at
 * any moment. Remote entities are drawn a little in the past, between the two snapshots around that moment
 * (interpolation hides the 50 ms gaps and the jitter); rocks and bullets move in straight lines on the wire grid,
 * so they are carried forward exactly from the older snapshot.
 */
import { ArenaClient } from '../src/game/arena-client.ts';
import type { Controls } from '../src/game/sim/controls.ts';
import { FIELD_HEIGHT, FIELD_WIDTH, wrap, wrapDelta } from '../src/game/sim/space.ts';
import { ANGLE_STEPS } from '../src/game/sim/trig.ts';
import { type Phase, type ShipView, type WorldView } from '../src/game/sim/view.ts';
import { TICKS_PER_SECOND } from '../src/game/sim/world.ts';

export interface FrameShip {
  slot: number;
  /** Subunits, fractional. */
  x: number;
  y: number;
  /** Radians, 0 along +x, growing clockwise on screen (y down). */
  angle: number;
  thrusting: boolean;
  /** 0 alive, 1 shielded, 2 out. */
  status: number;
  score: number;
}

export interface ArenaFrame {
  /** The (fractional) tick drawn. */
  tick: number;
  phase: Phase;
  /** Seconds left in the phase (countdown or round). */
  secondsLeft: number;
  ships: FrameShip[];
  rocks: { id: number; size: number; x: number; y: number }[];
  bullets: { id: number; owner: number; x: number; y: number }[];
}

/** How far behind the newest snapshot we draw: a bit over two snapshot intervals (50 ms each, 1 or 2 ticks apart). */
const INTERPOLATION_TICKS = 3.5;
/** When a snapshot is late, ships keep their velocity this long before they stop and wait. */
const MAX_EXTRAPOLATION_TICKS = 4;
/** A jump longer than this between two snapshots is a respawn: snap rather than glide across the field. */
const TELEPORT_SUBUNITS = FIELD_WIDTH / 4;
/** How quickly the clock estimate follows snapshots that arrive later than before (per snapshot). */
const CLOCK_DRIFT = 0.05;
const KEEP_VIEWS = 24;

export class ArenaFeed {
  /** Decoding against our acks and building input packets: the same code the bot runs. */
  private readonly arena = new ArenaClient();
  /** Decoded views, oldest first. */
  private views: WorldView[] = [];
  /** Server seconds minus local seconds, from the earliest-arriving snapshots. */
  private offset: number | undefined;

  /** True once a snapshot decoded: the game screen draws the arena instead of the empty field. */
  get active(): boolean {
    return this.views.length > 0;
  }

  /** Snapshots that did not decode (diagnostics). */
  get invalid(): number {
    return this.arena.rejectedSnapshots;
  }

  /** This client tick's input packet (the last few ticks repeated, with the ack of the newest snapshot). */
  input(controls: Controls): Uint8Array {
    return this.arena.input(controls);
  }

  receive(bytes: Uint8Array, now: number): void {
    const before = this.arena.latest;
    this.arena.receive(bytes);
    const view = this.arena.latest;
    // Only a newer snapshot joins the timeline; a late one is already covered by what came after it.
    if (!view || view === before) return;
    this.views.push(view);
    if (this.views.length > KEEP_VIEWS) this.views.splice(0, this.views.length - KEEP_VIEWS);
    // A snapshot that arrives earlier than the estimate says moves the clock at once; later ones only nudge it,
    // so one delayed packet does not make everything stutter.
    const sample = view.tick / TICKS_PER_SECOND - now;
    if (this.offset === undefined || sample > this.offset) this.offset = sample;
    else this.offset += (sample - this.offset) * CLOCK_DRIFT;
  }

  /** What to draw at local time `now` (seconds), or undefined before the first snapshot. */
  frame(now: number): ArenaFrame | undefined {
    const first = this.views[0];
    if (!first || this.offset === undefined) return undefined;
    let tick = (now + this.offset) * TICKS_PER_SECOND - INTERPOLATION_TICKS;
    tick = Math.max(tick, first.tick);
    let older = first;
    let newer: WorldView | undefined;
    for (const view of this.views) {
      if (view.tick <= tick) older = view;
      else {
        newer = view;
        break;
      }
    }
    if (!newer) tick = Math.min(tick, older.tick + MAX_EXTRAPOLATION_TICKS);
    const dt = tick - older.tick;
    const t = newer ? dt / (newer.tick - older.tick) : 0;
    const ships = older.ships.map((ship) => {
      const next = newer?.ships.find((s) => s.slot === ship.slot);
      return next ? blendShip(ship, next, t) : frameShip(ship, newer ? 0 : dt);
    });
    return {
      tick,
      phase: older.phase,
      secondsLeft: Math.max(0, older.phaseEnd - tick) / TICKS_PER_SECOND,
      ships,
      rocks: older.rocks.map((r) => ({ id: r.id, size: r.size, x: wrap(r.x + r.vx * dt, FIELD_WIDTH), y: wrap(r.y + r.vy * dt, FIELD_HEIGHT) })),
      bullets: older.bullets
        .filter((b) => b.life > dt)
        .map((b) => ({ id: b.id, owner: b.owner, x: wrap(b.x + b.vx * dt, FIELD_WIDTH), y: wrap(b.y + b.vy * dt, FIELD_HEIGHT) })),
    };
  }
}

function blendShip(a: ShipView, b: ShipView, t: number): FrameShip {
  const dx = wrapDelta(a.x, b.x, FIELD_WIDTH);
  const dy = wrapDelta(a.y, b.y, FIELD_HEIGHT);
  if (Math.abs(dx) > TELEPORT_SUBUNITS || Math.abs(dy) > TELEPORT_SUBUNITS || a.status !== b.status) return frameShip(t < 0.5 ? a : b, 0);
  return {
    slot: a.slot,
    x: wrap(a.x + dx * t, FIELD_WIDTH),
    y: wrap(a.y + dy * t, FIELD_HEIGHT),
    angle: toRadians(a.angle + wrapDelta(a.angle, b.angle, ANGLE_STEPS) * t),
    thrusting: t < 0.5 ? a.thrusting : b.thrusting,
    status: a.status,
    score: a.score,
  };
}

/** The ship at `dt` ticks past its snapshot, moving at its last velocity (0 for as sent). */
function frameShip(ship: ShipView, dt: number): FrameShip {
  return {
    slot: ship.slot,
    x: wrap(ship.x + ship.vx * dt, FIELD_WIDTH),
    y: wrap(ship.y + ship.vy * dt, FIELD_HEIGHT),
    angle: toRadians(ship.angle),
    thrusting: ship.thrusting,
    status: ship.status,
    score: ship.score,
  };
}

function toRadians(steps: number): number {
  return (steps / ANGLE_STEPS) * Math.PI * 2;
}
