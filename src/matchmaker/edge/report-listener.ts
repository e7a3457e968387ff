/**
 * Under TLS, game workers still report over plain HTTP: to a second listener on loopback that answers only the
 * internal report route (bearer-token protected as ever). The public certificate names the public host, not
 * 127.0.0.1, and a worker must not be taught to skip certificate checks.
 */
import type { Server } from 'bun';
import { requestPath } from './request-url.ts';

const INTERNAL = '/internal/';

export function startReportListener(fetch: (request: Request) => Response | Promise<Response>): Server<undefined> {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      if (!requestPath(request).startsWith(INTERNAL)) {
        return Response.json({ error: { code: 'not_found', message: 'this listener serves game workers only' } }, { status: 404 });
      }
      return fetch(request);
    },
  });
}
