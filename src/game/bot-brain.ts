/**
 * A bot's whole mind: from the view a client decoded and its own slot, this tick's controls. It picks the
 * nearest rock the short way round the field, leads it by the bullet's flight time, turns toward that point,
 * fires when roughly aligned and thrusts a little when the target is far. Pure, so tests and `huddle bot` share it.
 */
import { BULLET_SPEED } from './sim/bullet.ts';
import { type Controls, FIRE, NO_CONTROLS, THRUST, TURN_LEFT, TURN_RIGHT } from './sim/controls.ts';
import { ShipStatus } from './sim/ship.ts';
import { FIELD_HEIGHT, FIELD_WIDTH, integerSqrt, SUBUNITS, wrapDelta } from './sim/space.ts';
import { cosOf, sinOf, TRIG_ONE } from './sim/trig.ts';
import { Phase, type RockView, type ShipView, type WorldView } from './sim/view.ts';

/** sin of the largest aiming error that still fires: about 10°. */
const FIRE_WITHIN = 0.17;
/** sin of the error the bot tolerates without turning, so it does not wobble. */
const STEADY_WITHIN = 0.04;
const THRUST_BEYOND = 380 * SUBUNITS;
const CRUISE_SPEED = 3 * SUBUNITS;

export function botControls(view: WorldView, slot: number): Controls {
  const ship = view.ships.find((s) => s.slot === slot);
  if (!ship || ship.status === ShipStatus.out || view.phase !== Phase.playing) return NO_CONTROLS;
  const target = nearestRock(ship, view.rocks);
  if (!target) return NO_CONTROLS;

  const aim = leadPoint(ship, target);
  const distance = integerSqrt(aim.dx * aim.dx + aim.dy * aim.dy);
  if (distance === 0) return FIRE;
  const dirX = cosOf(ship.angle);
  const dirY = sinOf(ship.angle);
  // Cross and dot of the nose and the aim, normalised: the sine and cosine of the aiming error.
  const sin = (dirX * aim.dy - dirY * aim.dx) / (distance * TRIG_ONE);
  const cos = (dirX * aim.dx + dirY * aim.dy) / (distance * TRIG_ONE);

  let controls = NO_CONTROLS;
  // Angles grow clockwise on screen (y down): a positive error means turning right.
  if (cos < 0 || Math.abs(sin) > STEADY_WITHIN) controls |= sin >= 0 ? TURN_RIGHT : TURN_LEFT;
  if (cos > 0 && Math.abs(sin) < FIRE_WITHIN) controls |= FIRE;
  const speed = Math.abs(ship.vx) + Math.abs(ship.vy);
  if (distance > THRUST_BEYOND && cos > 0.7 && speed < CRUISE_SPEED) controls |= THRUST;
  return controls;
}

function nearestRock(ship: ShipView, rocks: readonly RockView[]): RockView | undefined {
  let best: RockView | undefined;
  let bestDistance = Infinity;
  for (const rock of rocks) {
    const dx = wrapDelta(ship.x, rock.x, FIELD_WIDTH);
    const dy = wrapDelta(ship.y, rock.y, FIELD_HEIGHT);
    const d = dx * dx + dy * dy;
    if (d < bestDistance) {
      best = rock;
      bestDistance = d;
    }
  }
  return best;
}

/** Where the rock will be when a bullet fired now reaches it (bullets carry the ship's velocity). */
function leadPoint(ship: ShipView, rock: RockView): { dx: number; dy: number } {
  const dx = wrapDelta(ship.x, rock.x, FIELD_WIDTH);
  const dy = wrapDelta(ship.y, rock.y, FIELD_HEIGHT);
  const flightTicks = integerSqrt(dx * dx + dy * dy) / BULLET_SPEED;
  return { dx: dx + (rock.vx - ship.vx) * flightTicks, dy: dy + (rock.vy - ship.vy) * flightTicks };
}
