/**
 * What the matchmaker tells a game server about a connecting client, inside the connect token's 256 bytes of user
 * data (sealed with the game's private key, so a client cannot change it): the display name, and whether the
 * client comes to play or to watch.
 *
 * Layout: the sanitised name as UTF-8 from byte 0, zero-padded; byte 255 is the seat kind (0 player,
 * 1 spectator). A name is at most 24 characters (96 bytes), so the two never meet. Tokens of a reader that knows
 * only names (all zero after the name) are players.
 */
import { sanitizeName } from './messages.ts';

export const USER_DATA_SIZE = 256;
const KIND_OFFSET = USER_DATA_SIZE - 1;

export type SeatKind = 'player' | 'spectator';

export interface SeatData {
  name: string;
  kind: SeatKind;
}

export function encodeSeatData(seat: SeatData): Uint8Array {
  const out = new Uint8Array(USER_DATA_SIZE);
  const name = new TextEncoder().encode(seat.name);
  if (name.length >= KIND_OFFSET) throw new RangeError('display name does not fit the user data');
  out.set(name, 0);
  out[KIND_OFFSET] = seat.kind === 'spectator' ? 1 : 0;
  return out;
}

/** The name (sanitised again: the game trusts nothing) and kind; an empty name if the bytes are not UTF-8. */
export function decodeSeatData(userData: Uint8Array): SeatData {
  const kind: SeatKind = userData.length === USER_DATA_SIZE && userData[KIND_OFFSET] === 1 ? 'spectator' : 'player';
  let end = userData.indexOf(0);
  if (end < 0 || end > KIND_OFFSET) end = Math.min(userData.length, KIND_OFFSET);
  let name = '';
  try {
    name = sanitizeName(new TextDecoder('utf-8', { fatal: true }).decode(userData.subarray(0, end)));
  } catch {
    name = '';
  }
  return { name, kind };
}
