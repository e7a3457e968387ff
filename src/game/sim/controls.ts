/** One tick of a player's controls, as 4 bits: what the input codec carries and `World.step` reads. */
export type Controls = number;

export const THRUST = 1;
export const TURN_LEFT = 2;
export const TURN_RIGHT = 4;
export const FIRE = 8;
export const CONTROL_BITS = 4;
export const NO_CONTROLS: Controls = 0;

export function controls(parts: { thrust?: boolean; left?: boolean; right?: boolean; fire?: boolean }): Controls {
  return (parts.thrust ? THRUST : 0) | (parts.left ? TURN_LEFT : 0) | (parts.right ? TURN_RIGHT : 0) | (parts.fire ? FIRE : 0);
}
