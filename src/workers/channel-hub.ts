/**
 * The matchmaker's end of the game processes' supervision channels: `GET /internal/games/:id/channel` upgraded to
 * a WebSocket, authenticated with the game's reporting token (`Authorization: Bearer`, compared in constant time).
 * The hub knows which games may connect (the process launcher registers each it launches or adopts) and hands
 * each accepted socket to that game's supervisor. A newer connection of the same game replaces the older one (a
 * reconnect that raced a half-dead socket).
 *
 * The HTTP side is thin and lives elsewhere: an Elysia route on the app (matchmaker/internal/channel-routes.ts)
 * and the loopback report listener under TLS (matchmaker/edge/report-listener.ts) both call `authorize` before the
 * upgrade and `open` once it is done.
 */
import { constantTimeEqual } from '../protocol/bytes.ts';

/** The socket as the hub needs it (Bun's ServerWebSocket, or a test's fake). */
export interface ChannelPeer {
  send(text: string): unknown;
  close(code?: number, reason?: string): void;
}

/** One accepted connection, as its game's supervisor sees it. */
export interface ChannelConnection {
  /** A frame from the game, already JSON-parsed where it was text (undefined: it did not parse). */
  message(data: unknown): void;
  closed(): void;
}

/** What a game registered with the hub does with a new connection. */
export interface ChannelEndpoint {
  connected(peer: ChannelPeer): ChannelConnection;
}

export const CHANNEL_CLOSE = { replaced: 4409, gameGone: 4410 } as const;

interface Registration {
  token: Uint8Array;
  endpoint: ChannelEndpoint;
}

export class ChannelHub {
  private readonly games = new Map<string, Registration>();

  /** Lets `gameId` connect with `reportToken` (base64url) until the returned function is called. */
  register(gameId: string, reportToken: string, endpoint: ChannelEndpoint): () => void {
    const registration = { token: new Uint8Array(Buffer.from(reportToken, 'base64url')), endpoint };
    this.games.set(gameId, registration);
    return () => {
      if (this.games.get(gameId) === registration) this.games.delete(gameId);
      registration.token.fill(0);
    };
  }

  /** Whether the upgrade may go ahead: a registered game and its own token. Unknown games cost a comparison too. */
  authorize(gameId: string, bearer: string | undefined): boolean {
    const registration = this.games.get(gameId);
    const expected = registration?.token ?? DUMMY;
    const presented = bearer === undefined ? new Uint8Array() : new Uint8Array(Buffer.from(bearer, 'base64url'));
    // Buffer's base64url decoding ignores stray characters; re-encoding catches texts that only decode alike.
    const canonical = bearer !== undefined && Buffer.from(presented).toString('base64url') === bearer;
    if (presented.length !== expected.length) {
      constantTimeEqual(expected, expected);
      return false;
    }
    return constantTimeEqual(presented, expected) && canonical && registration !== undefined;
  }

  /** Hands an upgraded socket to its game; undefined (and the socket closed) if the game is no longer registered. */
  open(gameId: string, bearer: string | undefined, peer: ChannelPeer): ChannelConnection | undefined {
    if (!this.authorize(gameId, bearer)) {
      peer.close(CHANNEL_CLOSE.gameGone, 'unknown game');
      return undefined;
    }
    return this.games.get(gameId)?.endpoint.connected(peer);
  }

  get size(): number {
    return this.games.size;
  }
}

const DUMMY = new Uint8Array(32);

/** A WebSocket frame as the game sent it (JSON text; Elysia hands text frames in already parsed). */
export function decodeChannelFrame(frame: unknown): unknown {
  if (typeof frame === 'string') return parseJson(frame);
  if (frame instanceof Uint8Array) return parseJson(new TextDecoder().decode(frame));
  if (frame instanceof ArrayBuffer) return parseJson(new TextDecoder().decode(frame));
  return frame;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
