/**
 * Snapshot wire format (server → client, unreliable, 20 Hz evenly spaced). A snapshot is the difference between the world's
 * view at its tick and a baseline: the last view the client acknowledged, carried forward to this tick with
 * `advanceView` (rocks and bullets move in straight lines, so an unchanged one costs nothing). A full snapshot is
 * the same difference against an empty world. Ships are sent when they changed, as residuals from where their
 * baseline velocity would have taken them or absolutely, whichever is shorter. docs/GAME.md has the bit layout.
 *
 * Decoding validates every field, and applies a delta only to the exact baseline it names; garbage comes back
 * as a typed error, never as an exception.
 */
import { BULLET_ID_SPACE, BULLET_LIFE_TICKS } from '../sim/bullet.ts';
import { ROCK_ID_SPACE } from '../sim/rock.ts';
import { FIELD_HEIGHT, FIELD_WIDTH, wrap, wrapDelta } from '../sim/space.ts';
import { ANGLE_STEPS } from '../sim/trig.ts';
import { advanceView, type BulletView, type Phase, type RockView, type ShipView, type WorldView } from '../sim/view.ts';
import { MAX_BULLETS, MAX_ROCKS, MAX_SHIPS } from '../sim/world.ts';
import { BitReader, BitWriter, signedGammaBits } from './bits.ts';

/** One netcode payload (1200) less room for the reliability layer's header. */
export const SNAPSHOT_MAX_BYTES = 1150;
const VERSION = 1;

const X_BITS = 15;
const Y_BITS = 14;
const SHIP_VELOCITY_BITS = 9;
const ANGLE_BITS = 10;
const ROCK_ID_BITS = 10;
const ROCK_VELOCITY_BITS = 8;
const BULLET_ID_BITS = 8;
const BULLET_VELOCITY_BITS = 10;
const LIFE_BITS = 6;
const SLOT_BITS = 3;
const STATUS_BITS = 2;
const PHASE_BITS = 2;
const SIZE_BITS = 2;

export type SnapshotError =
  | 'truncated'
  | 'bad-version'
  | 'unknown-baseline'
  | 'out-of-range'
  | 'inconsistent'
  | 'too-many'
  | 'trailing-bytes';

export type SnapshotDecode =
  | { ok: true; view: WorldView; baselineTick: number | undefined }
  | { ok: false; error: SnapshotError };

export interface SnapshotHeader {
  tick: number;
  /** The tick of the view this snapshot is a delta against; undefined for a full snapshot. */
  baselineTick: number | undefined;
}

/** The view as a delta against `baseline` (an earlier view the client holds), or in full without one. */
export function encodeSnapshot(view: WorldView, baseline?: WorldView): Uint8Array {
  const base = baseline && baseline.tick < view.tick ? baseline : undefined;
  const bytes = encodeAgainst(view, base);
  // A delta that replaces nearly everything (removals plus additions) can outgrow the full form; the full
  // form is what the worst-case budget is measured on.
  if (base && bytes.length > COMPARE_WITH_FULL_ABOVE) {
    const full = encodeAgainst(view, undefined);
    if (full.length < bytes.length) return full;
  }
  return bytes;
}

/** A delta below this is well inside the budget whatever the full form would cost, so that is not computed. */
const COMPARE_WITH_FULL_ABOVE = 600;
/** Room for a pathological delta before the comparison with the full form. */
const SCRATCH_BYTES = 2048;

function encodeAgainst(view: WorldView, base: WorldView | undefined): Uint8Array {
  const w = new BitWriter(SCRATCH_BYTES);
  w.write(VERSION, 4);
  w.gamma(view.tick);
  w.bool(base !== undefined);
  if (base) w.gamma(view.tick - base.tick - 1);
  const carried = base ? advanceView(base, view.tick) : undefined;

  const clockChanged = !carried || carried.phase !== view.phase || carried.phaseEnd !== view.phaseEnd;
  w.bool(clockChanged);
  if (clockChanged) {
    w.write(view.phase, PHASE_BITS);
    w.signedGamma(view.phaseEnd - view.tick);
  }
  writeShips(w, view, base);
  writeEntities(w, view.rocks, carried?.rocks ?? [], sameRock, ROCK_ID_BITS, writeRock);
  writeEntities(w, view.bullets, carried?.bullets ?? [], sameBullet, BULLET_ID_BITS, writeBullet);
  return w.finish();
}

/** The tick and baseline a snapshot names, so a receiver can find the baseline before decoding. */
export function readSnapshotHeader(bytes: Uint8Array): SnapshotHeader | undefined {
  const r = new BitReader(bytes);
  const header = readHeader(r);
  return r.failed || header === 'bad-version' || header === 'out-of-range' ? undefined : header;
}

/** Decodes against the baseline `baselines(tick)` returns (the exact view the snapshot was encoded against). */
export function decodeSnapshot(bytes: Uint8Array, baselines: (tick: number) => WorldView | undefined): SnapshotDecode {
  const r = new BitReader(bytes);
  const header = readHeader(r);
  if (r.failed) return { ok: false, error: 'truncated' };
  if (typeof header === 'string') return { ok: false, error: header };
  let base: WorldView | undefined;
  if (header.baselineTick !== undefined) {
    base = baselines(header.baselineTick);
    if (!base || base.tick !== header.baselineTick) return { ok: false, error: 'unknown-baseline' };
  }
  try {
    const view = readBody(r, header.tick, base);
    if (r.failed) return { ok: false, error: 'truncated' };
    if (r.bitsLeft >= 8) return { ok: false, error: 'trailing-bytes' };
    return { ok: true, view, baselineTick: header.baselineTick };
  } catch (error) {
    if (error instanceof Rejected) return { ok: false, error: error.reason };
    throw error;
  }
}

function readHeader(r: BitReader): SnapshotHeader | 'bad-version' | 'out-of-range' {
  if (r.read(4) !== VERSION) return 'bad-version';
  const tick = r.gamma();
  if (!r.bool()) return { tick, baselineTick: undefined };
  const baselineTick = tick - r.gamma() - 1;
  return baselineTick < 0 ? 'out-of-range' : { tick, baselineTick };
}

/** Internal only: unwinds a decode to `decodeSnapshot`, which turns it into a typed error. */
class Rejected {
  constructor(readonly reason: SnapshotError) {}
}

function check(condition: boolean, reason: SnapshotError): asserts condition {
  if (!condition) throw new Rejected(reason);
}

function readBody(r: BitReader, tick: number, base: WorldView | undefined): WorldView {
  const carried = base ? advanceView(base, tick) : undefined;
  let phase = carried?.phase;
  let phaseEnd = carried?.phaseEnd;
  if (r.bool()) {
    const p = r.read(PHASE_BITS);
    check(p <= 2, 'out-of-range');
    phase = p as Phase;
    phaseEnd = tick + r.signedGamma();
    check(phaseEnd >= 0, 'out-of-range');
  }
  check(phase !== undefined && phaseEnd !== undefined, 'inconsistent');
  const ships = readShips(r, tick, base);
  const rocks = readEntities(r, carried?.rocks ?? [], ROCK_ID_BITS, MAX_ROCKS, readRock);
  const bullets = readEntities(r, carried?.bullets ?? [], BULLET_ID_BITS, MAX_BULLETS, readBullet);
  check(!r.failed, 'truncated');
  return { tick, phase, phaseEnd, ships, rocks, bullets };
}

// ---- ships ----

function shipMask(ships: readonly ShipView[]): number {
  let mask = 0;
  for (const s of ships) mask |= 1 << s.slot;
  return mask;
}

function writeShips(w: BitWriter, view: WorldView, base: WorldView | undefined): void {
  const mask = shipMask(view.ships);
  const rosterChanged = !base || mask !== shipMask(base.ships);
  w.bool(rosterChanged);
  if (rosterChanged) w.write(mask, MAX_SHIPS);
  const dt = base ? view.tick - base.tick : 0;
  for (const ship of view.ships) {
    const before = base?.ships.find((s) => s.slot === ship.slot);
    const motion = !before || !sameMotion(ship, before);
    const status = !before || ship.status !== before.status || ship.statusEnd !== before.statusEnd;
    const score = !before || ship.score !== before.score;
    w.bool(motion || status || score);
    if (!(motion || status || score)) continue;
    w.bool(motion);
    if (motion) writeMotion(w, ship, before, dt);
    w.bool(status);
    if (status) {
      w.write(ship.status, STATUS_BITS);
      if (ship.status !== 0) w.signedGamma(ship.statusEnd - view.tick);
    }
    w.bool(score);
    if (score) w.gamma(ship.score);
  }
}

function sameMotion(a: ShipView, b: ShipView): boolean {
  return a.x === b.x && a.y === b.y && a.vx === b.vx && a.vy === b.vy && a.angle === b.angle && a.thrusting === b.thrusting;
}

interface MotionResidual {
  dx: number;
  dy: number;
  dvx: number;
  dvy: number;
  dAngle: number;
}

/** Where the baseline ship would be now had it kept its velocity, and how far off the real ship is. */
function residual(ship: ShipView, before: ShipView, dt: number): MotionResidual {
  return {
    dx: wrapDelta(wrap(before.x + before.vx * dt, FIELD_WIDTH), ship.x, FIELD_WIDTH),
    dy: wrapDelta(wrap(before.y + before.vy * dt, FIELD_HEIGHT), ship.y, FIELD_HEIGHT),
    dvx: ship.vx - before.vx,
    dvy: ship.vy - before.vy,
    dAngle: wrapDelta(before.angle, ship.angle, ANGLE_STEPS),
  };
}

const ABSOLUTE_MOTION_BITS = X_BITS + Y_BITS + 2 * SHIP_VELOCITY_BITS + ANGLE_BITS;

function writeMotion(w: BitWriter, ship: ShipView, before: ShipView | undefined, dt: number): void {
  const res = before ? residual(ship, before, dt) : undefined;
  const useResidual = res !== undefined && residualBits(res) < ABSOLUTE_MOTION_BITS;
  if (before) w.bool(useResidual);
  if (res && useResidual) {
    for (const v of [res.dx, res.dy, res.dvx, res.dvy, res.dAngle]) w.signedGamma(v);
  } else {
    w.write(ship.x, X_BITS);
    w.write(ship.y, Y_BITS);
    w.signed(ship.vx, SHIP_VELOCITY_BITS);
    w.signed(ship.vy, SHIP_VELOCITY_BITS);
    w.write(ship.angle, ANGLE_BITS);
  }
  w.bool(ship.thrusting);
}

function residualBits(res: MotionResidual): number {
  return [res.dx, res.dy, res.dvx, res.dvy, res.dAngle].reduce((bits, v) => bits + signedGammaBits(v), 0);
}

function readShips(r: BitReader, tick: number, base: WorldView | undefined): ShipView[] {
  const mask = r.bool() ? r.read(MAX_SHIPS) : base ? shipMask(base.ships) : undefined;
  check(mask !== undefined, 'inconsistent');
  const dt = base ? tick - base.tick : 0;
  const ships: ShipView[] = [];
  for (let slot = 0; slot < MAX_SHIPS; slot++) {
    if ((mask & (1 << slot)) === 0) continue;
    const before = base?.ships.find((s) => s.slot === slot);
    if (!r.bool()) {
      check(before !== undefined, 'inconsistent');
      ships.push(before);
      continue;
    }
    const motion = r.bool() ? readMotion(r, before, dt) : before;
    check(motion !== undefined, 'inconsistent');
    let status = before?.status;
    let statusEnd = before?.statusEnd;
    if (r.bool()) {
      status = r.read(STATUS_BITS);
      check(status <= 2, 'out-of-range');
      statusEnd = status === 0 ? 0 : tick + r.signedGamma();
      check(statusEnd >= 0, 'out-of-range');
    }
    const score = r.bool() ? r.gamma() : before?.score;
    check(status !== undefined && statusEnd !== undefined && score !== undefined, 'inconsistent');
    ships.push({ slot, x: motion.x, y: motion.y, vx: motion.vx, vy: motion.vy, angle: motion.angle, thrusting: motion.thrusting, status, statusEnd, score });
  }
  return ships;
}

type Motion = Pick<ShipView, 'x' | 'y' | 'vx' | 'vy' | 'angle' | 'thrusting'>;

const SHIP_SPEED_LIMIT = 2 ** (SHIP_VELOCITY_BITS - 1) - 1;

function readMotion(r: BitReader, before: ShipView | undefined, dt: number): Motion {
  if (before && r.bool()) {
    const [dx, dy, dvx, dvy, dAngle] = [r.signedGamma(), r.signedGamma(), r.signedGamma(), r.signedGamma(), r.signedGamma()] as const;
    check(Math.abs(dx) <= FIELD_WIDTH / 2 && Math.abs(dy) <= FIELD_HEIGHT / 2 && Math.abs(dAngle) <= ANGLE_STEPS / 2, 'out-of-range');
    const vx = before.vx + dvx;
    const vy = before.vy + dvy;
    check(Math.abs(vx) <= SHIP_SPEED_LIMIT && Math.abs(vy) <= SHIP_SPEED_LIMIT, 'out-of-range');
    return {
      x: wrap(before.x + before.vx * dt + dx, FIELD_WIDTH),
      y: wrap(before.y + before.vy * dt + dy, FIELD_HEIGHT),
      vx,
      vy,
      angle: wrap(before.angle + dAngle, ANGLE_STEPS),
      thrusting: r.bool(),
    };
  }
  const motion = { x: r.read(X_BITS), y: r.read(Y_BITS), vx: r.signed(SHIP_VELOCITY_BITS), vy: r.signed(SHIP_VELOCITY_BITS), angle: r.read(ANGLE_BITS), thrusting: r.bool() };
  check(motion.x < FIELD_WIDTH && motion.y < FIELD_HEIGHT, 'out-of-range');
  return motion;
}

// ---- rocks and bullets: removals, then additions and changes, each in ascending id order ----

type EntityWriter<T> = (w: BitWriter, entity: T) => void;
type EntityReader<T> = (r: BitReader, id: number) => T;

function writeEntities<T extends { id: number }>(
  w: BitWriter,
  current: readonly T[],
  carried: readonly T[],
  same: (a: T, b: T) => boolean,
  idBits: number,
  write: EntityWriter<T>,
): void {
  const now = new Map(current.map((e) => [e.id, e]));
  const then = new Map(carried.map((e) => [e.id, e]));
  const removed = carried.filter((e) => !now.has(e.id));
  const upserts = current.filter((e) => {
    const before = then.get(e.id);
    return !before || !same(before, e);
  });
  w.gamma(removed.length);
  for (const e of removed) w.write(e.id, idBits);
  w.gamma(upserts.length);
  for (const e of upserts) {
    w.write(e.id, idBits);
    write(w, e);
  }
}

function readEntities<T extends { id: number }>(r: BitReader, carried: readonly T[], idBits: number, cap: number, read: EntityReader<T>): T[] {
  const byId = new Map(carried.map((e) => [e.id, e]));
  const removals = r.gamma();
  check(removals <= carried.length, 'too-many');
  let last = -1;
  for (let i = 0; i < removals; i++) {
    const id = r.read(idBits);
    check(id > last && byId.delete(id), 'inconsistent');
    last = id;
  }
  const upserts = r.gamma();
  check(upserts <= cap, 'too-many');
  last = -1;
  for (let i = 0; i < upserts; i++) {
    const id = r.read(idBits);
    check(id > last, 'inconsistent');
    last = id;
    byId.set(id, read(r, id));
  }
  check(!r.failed, 'truncated');
  check(byId.size <= cap, 'too-many');
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

function sameRock(a: RockView, b: RockView): boolean {
  return a.size === b.size && a.x === b.x && a.y === b.y && a.vx === b.vx && a.vy === b.vy;
}

function writeRock(w: BitWriter, rock: RockView): void {
  w.write(rock.size, SIZE_BITS);
  w.write(rock.x, X_BITS);
  w.write(rock.y, Y_BITS);
  w.signed(rock.vx, ROCK_VELOCITY_BITS);
  w.signed(rock.vy, ROCK_VELOCITY_BITS);
}

function readRock(r: BitReader, id: number): RockView {
  const rock = { id, size: r.read(SIZE_BITS), x: r.read(X_BITS), y: r.read(Y_BITS), vx: r.signed(ROCK_VELOCITY_BITS), vy: r.signed(ROCK_VELOCITY_BITS) };
  check(rock.size <= 2 && rock.x < FIELD_WIDTH && rock.y < FIELD_HEIGHT && id < ROCK_ID_SPACE, 'out-of-range');
  return rock;
}

function sameBullet(a: BulletView, b: BulletView): boolean {
  return a.owner === b.owner && a.x === b.x && a.y === b.y && a.vx === b.vx && a.vy === b.vy && a.life === b.life;
}

function writeBullet(w: BitWriter, bullet: BulletView): void {
  w.write(bullet.owner, SLOT_BITS);
  w.write(bullet.x, X_BITS);
  w.write(bullet.y, Y_BITS);
  w.signed(bullet.vx, BULLET_VELOCITY_BITS);
  w.signed(bullet.vy, BULLET_VELOCITY_BITS);
  w.write(bullet.life, LIFE_BITS);
}

function readBullet(r: BitReader, id: number): BulletView {
  const bullet = { id, owner: r.read(SLOT_BITS), x: r.read(X_BITS), y: r.read(Y_BITS), vx: r.signed(BULLET_VELOCITY_BITS), vy: r.signed(BULLET_VELOCITY_BITS), life: r.read(LIFE_BITS) };
  check(bullet.x < FIELD_WIDTH && bullet.y < FIELD_HEIGHT && bullet.life >= 1 && bullet.life <= BULLET_LIFE_TICKS && id < BULLET_ID_SPACE, 'out-of-range');
  return bullet;
}
