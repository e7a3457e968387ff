/** The web client's ending reasons for each netcode state that ends a connection (client/endings.ts). */
import { describe, expect, test } from 'bun:test';
import { describeEnd, reasonFromNetcode } from '../../client/endings.ts';
import { ClientState } from '../../src/protocol/netcode/client.ts';

describe('reasonFromNetcode', () => {
  test('each ending state has its reason, and every reason reads as a sentence', () => {
    const cases: [ClientState, string][] = [
      [ClientState.ConnectTokenExpired, 'token-expired'],
      [ClientState.InvalidConnectToken, 'invalid-token'],
      [ClientState.ConnectionTimedOut, 'timed-out'],
      [ClientState.ConnectionRequestTimedOut, 'handshake-timeout'],
      [ClientState.ConnectionResponseTimedOut, 'handshake-timeout'],
      [ClientState.ConnectionDenied, 'denied'],
      [ClientState.Disconnected, 'closed'],
    ];
    for (const [state, reason] of cases) {
      expect(reasonFromNetcode(state)).toBe(reason as ReturnType<typeof reasonFromNetcode>);
      expect(describeEnd(reasonFromNetcode(state))).toMatch(/^[A-Z].*\.$/);
    }
  });
});
