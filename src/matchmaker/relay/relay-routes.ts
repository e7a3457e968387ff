import { Elysia, t } from 'elysia';
import { errorBody } from '../errors.ts';
import { clientAddressOf } from '../edge/origin.ts';
import type { Relay } from './relay.ts';
import type { RelayTunnel } from './tunnel.ts';

/**
 * `GET /relay?game=<gameId>`: the WebSocket tunnel to a live game's UDP port. A thin Elysia layer over Relay:
 * the game is checked before the upgrade (a clear HTTP 4xx with the JSON error shape), then each accepted
 * WebSocket gets a tunnel. Mount it with `.use(relayRoutes(relay))`.
 */
export function relayRoutes(relay: Relay) {
  // Keyed by Bun's socket object, which is the same for every event of one connection.
  const tunnels = new WeakMap<object, RelayTunnel>();

  // No plugin name: Elysia would dedupe by it, and two relays (tests, several apps) must stay distinct.
  return new Elysia()
    // A local hook runs once, before the upgrade: refusing here answers with a real HTTP status and body.
    // (Elysia only routes requests that ask for an upgrade to a .ws() route; a plain GET is the app's 404.)
    .onBeforeHandle(({ query, status }) => {
      const admission = relay.admit(query.game);
      if (admission.ok) return undefined;
      relay.refused(admission.reason);
      return admission.reason === 'unknown_game'
        ? status(404, errorBody('not_found', admission.message))
        : status(400, errorBody('bad_request', admission.message));
    })
    .ws('/relay', {
      query: t.Object({ game: t.Optional(t.String({ description: 'Id of the live game to reach' })) }),
      detail: {
        tags: ['relay'],
        summary: 'Datagram tunnel to a live game',
        description:
          'WebSocket upgrade. Each binary frame is one netcode datagram, forwarded unchanged to the game\'s UDP port ' +
          'and back. Text frames close the socket (4400); frames over the netcode maximum are dropped; frames are rate ' +
          'limited (4429 on a sustained flood). Closes with 4410 when the game ends, 4408 when idle, 4503 at capacity. ' +
          'Refused before the upgrade: 400 without a game id, 404 for a game that is not live.',
      },
      open(ws) {
        // The client address counts against the per-address share of tunnels: the same address the API limits by
        // (the edge resolved it at the upgrade request, the forwarded one only from a trusted proxy).
        const tunnel = relay.open(ws.data.query.game ?? '', ws.raw, clientAddressOf(ws.data.request) ?? ws.raw.remoteAddress);
        if (tunnel !== undefined) tunnels.set(ws.raw, tunnel);
      },
      message(ws, message: unknown) {
        const tunnel = tunnels.get(ws.raw);
        if (tunnel === undefined) return;
        // Binary frames arrive as Buffer; text frames arrive as whatever Elysia parsed them into.
        if (message instanceof Uint8Array) tunnel.fromClient(message);
        else tunnel.textFrame();
      },
      close(ws) {
        tunnels.get(ws.raw)?.close('client_closed');
        tunnels.delete(ws.raw);
      },
    });
}
