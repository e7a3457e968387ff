/**
 * The netcode server's hooks for one game session: admission, takeover, connections and payloads, with the
 * time. The game worker wires its session with these, and so do the tests that run a real netcode server, so
 * both go through the same wiring.
 */
import type { NetcodeServerEvents } from '../protocol/netcode/server.ts';
import type { GameSession } from './session.ts';

export function sessionNetcodeEvents(session: GameSession, now: () => number): Omit<NetcodeServerEvents, 'send'> {
  return {
    admit: (request) => session.admit(request),
    // A seat's player may come back from a new address (another tab, another network) while the old
    // connection still looks alive: the seat moves to the new connection at once (docs/SEATS.md).
    takeover: (existing) => session.takeover(existing.clientIndex, now()),
    onConnect: (client) => session.playerConnected(client, now()),
    onDisconnect: (client, reason) => session.playerDisconnected(client.clientIndex, now(), reason === 'replaced'),
    // The datagram's own time: read at a wake, it arrived before the wake, and its link counts an ack's hold from
    // then (the peer takes the hold off the round trip, so the ping stays network time).
    onPayload: (clientIndex, payload, receivedAt) => session.payload(clientIndex, payload, receivedAt),
  };
}
