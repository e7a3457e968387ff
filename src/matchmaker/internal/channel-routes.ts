/**
 * `GET /internal/games/:id/channel`: the supervision channel of a `huddle game` process (workers/channel-hub.ts),
 * a WebSocket authenticated with the game's reporting token. Refused before the upgrade with 401 and the JSON
 * error shape (wrong or absent token, or a game this matchmaker does not supervise: the same answer, so it tells a
 * prober nothing); the refusal is a sampled client event, never one log line per attempt.
 *
 * Two thin adapters over the hub: an Elysia route for the app's own listener, and a plain Bun handler for the
 * loopback report listener under TLS.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from 'bun';
import { Elysia, t } from 'elysia';
import type { Logger } from '../../log.ts';
import { type ChannelConnection, type ChannelHub } from '../../workers/channel-hub.ts';
import { errorBody } from '../errors.ts';
import { bearerToken } from '../secrets.ts';

const UNAUTHORIZED = 'missing or wrong reporting token, or no such game';

function refused(log: Logger, gameId: string): void {
  log.warn('report.channel_unauthorized', { gameId: gameId.slice(0, 64) });
}

export function channelRoutes(hub: ChannelHub, log: Logger) {
  const connections = new WeakMap<object, ChannelConnection>();
  // No plugin name: Elysia would dedupe by it.
  return new Elysia()
    .onBeforeHandle(({ params, request, status, set }) => {
      const gameId = (params as { id?: string }).id ?? '';
      if (hub.authorize(gameId, bearerToken(request.headers.get('authorization')))) return undefined;
      refused(log, gameId);
      set.headers['www-authenticate'] = 'Bearer';
      return status(401, errorBody('unauthorized', UNAUTHORIZED));
    })
    .ws('/internal/games/:id/channel', {
      params: t.Object({ id: t.String({ maxLength: 64 }) }),
      detail: {
        tags: ['internal'],
        summary: 'Supervision channel of a game process',
        description:
          'WebSocket for `huddle game` processes (`--launcher process`): JSON text frames carry the worker channel\'s messages (ready, heartbeat, players, seat_released, report, log, fatal, exiting one way; shutdown the other). Needs `Authorization: Bearer <reporting token>`; refused with 401 before the upgrade otherwise.',
        security: [{ reportingToken: [] }],
      },
      open(ws) {
        const connection = hub.open(ws.data.params.id, bearerToken(ws.data.request.headers.get('authorization')), ws.raw);
        if (connection) connections.set(ws.raw, connection);
      },
      message(ws, message: unknown) {
        connections.get(ws.raw)?.message(message);
      },
      close(ws) {
        connections.get(ws.raw)?.closed();
        connections.delete(ws.raw);
      },
    });
}

const CHANNEL_PATH = /^\/internal\/games\/([A-Za-z0-9_-]{1,64})\/channel$/;

export interface ChannelSocketData {
  gameId: string;
  bearer: string | undefined;
  connection: ChannelConnection | undefined;
}

/**
 * The same route for a plain Bun server: `fetch` answers a channel request ('upgraded', or a refusal) and leaves
 * any other path to the caller (undefined).
 */
export function channelUpgrade(hub: ChannelHub, log: Logger): {
  fetch(request: Request, server: Server<ChannelSocketData>): Response | 'upgraded' | undefined;
  websocket: WebSocketHandler<ChannelSocketData>;
} {
  return {
    fetch(request, server) {
      const match = CHANNEL_PATH.exec(new URL(request.url).pathname);
      if (!match) return undefined;
      const gameId = match[1] as string;
      const bearer = bearerToken(request.headers.get('authorization'));
      if (!hub.authorize(gameId, bearer)) {
        refused(log, gameId);
        return Response.json(errorBody('unauthorized', UNAUTHORIZED), { status: 401, headers: { 'www-authenticate': 'Bearer' } });
      }
      if (server.upgrade(request, { data: { gameId, bearer, connection: undefined } })) return 'upgraded';
      return Response.json(errorBody('bad_request', 'expected a WebSocket upgrade'), { status: 400 });
    },
    websocket: {
      maxPayloadLength: 64 * 1024,
      open(ws: ServerWebSocket<ChannelSocketData>) {
        ws.data.connection = hub.open(ws.data.gameId, ws.data.bearer, ws);
      },
      message(ws, message) {
        ws.data.connection?.message(typeof message === 'string' ? message : new Uint8Array(message));
      },
      close(ws) {
        ws.data.connection?.closed();
      },
    },
  };
}
