/**
 * Under TLS, game workers still report over plain HTTP: to a second listener on loopback that answers only the
 * internal report route (bearer-token protected as ever). The public certificate names the public host, not
 * 127.0.0.1, and a worker must not be taught to skip certificate checks.
 */
import type { Server } from 'bun';
import type { ChannelSocketData, channelUpgrade } from '../internal/channel-routes.ts';
import { requestPath } from './request-url.ts';

const INTERNAL = '/internal/';

/** `channels`: the game processes' supervision channels (`--launcher process`), which are WebSockets. */
export function startReportListener(
  fetch: (request: Request) => Response | Promise<Response>,
  channels?: ReturnType<typeof channelUpgrade>,
): Server<unknown> {
  const refuse = (request: Request): Response | undefined =>
    requestPath(request).startsWith(INTERNAL)
      ? undefined
      : Response.json({ error: { code: 'not_found', message: 'this listener serves game workers only' } }, { status: 404 });
  if (!channels) return Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => refuse(request) ?? fetch(request) });
  const server = Bun.serve<ChannelSocketData>({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request, bunServer) {
      const refusal = refuse(request);
      if (refusal) return refusal;
      const channel = channels.fetch(request, bunServer);
      // After an upgrade Bun wants no response.
      if (channel === 'upgraded') return undefined as unknown as Response;
      return channel ?? fetch(request);
    },
    websocket: channels.websocket,
  });
  return server as unknown as Server<unknown>;
}
