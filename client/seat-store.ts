/**
 * The tab's seat: which game this tab plays (or watches) and the keys that open it again, kept in sessionStorage
 * (one tab, survives a reload, gone with the tab) and mirrored as `?game=ID` in the address bar, so a reload or a
 * dropped connection can put the player back without typing anything.
 */
import type { SeatRole, Ticket } from './api.ts';

export interface StoredSeat {
  gameId: string;
  role: SeatRole;
  name: string;
  passcode?: string;
  /** Players: opens the same seat (and the seat in a play-again game). */
  rejoinKey?: string;
  watchKey?: string;
  /** Players: the invite link to share, as the server made it (its public base). */
  inviteUrl?: string;
  /** Seconds the game holds a dropped seat (from its welcome): how long rejoins are worth trying. */
  graceSeconds?: number;
  /** The screen the tab was on, so a reload shows it while it reconnects. */
  screen?: 'lobby' | 'game' | 'results';
  /** On the results screen: this seat was host at the end, so it may start the next game (after a reload too). */
  host?: boolean;
}

const KEY = 'huddle.seat';

export function readSeat(): StoredSeat | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const seat = JSON.parse(raw) as Partial<StoredSeat>;
    if (typeof seat.gameId !== 'string' || typeof seat.name !== 'string') return undefined;
    if (seat.role !== 'player' && seat.role !== 'spectator') return undefined;
    if (seat.role === 'player' ? typeof seat.rejoinKey !== 'string' : typeof seat.watchKey !== 'string') return undefined;
    return seat as StoredSeat;
  } catch {
    return undefined;
  }
}

export function saveSeat(seat: StoredSeat): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(seat));
  } catch {
    // Storage refused (private mode, quota): a reload will not rejoin, the game itself still works.
  }
  setGameInUrl(seat.gameId);
}

export function clearSeat(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
  setGameInUrl(undefined);
}

/** The seat a ticket opens, keeping what the previous seat knew when the answer leaves it out. */
export function seatFromTicket(
  ticket: Ticket,
  fallback: { name: string; role: SeatRole; passcode?: string; watchKey?: string; rejoinKey?: string; inviteUrl?: string },
): StoredSeat {
  const role = ticket.role ?? fallback.role;
  const seat: StoredSeat = { gameId: ticket.gameId, role, name: ticket.name ?? fallback.name };
  const passcode = ticket.passcode ?? fallback.passcode;
  if (passcode) seat.passcode = passcode;
  const watchKey = ticket.watchKey ?? fallback.watchKey;
  if (watchKey) seat.watchKey = watchKey;
  const rejoinKey = role === 'player' ? (ticket.rejoinKey ?? fallback.rejoinKey) : undefined;
  if (rejoinKey) seat.rejoinKey = rejoinKey;
  const inviteUrl = role === 'player' ? (ticket.inviteUrl ?? fallback.inviteUrl) : undefined;
  if (inviteUrl) seat.inviteUrl = inviteUrl;
  return seat;
}

/** `?game=ID` while the tab holds a seat; share parameters (`code`, `watch`, `invite`) are dropped once used. */
function setGameInUrl(gameId: string | undefined): void {
  const url = new URL(location.href);
  url.searchParams.delete('watch');
  url.searchParams.delete('code');
  url.searchParams.delete('invite');
  if (gameId) url.searchParams.set('game', gameId);
  else url.searchParams.delete('game');
  if (url.href !== location.href) history.replaceState(null, '', url.href);
}

/** Removes the watch key from the address bar at once: it should not linger in the history or a screenshot. */
export function dropShareParameters(): void {
  const url = new URL(location.href);
  url.searchParams.delete('watch');
  if (url.href !== location.href) history.replaceState(null, '', url.href);
}
