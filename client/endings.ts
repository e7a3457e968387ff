/**
 * Every way a game can end for this tab, as one reason, and what the page does about it: the sentence a player
 * reads (no raw close codes, signal names or protocol states) and whether rejoining the seat may cure it.
 */
import { describeFailure } from '../src/game/game-client.ts';
import type { ClientState } from '../src/protocol/netcode/client.ts';

export type EndReason =
  /** The same seat connected from another tab or device: the game goes on there. */
  | 'seat-taken'
  /** The server is stopping (or restarting): every game on it ends. */
  | 'shutdown'
  | 'lobby-idle'
  | 'game-over'
  /** The connect token ran out before the handshake finished. */
  | 'token-expired'
  /** The handshake got no answer. */
  | 'handshake-timeout'
  /** An established connection went silent. */
  | 'timed-out'
  | 'denied'
  | 'invalid-token'
  /** The tunnel to the relay dropped (network change, sleep, proxy) while the game itself may be fine. */
  | 'relay-lost'
  /** The tunnel never opened. */
  | 'relay-unreachable'
  | 'relay-game-ended'
  | 'relay-full'
  | 'closed';

/** Drops a rejoin can cure: the seat is still ours on the server for the grace period. */
const RECOVERABLE: ReadonlySet<EndReason> = new Set(['timed-out', 'relay-lost', 'relay-unreachable', 'handshake-timeout', 'token-expired']);

export function mayRejoin(reason: EndReason): boolean {
  return RECOVERABLE.has(reason);
}

const MESSAGES: Readonly<Record<EndReason, string>> = {
  'seat-taken': 'This game continues in another tab or window, where you opened it again. Play there, or start or join another game here.',
  shutdown: 'The server was restarted or stopped. Your game ended; start a new one from Home.',
  'lobby-idle': 'The lobby closed because nobody started the game in time. Create a new game to play.',
  'game-over': 'That game is over. Start a new one or join another.',
  'token-expired': 'Your invitation to the game ran out before the game answered: the connection was too slow. Press "Join again" for a fresh one.',
  'handshake-timeout': 'The game did not answer: the connection timed out. Check your network and press "Join again".',
  'timed-out': 'The connection to the game timed out. Check your network and press "Join again".',
  denied: 'The game did not let this connection in: it is full or has already started.',
  'invalid-token': 'The invitation is not valid for this game. Join again with the passcode.',
  'relay-lost': 'The connection to the game was lost. Check your network and press "Join again".',
  'relay-unreachable': 'The game cannot be reached right now: the connection to the server was refused or dropped. Try again in a moment.',
  'relay-game-ended': 'That game has ended.',
  'relay-full': 'The server is full right now. Try again in a minute.',
  closed: 'The game closed the connection.',
};

/**
 * The operator ended the game from /admin. The connection only says `shutdown` (or the relay that the game is
 * gone); the game's public status says why (`endReason: 'admin_ended'`), and the page asks it.
 */
export const ADMIN_ENDED_MESSAGE = "The server's operator ended this game. Start a new one or join another from here.";

export function describeEnd(reason: EndReason): string {
  return MESSAGES[reason];
}

/** After a drop that rejoins could not cure within the grace, or a seat the server no longer holds. */
export function seatExpiredMessage(graceSeconds: number | undefined): string {
  const held = graceSeconds ? ` (the game holds a seat for ${graceSeconds} s)` : '';
  return `Your seat in this game has expired: you were away too long${held}, or the game has ended. Create a new game or join another one.`;
}

/** The server's closing code, as the game client saw it, to a reason. */
export function reasonFromClosingCode(code: string | undefined): EndReason | undefined {
  switch (code) {
    case 'seat-taken':
    case 'shutdown':
    case 'lobby-idle':
    case 'game-over':
      return code;
    case 'timed-out':
      return 'timed-out';
    case 'token-expired':
      return 'token-expired';
    case 'denied':
      return 'denied';
    case 'request-timed-out':
      return 'handshake-timeout';
    case 'invalid-token':
      return 'invalid-token';
    default:
      return undefined;
  }
}

/** A netcode ending (the client's own state) to a reason, through the game client's one table of them. */
export function reasonFromNetcode(state: ClientState): EndReason {
  return reasonFromClosingCode(describeFailure(state).code) ?? 'closed';
}

/** The relay's close codes (src/protocol/transport/websocket.ts, RelayCloseCode) to a reason. */
export function reasonFromRelayClose(code: number, opened: boolean): EndReason {
  switch (code) {
    case 1001:
      return 'shutdown';
    case 4404:
    case 4410:
      return 'relay-game-ended';
    case 4503:
      return 'relay-full';
    default:
      return opened ? 'relay-lost' : 'relay-unreachable';
  }
}

/** "alice", "alice and bob", "alice, bob and carol". */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
